"""The filter language's two computations: the AND merge and the group nesting depth."""

from __future__ import annotations

from typing import Any

JSON = Any


def is_empty(node: JSON) -> bool:
    """``null`` and ``{}`` both mean "no filter"."""
    return node is None or node == {}


def merge_and(dashboard: JSON, widget: JSON) -> JSON:
    """The documented effective filter: one side empty gives the other, both give an AND, dashboard first."""
    if is_empty(dashboard) and is_empty(widget):
        return {}
    if is_empty(dashboard):
        return widget
    if is_empty(widget):
        return dashboard
    return {"operator": "and", "conditions": [dashboard, widget]}


def group_depth(node: JSON) -> int:
    """How many groups are nested on the deepest path (a lone condition is 0, a flat group 1).

    Iterative, so a hostile body nested thousands deep costs no recursion.
    """
    deepest = 0
    stack: list[tuple[JSON, int]] = [(node, 0)]
    while stack:
        current, depth = stack.pop()
        if not isinstance(current, dict):
            continue
        children = current.get("conditions")
        if not isinstance(children, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest
