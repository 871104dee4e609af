"""Differential conformance: the suite's request program sent to a reference and a candidate, the answers compared.

The program is what a run sends for a seed and a profile (``capture``), with what targets assign (the ids of the
objects a step created, the run tag) as symbols; ``replay`` sends it to any target, binding the symbols to that
target's ids. Two passes against the reference teach the noise (``noise``), ``normalise`` holds the documented
rules, ``compare`` finds the divergences, ``cassette`` saves a program with the reference's answers, ``report``
writes ``diff.json`` (the source of truth of a diff), the console table and an Allure view.
"""
