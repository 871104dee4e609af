"""Noise: what differs between two passes over the reference, learned per step and JSON path (as Diffy does).

Two passes of the same program against the same known-good reference can only differ by what the reference
does not determine: a clock, an id it assigns from a shared counter, a list that other clients change. A
divergence between the reference and the candidate at such a place says nothing, so it is set aside as noise,
by step: the same path is still compared in every step where the reference was stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conformance.differential.compare import differences, matches
from conformance.differential.program import Answer

Noise = dict[int, list[str]]  # step index -> paths that differed between the reference's passes


def learn(first: Sequence[Answer], second: Sequence[Answer]) -> Noise:
    """The places each step's answers differ between two passes over the reference."""
    noise: Noise = {}
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        paths = [d.path for d in differences(index, a, b)]
        if paths:
            noise[index] = paths
    for index in range(min(len(first), len(second)), max(len(first), len(second))):
        noise[index] = ["*"]  # a pass that stopped early: nothing after it is known to be stable
    return noise


def covers(noise: Mapping[int, Sequence[str]], step: int, path: str) -> bool:
    paths = noise.get(step)
    return bool(paths) and matches(path, paths or ()) is not None


def as_json(noise: Mapping[int, Sequence[str]]) -> dict[str, list[str]]:
    return {str(step): list(paths) for step, paths in sorted(noise.items())}


def from_json(data: Mapping[str, Sequence[str]]) -> Noise:
    return {int(step): [str(p) for p in paths] for step, paths in data.items()}
