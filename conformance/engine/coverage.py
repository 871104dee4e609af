"""Contract coverage: which parts of the PATCH operation a run exercised, derived from the fragment.

The items are read from the run's ``Contract`` (nothing is listed by hand), so a revision with more enum
members or more properties simply has more items:

* ``value``: each writable property of the PATCH body × each documented kind of value: every enum member
  (``""`` and ``null`` where the enum holds them), ``null`` where the type allows it, ``{}`` where an empty
  object is a branch, the maxLength boundary (N accepted, N+1 over), a plain string / integer / any value,
  and inside object-valued properties every enum member of their properties (the filter ``op`` and group
  ``operator``) and each schema nested in itself (a group inside a group);
* ``read-only``: each read-only property, sent in a PATCH body (the target must ignore it);
* ``status``: each status code the PATCH operation documents, as the target answered it;
* ``operation``: each supporting operation, used by any part of the run (cases, fixtures, preflight, cleanup).

``x-cekura-later-values`` are not enum members of the revision that lists them that way: they are not items,
and sending one counts for nothing (the revision whose fragment makes them members gets them as items).

The figure (``percent``) counts what the suite decides to send: ``value`` and ``read-only`` items. Status codes
are the target's choice (413 comes from a proxy, 429 from a rate limit) and the supporting operations are a
means, not the subject: both are reported beside the figure, never in it.

The collector is fed by the HTTP seam (``Target.observers``) with every request the run sends and its answer,
from any thread; it holds a lock, and its report is in the fragment's order with sorted attributions, never in
arrival order.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import Contract, Operation
from conformance.engine.target import Sent

VALUE, READ_ONLY, STATUS, OPERATION = "value", "read-only", "status", "operation"
COUNTED = (VALUE, READ_ONLY)  # what the figure counts: what the suite chooses to send
BY_LIMIT = 8  # attributions kept per item (the first ones in sorted order; the rest are counted)
_SCHEMA_REF = re.compile(r"^#/components/schemas/([^/]+)$")
_TENANTS = ("primary", "other")  # a body sent with no key or a wrong one is never read by the target


@dataclass(frozen=True)
class Item:
    key: str  # what a reader sees: 'aggregation_function=null', 'filters op=isnull', 'name: 256 characters'
    kind: str  # VALUE, READ_ONLY, STATUS or OPERATION
    field: str = ""  # the body property (value, read-only), the status code, or the operation id


def _member(value: Any) -> str:
    """An enum member as a reader writes it: bare words, but "" and null and numbers as JSON."""
    if isinstance(value, str) and value and value.strip() == value and not value[0].isdigit():
        return value
    return json.dumps(value, ensure_ascii=False)


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _same(a: Any, b: Any) -> bool:
    """JSON equality: ``1`` is not ``true``, ``0`` is not ``false``."""
    return _json_type(a) == _json_type(b) and a == b


class Shapes:
    """Walks a property's schema (through ``$ref``, ``anyOf``, ``oneOf``, ``allOf``) to name its kinds of value."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        # Keyed by the identity of the fragment's own schema objects: every request body is walked.
        self._leaves: dict[tuple[int, tuple[str, ...]], list[tuple[Mapping[str, Any], tuple[str, ...]]]] = {}

    def leaves(
        self, schema: Mapping[str, Any], stack: tuple[str, ...]
    ) -> list[tuple[Mapping[str, Any], tuple[str, ...]]]:
        key = (id(schema), stack)
        found = self._leaves.get(key)
        if found is None:
            found = self._leaves[key] = list(self._walk(schema, stack))
        return found

    def _walk(
        self, schema: Mapping[str, Any], stack: tuple[str, ...]
    ) -> Iterator[tuple[Mapping[str, Any], tuple[str, ...]]]:
        """The schema's alternatives with no composition left, each with the named schemas passed to reach it."""
        ref = schema.get("$ref")
        if isinstance(ref, str):
            match = _SCHEMA_REF.match(ref)
            named = (*stack, match.group(1)) if match else stack
            target = self.contract.resolve(ref)
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            yield from self._walk({**target, **siblings} if siblings else target, named)
            return
        branches = [b for key in ("anyOf", "oneOf", "allOf") for b in schema.get(key, [])]
        own = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf", "allOf")}
        if not branches:
            yield schema, stack
            return
        if "enum" in own or "type" in own:
            yield own, stack
        for branch in branches:
            yield from self._walk(branch, stack)

    # -- what a property documents -------------------------------------------------------------------------
    def expected(self, name: str, schema: Mapping[str, Any]) -> list[str]:
        keys: list[str] = []

        def add(key: str) -> None:
            if key not in keys:
                keys.append(key)

        for leaf, stack in self.leaves(schema, ()):
            if "enum" in leaf:
                for member in leaf["enum"]:
                    add(f"{name}={_member(member)}")
                continue
            types = _types(leaf)
            if not types:
                add(f"{name}: any value")
            for kind in types:
                if kind == "null":
                    add(f"{name}=null")
                elif kind == "boolean":
                    add(f"{name}=true")
                    add(f"{name}=false")
                elif kind in ("integer", "number"):
                    add(f"{name}: {'an integer' if kind == 'integer' else 'a number'}")
                elif kind == "string":
                    add(f"{name}: a string")
                    if isinstance(leaf.get("maxLength"), int):
                        add(f"{name}: {leaf['maxLength']} characters")
                        add(f"{name}: {leaf['maxLength'] + 1} characters")
                elif kind == "object" and leaf.get("maxProperties") == 0:
                    add(f"{name}={{}}")
                elif kind in ("object", "array"):
                    for key in self._inner_expected(name, leaf, stack):
                        add(key)
        return keys

    def _inner_expected(self, name: str, schema: Mapping[str, Any], stack: tuple[str, ...]) -> list[str]:
        """Inside an object or array: each enum member of its properties, and each schema nested in itself."""
        keys: list[str] = []
        children: list[tuple[str, Mapping[str, Any]]] = list(schema.get("properties", {}).items())
        if isinstance(schema.get("items"), Mapping):
            children.append(("", schema["items"]))
        for prop, sub in children:
            for leaf, inner in self.leaves(sub, stack):
                if len(inner) > len(stack) and inner[-1] in stack:
                    keys.append(f"{name}: nested {inner[-1]}")
                    continue
                if "enum" in leaf and prop:
                    keys += [f"{name} {prop}={_member(m)}" for m in leaf["enum"]]
                elif set(_types(leaf)) & {"object", "array"}:
                    keys += self._inner_expected(name, leaf, inner)
        return list(dict.fromkeys(keys))

    # -- what a sent value exercised -----------------------------------------------------------------------
    def observed(self, name: str, schema: Mapping[str, Any], value: Any) -> set[str]:
        found: set[str] = set()
        kind = _json_type(value)
        for leaf, stack in self.leaves(schema, ()):
            if "enum" in leaf:
                found |= {f"{name}={_member(m)}" for m in leaf["enum"] if _same(m, value)}
                continue
            types = _types(leaf)
            if not types:
                found.add(f"{name}: any value")
            if kind not in types and not (kind == "integer" and "number" in types):
                continue
            if kind == "null":
                found.add(f"{name}=null")
            elif kind == "boolean":
                found.add(f"{name}={_member(value)}")
            elif kind in ("integer", "number"):
                found.add(f"{name}: {'an integer' if 'integer' in types and kind == 'integer' else 'a number'}")
            elif kind == "string":
                limit = leaf.get("maxLength")
                if not isinstance(limit, int) or len(value) <= limit:
                    found.add(f"{name}: a string")
                if isinstance(limit, int) and len(value) in (limit, limit + 1):
                    found.add(f"{name}: {len(value)} characters")
            elif kind == "object" and leaf.get("maxProperties") == 0:
                if value == {}:
                    found.add(f"{name}={{}}")
            elif kind in ("object", "array") and self._valid(leaf, value):
                found |= self._inner_observed(name, leaf, stack, value)
        return found

    def _inner_observed(self, name: str, schema: Mapping[str, Any], stack: tuple[str, ...], value: Any) -> set[str]:
        found: set[str] = set()
        children: list[tuple[str, Mapping[str, Any], Any]] = []
        if isinstance(value, dict):
            props = schema.get("properties", {})
            children += [(prop, props[prop], sub) for prop, sub in value.items() if prop in props]
        if isinstance(value, list) and isinstance(schema.get("items"), Mapping):
            children += [("", schema["items"], element) for element in value]
        for prop, sub, element in children:
            for leaf, inner in self.leaves(sub, stack):
                if "enum" in leaf:
                    if prop:
                        found |= {f"{name} {prop}={_member(m)}" for m in leaf["enum"] if _same(m, element)}
                    continue
                if _json_type(element) not in ("object", "array") or not self._valid(leaf, element):
                    continue
                if len(inner) > len(stack) and inner[-1] in stack:
                    found.add(f"{name}: nested {inner[-1]}")
                    inner = stack  # counted once; what it holds is still walked
                found |= self._inner_observed(name, leaf, inner, element)
        return found

    def _valid(self, schema: Mapping[str, Any], value: Any) -> bool:
        """Whether a sent object or array is of this shape: its required keys there, the enum-valued ones among
        its keys holding members. Shallow on purpose: what it holds is walked on its own (a full validation at
        each level of a nested filter would make a body's walk quadratic)."""
        if isinstance(value, list):
            return "array" in _types(schema)
        if not isinstance(value, dict) or not set(schema.get("required", ())) <= value.keys():
            return False
        props = schema.get("properties", {})
        for key, element in value.items():
            if key in props:
                members = [m for leaf, _ in self.leaves(props[key], ()) for m in leaf.get("enum", ())]
                if members and not any(_same(m, element) for m in members):
                    return False
        return True


