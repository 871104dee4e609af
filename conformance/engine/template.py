"""Resolve ``${...}`` templates in catalogue cases against fixtures, saved bodies and discovered values.

Two ways a template can fail, never mixed: a name the case never defines is a catalogue bug
(``TemplateError``, caught at load time by ``undefined``); a key the *target's* answer lacks
(``${before.metric_name}`` when the saved response has no ``metric_name``) is the target's failure of
the requirement the case checks (``MissingFromAnswer``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from conformance.engine.errors import ConformanceFailure, PreconditionMissing

if TYPE_CHECKING:
    from conformance.engine.catalogue import Case

_WHOLE = re.compile(r"^\$\{([^}]+)\}$")
_INNER = re.compile(r"\$\{([^}]+)\}")
# Names every case may use besides its fixtures and saved bodies; ``chars:N`` and ``str:`` are functions.
# The discovered ones (RunContext.variables) may be unknown for a target: the case is then skipped, not errored.
DISCOVERED = frozenset({"metric", "metric2", "other_metric"})
BUILTINS = frozenset({"tag", *DISCOVERED})
_FUNCTIONS = ("chars:", "str:")


class TemplateError(Exception):
    """A template names nothing the case defines (a catalogue bug)."""


class MissingFromAnswer(ConformanceFailure):
    """A template needs a key the target's answer lacks: the target failed the case's requirement."""


def lookup(expr: str, variables: Mapping[str, Any], answers: Mapping[str, str] | None = None) -> Any:
    """The value of one template expression; ``answers`` names the variables that are the target's answers
    (name -> how to call it in a message, e.g. "the response saved as before")."""
    expr = expr.strip()
    if expr.startswith("chars:"):
        return "x" * int(expr.split(":", 1)[1])
    if expr.startswith("str:"):
        return str(lookup(expr.split(":", 1)[1], variables, answers))
    head, *rest = expr.split(".")
    if head not in variables:
        raise TemplateError(f"unknown template variable {head!r} in ${{{expr}}}")
    value = variables[head]
    if value is None and head in DISCOVERED:
        raise PreconditionMissing(f"${{{expr}}} needs a {head} of the caller's (--metric-id or the metrics list)")
    for depth, key in enumerate(rest):
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        elif answers is not None and head in answers:
            field = ".".join(rest[: depth + 1])
            raise MissingFromAnswer(f"`{field}` is missing from {answers[head]} (needed by ${{{expr}}})")
        else:
            raise TemplateError(f"${{{expr}}}: {key!r} is not in {head}")
    if value is None and head in DISCOVERED:
        raise PreconditionMissing(f"${{{expr}}} is not known for this target")
    return value


def render(node: Any, variables: Mapping[str, Any], answers: Mapping[str, str] | None = None) -> Any:
    """A copy of ``node`` with every template replaced."""
    if isinstance(node, str):
        whole = _WHOLE.match(node)
        if whole:
            return lookup(whole.group(1), variables, answers)
        return _INNER.sub(lambda m: str(lookup(m.group(1), variables, answers)), node)
    if isinstance(node, list):
        return [render(v, variables, answers) for v in node]
    if isinstance(node, dict):
        return {render(k, variables, answers): render(v, variables, answers) for k, v in node.items()}
    return node


def _expressions(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield from (m.strip() for m in _INNER.findall(node))
    elif isinstance(node, list):
        for value in node:
            yield from _expressions(value)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _expressions(key)
            yield from _expressions(value)


def _root(expr: str) -> str:
    inner = expr.removeprefix("str:")
    if inner.startswith("chars:"):
        return "chars:" if re.fullmatch(r"chars:\d+", inner) else inner
    return inner.split(".", 1)[0]


def _texts(record: Any) -> Any:
    """A catalogue record's fields as plain JSON-like data (dicts, lists, text), for ``_expressions``."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: _texts(getattr(record, f.name)) for f in dataclasses.fields(record)}
    if isinstance(record, tuple | list):
        return [_texts(item) for item in record]
    if isinstance(record, Mapping):
        return {key: _texts(value) for key, value in record.items()}
    return record


def undefined(case: Case) -> list[str]:
    """Templates of a case that name nothing it defines at that point (earlier fixtures, earlier saved
    bodies, builtins): catalogue bugs, found before anything is sent."""
    known = set(BUILTINS) | {"chars:"}
    bad: list[str] = []
    for name, fixture in case.given.items():
        bad += [f"${{{e}}}" for e in _expressions(_texts(fixture.body)) if _root(e) not in known]
        known.add(name)
    for step in case.steps:
        parts = _texts({"request": step.request, "expect": step.expect})
        bad += [f"${{{e}}}" for e in _expressions(parts) if _root(e) not in known]
        same_as = step.expect.same_as
        if same_as is not None and same_as.saved not in known:
            bad.append(f"same_as {same_as.saved!r}")
        if step.save is not None:
            known.add(step.save)
    return bad
