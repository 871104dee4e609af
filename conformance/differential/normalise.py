"""The documented normalisation rules: what two answers may differ in and still say the same thing.

Each answer becomes a flat view, one entry per place a divergence is reported at: ``status``,
``header:Content-Type``, ``header:Allow`` and the body by JSON path (``$.widgets[0].id``; a body that is not JSON
is one value at ``$``). The rules (``RULES``, listed in every ``diff.json``):

* key order: objects compare as mappings, so the order of keys is never a divergence;
* numbers: ``1`` and ``1.0`` are the same number (JSON does not distinguish them; ``true`` stays apart from ``1``);
* filters: the values of ``filters`` and ``effective_filters`` compare in the catalogue's canonical form
  (``engine.expectations.normalise_filter``: empty is null, ``and`` groups flattened and unwrapped when of one),
  the one the catalogue's own comparisons use; a group holding an empty condition is not an encoding (it breaks
  the schema) and compares as it is;
* Content-Type: compared case-insensitively, without spaces around parameters;
* Allow: compared as a set of methods (the order of the list is not a divergence).

Ids, the run tag and timestamps are symbols already (``symbols.Pass``), not rules.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.differential.program import Answer
from conformance.engine.expectations import normalise_filter

STATUS = "status"
CONTENT_TYPE = "header:Content-Type"
ALLOW = "header:Allow"
BODY = "$"
FILTER_KEYS = frozenset({"filters", "effective_filters"})
_INDEX = re.compile(r"\[\d+\]")

RULES: tuple[dict[str, str], ...] = (
    {"name": "key-order", "description": "objects compare as mappings: the order of keys is never a divergence"},
    {"name": "numbers", "description": "1 and 1.0 are the same number (booleans stay apart from numbers)"},
    {
        "name": "filters",
        "description": "filters and effective_filters compare in the catalogue's canonical form "
        "(empty is null, `and` groups flattened and unwrapped when of one)",
    },
    {"name": "content-type", "description": "Content-Type compared case-insensitively, without spaces"},
    {"name": "allow", "description": "Allow compared as a set of methods"},
    {
        "name": "symbols",
        "description": "ids the target assigned (also in DRF's `Invalid pk` messages), the run tag and the "
        "timestamps it stamps compare as symbols (widget#3: the third widget the program created; time#2: the "
        "second distinct instant among that object's timestamps, in its written shape)",
    },
)


def general(path: str) -> str:
    """A path with its array indices as ``[*]``: the key divergences are aggregated and ignored by."""
    return _INDEX.sub("[*]", path)


def view(answer: Answer) -> dict[str, Any]:
    """The answer as place -> comparable value."""
    flat: dict[str, Any] = {STATUS: answer.status}
    flat[CONTENT_TYPE] = _content_type(answer.content_type)
    flat[ALLOW] = _allow(answer.allow)
    if answer.kind == "json":
        _flatten(_canonical(answer.value, None), BODY, flat)
    elif answer.kind == "empty":
        flat[BODY] = None
    else:
        flat[BODY] = f"<{answer.kind}> {answer.value}"
    return flat


def _content_type(value: str | None) -> str | None:
    return None if value is None else re.sub(r"\s+", "", value.lower())


def _allow(value: str | None) -> str | None:
    if value is None:
        return None
    return ", ".join(sorted({m.strip().upper() for m in value.split(",") if m.strip()}))


def _canonical(value: Any, key: str | None) -> Any:
    if key in FILTER_KEYS and not _empty_member(value):
        value = normalise_filter(value)
    if isinstance(value, dict):
        return {k: _canonical(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v, None) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _empty_member(tree: Any) -> bool:
    """A group with an empty (null or {}) condition is no encoding of a filter (it breaks the schema): such a
    tree compares as it was sent, not in the canonical form that would drop the empty member."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict) and isinstance(node.get("conditions"), list):
            if any(child is None or child == {} for child in node["conditions"]):
                return True
            stack.extend(node["conditions"])
    return False


def _flatten(value: Any, path: str, into: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if _plain(key) else f"{path}[{_quoted(key)}]", into)
    elif isinstance(value, list) and value:
        for index, inner in enumerate(value):
            _flatten(inner, f"{path}[{index}]", into)
    else:
        into[path] = _leaf(value)


def _leaf(value: Any) -> Any:
    """Booleans apart from numbers (True == 1 in Python); empty containers as themselves."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, dict | list):
        return ("empty", type(value).__name__)
    return value


def _plain(key: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key))


def _quoted(key: str) -> str:
    import json

    return json.dumps(key)
