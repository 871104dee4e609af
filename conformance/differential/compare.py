"""Divergences between two answers to the same step: status, Content-Type, Allow and the body by JSON path."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.differential.normalise import general, view
from conformance.differential.program import Answer

MISSING = "<absent>"
RAW_BODIES = ("<text> ", "<bytes> ")  # normalise.view's form of a body that is not JSON


@dataclass(frozen=True)
class Divergence:
    step: int
    path: str  # "status", "header:Allow", "$.widgets[0].name"
    reference: Any
    candidate: Any

    @property
    def general(self) -> str:
        return general(self.path)

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "reference": shown(self.reference), "candidate": shown(self.candidate)}


def shown(value: Any, limit: int = 300) -> str:
    """A value as a short text (JSON where it is JSON)."""
    if value is MISSING:
        return str(MISSING)
    if isinstance(value, tuple) and len(value) == 2 and value[0] == "bool":
        value = value[1]
    elif isinstance(value, tuple) and len(value) == 2 and value[0] == "empty":
        value = {} if value[1] == "dict" else []
    raw = isinstance(value, str) and value.startswith(RAW_BODIES)  # a body that is not JSON, shown as it came
    text = str(value) if raw else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(step: int, reference: Answer, candidate: Answer) -> list[Divergence]:
    left, right = view(reference), view(candidate)
    found = []
    for path in list(left) + [p for p in right if p not in left]:
        a, b = left.get(path, MISSING), right.get(path, MISSING)
        if a != b and repr(a) != repr(b):  # repr: a NaN (Python's JSON reads it) equals itself here
            found.append(Divergence(step, path, a, b))
    return found


def matches(path: str, patterns: Iterable[str]) -> str | None:
    """The first pattern (an exact path, a general one with ``[*]``, a prefix ending in ``.*`` or a glob) that
    covers ``path``; None if none does."""
    candidates = (path, general(path))
    for pattern in patterns:
        for candidate in candidates:
            if candidate == pattern or fnmatch.fnmatchcase(candidate, pattern):
                return pattern
            if candidate.startswith(pattern) and candidate[len(pattern) : len(pattern) + 1] in (".", "["):
                return pattern
    return None


def by_step(divergences: Iterable[Divergence]) -> Mapping[int, list[Divergence]]:
    grouped: dict[int, list[Divergence]] = {}
    for divergence in divergences:
        grouped.setdefault(divergence.step, []).append(divergence)
    return grouped