def primary_operation(contract: Contract) -> Operation:
    """The operation the suite is about (``x-cekura-primary``)."""
    return next(op for op in contract.operations() if op.spec.get("x-cekura-primary"))


def _path_pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$")


def derive(contract: Contract) -> list[Item]:
    """Every coverage item of the contract's primary operation, in the fragment's order."""
    op = primary_operation(contract)
    shapes = Shapes(contract)
    items: list[Item] = []
    body = op.request_schema
    if body is not None:
        props = contract.properties(body)
        for name, schema in props.items():
            if not schema.get("readOnly"):
                items += [Item(key, VALUE, name) for key in shapes.expected(name, schema)]
        items += [Item(f"{name} (read-only) sent", READ_ONLY, name) for name, s in props.items() if s.get("readOnly")]
    for code in op.spec.get("responses", {}):
        items.append(Item(f"{op.method} answered {code}", STATUS, str(code)))
    for other in contract.operations():
        if other.supporting:
            items.append(Item(f"{other.method} {other.path} ({other.operation_id})", OPERATION, other.operation_id))
    return items


@dataclass
class _Seen:
    by: set[str] = field(default_factory=set)
    answers: Counter[str] = field(default_factory=Counter)


class Collector:
    """Fed with every request of the run (any thread); reports which items were exercised, by whom, and the answers."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.items = derive(contract)
        self._shapes = Shapes(contract)
        self._primary = primary_operation(contract)
        self._primary_path = _path_pattern(self._primary.path)
        self._body = contract.properties(self._primary.request_schema) if self._primary.request_schema else {}
        self._operations = [
            (op.method, _path_pattern(op.path), f"{op.method} {op.path} ({op.operation_id})")
            for op in contract.operations()
            if op.supporting
        ]
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def observe(self, sent: Sent) -> None:
        keys = self._keys(sent)
        if not keys:
            return
        answer = str(sent.status)
        with self._lock:
            for key in keys:
                seen = self._seen.setdefault(key, _Seen())
                seen.by.add(sent.activity)
                seen.answers[answer] += 1

    def _keys(self, sent: Sent) -> set[str]:
        method = sent.method.upper()
        keys = {name for m, pattern, name in self._operations if m == method and pattern.match(sent.path)}
        if method != self._primary.method or not self._primary_path.match(sent.path):
            return keys
        keys.add(f"{method} answered {sent.status}")
        if sent.tenant not in _TENANTS:
            return keys
        try:
            body = json.loads(sent.content) if sent.content else None
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict):
            return keys
        for name, value in body.items():
            schema = self._body.get(name)
            if schema is None:
                continue
            if schema.get("readOnly"):
                keys.add(f"{name} (read-only) sent")
            else:
                keys |= self._shapes.observed(name, schema, value)
        return keys

    def report(self) -> dict[str, Any]:
        """The coverage map for ``summary.json``: the figure, what is missing, and every item."""
        with self._lock:
            seen = {key: (sorted(s.by), dict(sorted(s.answers.items()))) for key, s in self._seen.items()}
        rows = []
        for item in self.items:
            by, answers = seen.get(item.key, ([], {}))
            rows.append(
                {
                    "item": item.key,
                    "kind": item.kind,
                    "field": item.field,
                    "covered": bool(by),
                    "by": by[:BY_LIMIT],
                    "more": max(0, len(by) - BY_LIMIT),
                    "answers": answers,
                }
            )
        counted = [r for r in rows if r["kind"] in COUNTED]
        covered = sum(1 for r in counted if r["covered"])
        return {
            "operation": f"{self._primary.method} {self._primary.path}",
            "contract_version": self.contract.version,
            "percent": round(100.0 * covered / len(counted), 1) if counted else 100.0,
            "covered": covered,
            "total": len(counted),
            "missing": [r["item"] for r in counted if not r["covered"]],
            "statuses": {
                "documented": [r["field"] for r in rows if r["kind"] == STATUS],
                "never_answered": [r["field"] for r in rows if r["kind"] == STATUS and not r["covered"]],
            },
            "operations_unused": [r["field"] for r in rows if r["kind"] == OPERATION and not r["covered"]],
            "items": rows,
        }


def figure(coverage: Mapping[str, Any]) -> str:
    """'100%' or '96.4%': the percent as a reader writes it."""
    percent = float(coverage.get("percent", 0.0))
    return f"{percent:.0f}%" if percent == int(percent) else f"{percent:.1f}%"
