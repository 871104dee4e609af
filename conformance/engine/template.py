"""Resolve ``${...}`` templates in catalogue cases against fixtures, saved bodies and discovered values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conformance.engine.errors import PreconditionMissing

_WHOLE = re.compile(r"^\$\{([^}]+)\}$")
_INNER = re.compile(r"\$\{([^}]+)\}")


class TemplateError(Exception):
    """A template names nothing the case defines (a catalogue bug)."""


def lookup(expr: str, variables: Mapping[str, Any]) -> Any:
    expr = expr.strip()
    if expr.startswith("chars:"):
        return "x" * int(expr.split(":", 1)[1])
    if expr.startswith("str:"):
        return str(lookup(expr.split(":", 1)[1], variables))
    head, *rest = expr.split(".")
    if head not in variables:
        raise TemplateError(f"unknown template variable {head!r} in ${{{expr}}}")
    value = variables[head]
    if value is None and head.startswith("metric"):
        raise PreconditionMissing(f"${{{expr}}} needs a {head} of the caller's (--metric-id or the metrics list)")
    for key in rest:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise TemplateError(f"${{{expr}}}: {key!r} is not in {head}")
    if value is None and head.startswith("metric"):
        raise PreconditionMissing(f"${{{expr}}} is not known for this target")
    return value


def render(node: Any, variables: Mapping[str, Any]) -> Any:
    """A copy of ``node`` with every template replaced."""
    if isinstance(node, str):
        whole = _WHOLE.match(node)
        if whole:
            return lookup(whole.group(1), variables)
        return _INNER.sub(lambda m: str(lookup(m.group(1), variables)), node)
    if isinstance(node, list):
        return [render(v, variables) for v in node]
    if isinstance(node, dict):
        return {render(k, variables): render(v, variables) for k, v in node.items()}
    return node
