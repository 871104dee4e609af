"""The filter language's one computation: the AND merge behind ``effective_filters``."""

from __future__ import annotations

from conformance._types import JSON


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
