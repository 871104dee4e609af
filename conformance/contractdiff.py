"""``cekura-conformance contract diff OLD NEW``: every change between two fragments of this endpoint, classified.

Each change is judged for two sides, in each direction it is used in (request bodies and parameters, responses):

* **clients** — programs written against OLD, calling an API that follows NEW (the question oasdiff's ``breaking``
  and Specmatic's backward-compatibility check answer). Breaking when a request valid under OLD may be refused under
  NEW (requests narrowed), or an answer valid under NEW was not valid under OLD (responses widened: a client
  switching over ``chart_type`` meets ``stat``).
* **servers** — implementations written against OLD (a server, a mock, the seed-era emulator) now held to NEW.
  Breaking when an exchange valid under OLD is invalid under NEW: a request such a server accepted must now be refused
  (requests narrowed), or an answer it gave is no longer valid (responses narrowed, e.g. a new required response
  field). Compatible means the server only has to add: accept ``stat``, store ``group_by``.

Changes are compared structurally, ``$ref`` followed, and reported once where they sit in NEW (a component such as
``#/components/schemas/ChartTypeEnum``), with every operation and direction that reaches them. Descriptions, examples
and ``x-`` annotations are documentation and not listed (as in oasdiff's changelog); JSON Schema keywords this
module does not know are reported as ``keyword-changed``, breaking for both sides.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from conformance import contract as contract_module
from conformance._types import JSON
from conformance.contract import Contract

SIDES = ("clients", "servers")
DIRECTIONS = ("request", "response")
COMPATIBLE, BREAKING = "compatible", "breaking"
METHODS = ("get", "put", "post", "patch", "delete", "options", "head", "trace")

#: Keywords that describe, not constrain: never a change of the contract.
DOCUMENTATION = frozenset(
    {"description", "summary", "title", "examples", "example", "$comment", "deprecated", "externalDocs"}
)
#: Keywords compared one by one below; anything else that differs is ``keyword-changed``.
HANDLED = frozenset(
    {
        "$ref", "type", "enum", "const", "properties", "required", "additionalProperties", "items", "anyOf",
        "oneOf", "allOf", "readOnly", "writeOnly", "default", "format", "pattern",
        "maxLength", "minLength", "maximum", "minimum", "exclusiveMaximum", "exclusiveMinimum",
        "maxItems", "minItems", "maxProperties", "minProperties", "uniqueItems",
    }
)  # fmt: skip
#: Upper bounds (lowering one narrows) and lower bounds (raising one narrows).
UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")


class DiffError(ValueError):
    """OLD or NEW cannot be compared (not a revision name, not a readable OpenAPI fragment, an external $ref)."""


@dataclass(frozen=True)
class Verdict:
    verdict: str  # "compatible" or "breaking"
    reason: str


# What a kind of change does to the set of valid messages, and what that means for each side ----------------------

_WIDENS = {
    "request": (
        Verdict(COMPATIBLE, "every request valid before is still valid"),
        Verdict(COMPATIBLE, "what a server accepted stays valid; it only accepts more"),
    ),
    "response": (
        Verdict(BREAKING, "a client may receive what it never had to handle (one that switches over values breaks)"),
        Verdict(COMPATIBLE, "every answer a server gave is still valid"),
    ),
}
_NARROWS = {
    "request": (
        Verdict(BREAKING, "a request valid before may now be refused"),
        Verdict(BREAKING, "a request a server accepted must now be refused"),
    ),
    "response": (
        Verdict(COMPATIBLE, "a client receives nothing it did not handle before"),
        Verdict(BREAKING, "an answer a server gave may no longer be valid"),
    ),
}
_INCOMPARABLE = {
    direction: (
        Verdict(BREAKING, "values valid before may be invalid now, and the reverse"),
        Verdict(BREAKING, "values valid before may be invalid now, and the reverse"),
    )
    for direction in DIRECTIONS
}
_ANNOTATION = {
    direction: (
        Verdict(COMPATIBLE, "an annotation: no request or answer changes validity"),
        Verdict(COMPATIBLE, "an annotation: no request or answer changes validity (it says what to store)"),
    )
    for direction in DIRECTIONS
}
_NEW_OPTIONAL = {
    "request": (
        Verdict(COMPATIBLE, "an optional key a client of OLD never sends"),
        Verdict(COMPATIBLE, "requests without it stay valid; a server of OLD ignores it as an unknown key"),
    ),
    "response": (
        Verdict(COMPATIBLE, "a key a client of OLD ignores"),
        Verdict(COMPATIBLE, "answers without it stay valid"),
    ),
}
_REMOVED = {
    "request": (
        Verdict(BREAKING, "what a client sends under this name is no longer applied (DRF ignores unknown keys)"),
        Verdict(COMPATIBLE, "requests that carry it stay valid"),
    ),
    "response": (
        Verdict(COMPATIBLE, "an optional key a client could not count on"),
        Verdict(COMPATIBLE, "an answer that still carries it stays valid"),
    ),
}
_REMOVED_REQUIRED_RESPONSE = (
    Verdict(BREAKING, "a client counts on a required key that answers may now leave out"),
    Verdict(COMPATIBLE, "answers that carry it stay valid"),
)
_READ_ONLY_SET = {
    "request": (
        Verdict(BREAKING, "what a client sends is now ignored"),
        Verdict(COMPATIBLE, "a server that applied it may stop applying it"),
    ),
    "response": _ANNOTATION["response"],
}
_READ_ONLY_UNSET = {
    "request": (
        Verdict(COMPATIBLE, "a client of OLD never relied on sending it"),
        Verdict(BREAKING, "a server that ignored it must now apply it"),
    ),
    "response": _ANNOTATION["response"],
}
_OPERATION_ADDED = {
    d: (Verdict(COMPATIBLE, "a new operation"), Verdict(COMPATIBLE, "a new operation to add")) for d in DIRECTIONS
}
_MEDIA_ADDED_RESPONSE = (
    Verdict(COMPATIBLE, "a client asks (Accept) for the media types it reads"),
    Verdict(COMPATIBLE, "answers in the other media types stay valid"),
)
_MEDIA_REMOVED_RESPONSE = (
    Verdict(BREAKING, "a client reading this media type no longer gets it"),
    Verdict(BREAKING, "an answer a server gave in it is no longer described"),
)
_OPERATION_REMOVED = {
    d: (Verdict(BREAKING, "a client calling it loses it"), Verdict(COMPATIBLE, "a server may keep serving it"))
    for d in DIRECTIONS
}
_STATUS_ADDED = {
    d: (
        Verdict(COMPATIBLE, "a client handles a status it does not know by its class"),
        Verdict(COMPATIBLE, "answers with the other statuses stay valid"),
    )
    for d in DIRECTIONS
}
_SUCCESS_REMOVED = {
    d: (
        Verdict(BREAKING, "a client waits for a success answer that no longer comes"),
        Verdict(BREAKING, "an answer a server gave with this status is no longer described"),
    )
    for d in DIRECTIONS
}
_OTHER_STATUS_REMOVED = {
    d: (
        Verdict(COMPATIBLE, "an error answer a client will no longer get"),
        Verdict(BREAKING, "an answer a server gave with this status is no longer described"),
    )
    for d in DIRECTIONS
}

#: kind -> (effect table, oasdiff check ids by direction, the Specmatic rule where one speaks to it).
KINDS: dict[str, tuple[Mapping[str, tuple[Verdict, Verdict]], Mapping[str, str], str]] = {
    "enum-value-added": (
        _WIDENS,
        {"request": "request-property-enum-value-added", "response": "response-property-enum-value-added"},
        "",
    ),
    "enum-value-removed": (
        _NARROWS,
        {"request": "request-property-enum-value-removed", "response": "response-property-enum-value-removed"},
        "",
    ),
    "property-added": (
        _NEW_OPTIONAL,
        {"request": "new-optional-request-property", "response": "response-optional-property-added"},
        "add an optional key: compatible (requests and responses)",
    ),
    "required-property-added": (
        _NARROWS,
        {"request": "new-required-request-property", "response": "response-required-property-added"},
        "add a mandatory key: incompatible in requests, compatible in responses",
    ),
    "property-removed": (
        _REMOVED,
        {"request": "request-property-removed", "response": "response-optional-property-removed"},
        "remove a key: compatible in requests (the server ignores it), an optional one compatible in responses",
    ),
    "required-property-removed": (
        {"request": _REMOVED["request"], "response": _REMOVED_REQUIRED_RESPONSE},
        {"request": "request-property-removed", "response": "response-required-property-removed"},
        "remove a mandatory key: incompatible in responses",
    ),
    "property-became-required": (
        _NARROWS,
        {"request": "request-property-became-required", "response": "response-property-became-required"},
        "optional key becomes mandatory: incompatible in requests, compatible in responses",
    ),
    "property-became-optional": (
        _WIDENS,
        {"request": "request-property-became-optional", "response": "response-property-became-optional"},
        "mandatory key becomes optional: compatible in requests, incompatible in responses",
    ),
    "became-nullable": (
        _WIDENS,
        {"request": "request-property-became-nullable", "response": "response-property-became-nullable"},
        "values made nullable: incompatible in responses",
    ),
    "became-not-nullable": (
        _NARROWS,
        {"request": "request-property-became-not-nullable", "response": "response-property-became-not-nullable"},
        "values made non-nullable: incompatible in requests",
    ),
    "type-widened": (
        _WIDENS,
        {"request": "request-property-type-generalized", "response": "response-property-type-changed"},
        "do not change value types",
    ),
    "type-narrowed": (
        _NARROWS,
        {"request": "request-property-type-changed", "response": "response-property-type-changed"},
        "do not change value types",
    ),
    "type-changed": (
        _INCOMPARABLE,
        {"request": "request-property-type-changed", "response": "response-property-type-changed"},
        "do not change value types",
    ),
    "bound-relaxed": (_WIDENS, {}, ""),  # oasdiff's ids name the keyword: see ``_bound_check``
    "bound-tightened": (_NARROWS, {}, ""),
    "pattern-added": (_NARROWS, {"request": "request-property-pattern-added", "response": ""}, ""),
    "pattern-removed": (_WIDENS, {"request": "request-property-pattern-removed", "response": ""}, ""),
    "pattern-changed": (_INCOMPARABLE, {"request": "request-property-pattern-changed", "response": ""}, ""),
    "additional-properties-forbidden": (_NARROWS, {}, ""),
    "additional-properties-allowed": (_WIDENS, {}, ""),
    "alternative-added": (_WIDENS, {}, ""),
    "alternative-removed": (_NARROWS, {}, ""),
    "constraint-added": (_NARROWS, {}, ""),
    "constraint-removed": (_WIDENS, {}, ""),
    "became-read-only": (_READ_ONLY_SET, {}, ""),
    "became-writable": (_READ_ONLY_UNSET, {}, ""),
    "default-added": (
        _ANNOTATION,
        {"request": "request-property-default-value-added", "response": "response-property-default-value-added"},
        "",
    ),
    "default-changed": (_ANNOTATION, {"request": "request-property-default-value-changed", "response": ""}, ""),
    "default-removed": (_ANNOTATION, {"request": "request-property-default-value-removed", "response": ""}, ""),
    "keyword-changed": (_INCOMPARABLE, {}, ""),
    "operation-added": (_OPERATION_ADDED, {"request": "endpoint-added", "response": "endpoint-added"}, ""),
    "operation-removed": (
        _OPERATION_REMOVED,
        {"request": "api-removed-without-deprecation", "response": "api-removed-without-deprecation"},
        "",
    ),
    "parameter-added": (_NEW_OPTIONAL, {"request": "new-optional-request-parameter"}, ""),
    "required-parameter-added": (_NARROWS, {"request": "new-required-request-parameter"}, ""),
    "parameter-removed": (_REMOVED, {"request": "request-parameter-removed"}, ""),
    "parameter-became-required": (_NARROWS, {"request": "request-parameter-became-required"}, ""),
    "parameter-became-optional": (_WIDENS, {"request": "request-parameter-became-optional"}, ""),
    "request-body-became-required": (_NARROWS, {"request": "request-body-became-required"}, ""),
    "request-body-became-optional": (_WIDENS, {"request": "request-body-became-optional"}, ""),
    "media-type-added": (
        {"request": _WIDENS["request"], "response": _MEDIA_ADDED_RESPONSE},
        {"request": "request-body-media-type-added", "response": "response-media-type-added"},
        "",
    ),
    "media-type-removed": (
        {"request": _NARROWS["request"], "response": _MEDIA_REMOVED_RESPONSE},
        {"request": "request-body-media-type-removed", "response": "response-media-type-removed"},
        "",
    ),
    "status-added": (_STATUS_ADDED, {"response": "response-success-status-added"}, ""),
    "success-status-removed": (_SUCCESS_REMOVED, {"response": "response-success-status-removed"}, ""),
    "status-removed": (_OTHER_STATUS_REMOVED, {"response": "response-non-success-status-removed"}, ""),
    "required-header-added": (_NARROWS, {"response": "response-header-added"}, ""),
    "header-added": (_NEW_OPTIONAL, {"response": "response-header-added"}, ""),
    "required-header-removed": (
        {"response": _REMOVED_REQUIRED_RESPONSE},
        {"response": "required-response-header-removed"},
        "",
    ),
    "header-removed": (_REMOVED, {"response": "optional-response-header-removed"}, ""),
    "security-changed": (_INCOMPARABLE, {"request": "api-security-updated"}, ""),
}


#: oasdiff's names of the bound keywords whose checks this module cites.
_BOUND_NAMES = {"maxLength": "max-length", "minLength": "min-length", "maximum": "max", "minimum": "min"}


def _bound_check(kind: str, detail: str, direction: str) -> str:
    """oasdiff's check id for a bound change (``request-property-max-length-decreased``...), where it has one."""
    keyword, was, _, now = ([*detail.split(" "), "", "", ""])[:4]
    name = _BOUND_NAMES.get(keyword)
    if name is None:
        return ""
    upper = keyword.startswith("max")
    if was == "null":
        verb = "set"
    elif now == "null":
        verb = "unset"
    else:
        verb = "decreased" if (kind == "bound-tightened") == upper else "increased"
    if direction == "response" and kind == "bound-tightened":
        return ""  # narrowing an answer is no check of oasdiff's (it breaks no client)
    return f"{direction}-property-{name}-{verb}"


@dataclass
class Change:
    """One difference, where it sits (a JSON pointer into NEW, or OLD for what was removed) and who reaches it."""

    kind: str
    location: str
    detail: str
    uses: dict[str, set[str]] = field(default_factory=dict)  # direction -> operations ("PATCH /path")

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.location, self.kind, self.detail)

    def verdicts(self, direction: str) -> tuple[Verdict, Verdict]:
        table = KINDS[self.kind][0]
        return table[direction] if direction in table else table[next(iter(table))]

    def verdict(self, side: str) -> str:
        index = SIDES.index(side)
        found = [self.verdicts(d)[index].verdict for d in DIRECTIONS if d in self.uses]
        return BREAKING if BREAKING in found else COMPATIBLE

    def oasdiff(self, direction: str) -> str | None:
        """The oasdiff check that reports this change in ``direction``, if this module knows one."""
        if self.kind.startswith("bound-"):
            return _bound_check(self.kind, self.detail, direction) or None
        return KINDS[self.kind][1].get(direction) or None

    def as_dict(self) -> dict[str, JSON]:
        _, _, specmatic = KINDS[self.kind]
        directions = {}
        for direction in DIRECTIONS:
            if direction not in self.uses:
                continue
            clients, servers = self.verdicts(direction)
            directions[direction] = {
                "clients": {"verdict": clients.verdict, "reason": clients.reason},
                "servers": {"verdict": servers.verdict, "reason": servers.reason},
                "operations": sorted(self.uses[direction]),
                "oasdiff": self.oasdiff(direction),
            }
        return {
            "kind": self.kind,
            "location": self.location,
            "detail": self.detail,
            "clients": self.verdict("clients"),
            "servers": self.verdict("servers"),
            "directions": directions,
            "specmatic": specmatic or None,
        }


# Comparing two fragments -------------------------------------------------------------------------------------


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def _types(schema: Mapping[str, JSON]) -> set[str] | None:
    found = schema.get("type")
    if found is None:
        return None
    return {found} if isinstance(found, str) else set(found)


def _show(value: JSON) -> str:
    return json.dumps(value, ensure_ascii=False)


class _Walk:
    """Compares OLD and NEW, collecting each change once with every use that reaches it."""

    def __init__(self, old: Contract, new: Contract) -> None:
        self.old, self.new = old, new
        self.changes: dict[tuple[str, str, str], Change] = {}
        self._memo: dict[tuple[int, int, str], list[tuple[str, str, str]]] = {}

    def add(self, kind: str, location: str, detail: str, direction: str, use: str) -> list[tuple[str, str, str]]:
        change = Change(kind, location, detail)
        found = self.changes.setdefault(change.key, change)
        found.uses.setdefault(direction, set()).add(use)
        return [change.key]

    def use(self, keys: list[tuple[str, str, str]], direction: str, use: str) -> None:
        for key in keys:
            self.changes[key].uses.setdefault(direction, set()).add(use)

    # Documents ---------------------------------------------------------------------------------------------

    def run(self) -> list[Change]:
        old_ops, new_ops = dict(self._operations(self.old)), dict(self._operations(self.new))
        for key in sorted(old_ops.keys() | new_ops.keys()):
            method, path = key
            use = f"{method.upper()} {path}"
            pointer = f"#/paths/{_escape(path)}/{method}"
            if key not in new_ops:
                self.add("operation-removed", pointer, f"{use} removed", "request", use)
            elif key not in old_ops:
                self.add("operation-added", pointer, f"{use} added", "request", use)
            else:
                self.operation(old_ops[key], new_ops[key], pointer, use)
        if self.old.document.get("security") != self.new.document.get("security"):
            self.add(
                "security-changed", "#/security", "the security requirements changed", "request", "every operation"
            )
        old_schemes = self.old.document.get("components", {}).get("securitySchemes", {})
        new_schemes = self.new.document.get("components", {}).get("securitySchemes", {})
        for name in sorted(old_schemes.keys() | new_schemes.keys()):
            if _strip_docs(old_schemes.get(name)) != _strip_docs(new_schemes.get(name)):
                where = f"#/components/securitySchemes/{_escape(name)}"
                self.add("security-changed", where, f"security scheme {name} changed", "request", "every operation")
        return sorted(self.changes.values(), key=lambda c: (c.location, c.kind, c.detail))

    @staticmethod
    def _operations(contract: Contract) -> Iterator[tuple[tuple[str, str], tuple[Mapping[str, JSON], list[JSON]]]]:
        for path, item in contract.document.get("paths", {}).items():
            shared = list(item.get("parameters", []))
            for method in METHODS:
                if method in item:
                    yield (method, path), (item[method], shared)

    def operation(
        self,
        old: tuple[Mapping[str, JSON], list[JSON]],
        new: tuple[Mapping[str, JSON], list[JSON]],
        pointer: str,
        use: str,
    ) -> None:
        (old_op, old_shared), (new_op, new_shared) = old, new
        self.parameters(
            [*old_shared, *old_op.get("parameters", [])], [*new_shared, *new_op.get("parameters", [])], pointer, use
        )
        old_body, new_body = old_op.get("requestBody"), new_op.get("requestBody")
        old_body = self._deref(self.old, old_body) if old_body else None
        new_body = self._deref(self.new, new_body) if new_body else None
        if old_body or new_body:
            self.body(old_body or {}, new_body or {}, f"{pointer}/requestBody", use)
        old_responses, new_responses = old_op.get("responses", {}), new_op.get("responses", {})
        for status in sorted(old_responses.keys() | new_responses.keys(), key=str):
            where = f"{pointer}/responses/{status}"
            if status not in new_responses:
                kind = "success-status-removed" if str(status).startswith("2") else "status-removed"
                self.add(kind, where, f"{use} no longer answers {status}", "response", use)
            elif status not in old_responses:
                self.add("status-added", where, f"{use} may answer {status}", "response", use)
            else:
                old_r = self._deref(self.old, old_responses[status])
                new_r = self._deref(self.new, new_responses[status])
                self.response(old_r, new_r, where, use)

    def parameters(self, old: list[JSON], new: list[JSON], pointer: str, use: str) -> None:
        def keyed(contract: Contract, items: list[JSON]) -> dict[tuple[str, str], Mapping[str, JSON]]:
            found = {}
            for item in items:
                param = self._deref(contract, item)
                found[(str(param.get("in")), str(param.get("name")))] = param
            return found

        old_params, new_params = keyed(self.old, old), keyed(self.new, new)
        for key in sorted(old_params.keys() | new_params.keys()):
            where, label = f"{pointer}/parameters/{key[0]}/{_escape(key[1])}", f"{key[0]} parameter {key[1]}"
            if key not in new_params:
                self.add("parameter-removed", where, f"{label} removed", "request", use)
            elif key not in old_params:
                required = bool(new_params[key].get("required"))
                kind = "required-parameter-added" if required else "parameter-added"
                self.add(kind, where, f"{label} added{' (required)' if required else ''}", "request", use)
            else:
                was, now = bool(old_params[key].get("required")), bool(new_params[key].get("required"))
                if was != now:
                    kind = "parameter-became-required" if now else "parameter-became-optional"
                    self.add(kind, where, f"{label} became {'required' if now else 'optional'}", "request", use)
                self.schema(old_params[key].get("schema", {}), new_params[key].get("schema", {}), where, "request", use)

    def body(self, old: Mapping[str, JSON], new: Mapping[str, JSON], pointer: str, use: str) -> None:
        was, now = bool(old.get("required")), bool(new.get("required"))
        if was != now:
            kind = "request-body-became-required" if now else "request-body-became-optional"
            self.add(kind, pointer, f"the request body became {'required' if now else 'optional'}", "request", use)
        self.content(old.get("content", {}), new.get("content", {}), f"{pointer}/content", "request", use)

    def response(self, old: Mapping[str, JSON], new: Mapping[str, JSON], pointer: str, use: str) -> None:
        self.content(old.get("content", {}), new.get("content", {}), f"{pointer}/content", "response", use)
        old_headers, new_headers = old.get("headers", {}), new.get("headers", {})
        for name in sorted(old_headers.keys() | new_headers.keys()):
            where = f"{pointer}/headers/{_escape(name)}"
            if name not in new_headers:
                required = bool(self._deref(self.old, old_headers[name]).get("required"))
                kind = "required-header-removed" if required else "header-removed"
                self.add(kind, where, f"header {name} removed", "response", use)
            elif name not in old_headers:
                required = bool(self._deref(self.new, new_headers[name]).get("required"))
                kind = "required-header-added" if required else "header-added"
                self.add(kind, where, f"header {name} added", "response", use)
            else:
                old_h, new_h = self._deref(self.old, old_headers[name]), self._deref(self.new, new_headers[name])
                self.schema(old_h.get("schema", {}), new_h.get("schema", {}), where, "response", use)

    def content(self, old: Mapping[str, JSON], new: Mapping[str, JSON], pointer: str, direction: str, use: str) -> None:
        for media in sorted(old.keys() | new.keys()):
            where = f"{pointer}/{_escape(media)}"
            if media not in new:
                self.add("media-type-removed", where, f"{media} removed", direction, use)
            elif media not in old:
                self.add("media-type-added", where, f"{media} added", direction, use)
            else:
                old_s, new_s = old[media].get("schema", {}), new[media].get("schema", {})
                self.schema(old_s, new_s, f"{where}/schema", direction, use)

    # Schemas -----------------------------------------------------------------------------------------------

    def _deref(self, contract: Contract, node: JSON) -> Mapping[str, JSON]:
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise DiffError(f"external $ref {ref!r} is not supported: give self-contained fragments")
            node = contract.resolve(ref)
            seen += 1
            if seen > 64:
                raise DiffError(f"$ref {ref!r} does not end")
        return node if isinstance(node, Mapping) else {}

    def _target(self, node: JSON, pointer: str) -> str:
        """Where a schema sits: the component a ``$ref`` names (followed to its end), else ``pointer``."""
        contract = self.new
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            pointer = node["$ref"]
            node = contract.resolve(pointer)
        return pointer

    def schema(self, old: JSON, new: JSON, pointer: str, direction: str, use: str) -> list[tuple[str, str, str]]:
        """The changes under one pair of schemas, recorded for ``use`` (memoised: components are shared)."""
        where = self._target(new, self._target_old(old, pointer))
        old_s, new_s = self._deref(self.old, old), self._deref(self.new, new)
        memo = (id(old_s), id(new_s), direction)
        if memo in self._memo:
            keys = self._memo[memo]
            self.use(keys, direction, use)
            return keys
        self._memo[memo] = []  # a recursive schema (a filter group) meets itself: nothing more below
        keys = self._compare(old_s, new_s, where, direction, use)
        self._memo[memo] = keys
        return keys

    def _target_old(self, node: JSON, pointer: str) -> str:
        contract = self.old
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
            pointer = node["$ref"]
            node = contract.resolve(pointer)
        return pointer

    def _compare(
        self, old: Mapping[str, JSON], new: Mapping[str, JSON], where: str, direction: str, use: str
    ) -> list[tuple[str, str, str]]:
        keys: list[tuple[str, str, str]] = []

        def add(kind: str, detail: str, location: str = where) -> None:
            keys.extend(self.add(kind, location, detail, direction, use))

        if direction == "request" and old.get("readOnly") and new.get("readOnly"):
            return keys  # a read-only property is ignored in requests (DRF): only its answers matter
        if bool(old.get("readOnly")) != bool(new.get("readOnly")):
            add("became-read-only" if new.get("readOnly") else "became-writable", "readOnly changed")
        self._types(old, new, add)
        self._enum(old, new, add)
        if ("const" in old or "const" in new) and old.get("const") != new.get("const"):
            add("type-changed", f"const {_show(old.get('const'))} -> {_show(new.get('const'))}")
        self._bounds(old, new, add)
        for name in ("pattern", "format"):
            if old.get(name) != new.get(name):
                if name == "pattern" and old.get(name) is None:
                    add("pattern-added", f"pattern {_show(new[name])} added")
                elif name == "pattern" and new.get(name) is None:
                    add("pattern-removed", f"pattern {_show(old[name])} removed")
                else:
                    add("pattern-changed" if name == "pattern" else "type-changed", f"{name} changed")
        if old.get("uniqueItems") != new.get("uniqueItems"):
            add("constraint-added" if new.get("uniqueItems") else "constraint-removed", "uniqueItems changed")
        if "default" in old or "default" in new:
            if "default" not in old:
                add("default-added", f"default {_show(new['default'])} added")
            elif "default" not in new:
                add("default-removed", f"default {_show(old['default'])} removed")
            elif old["default"] != new["default"]:
                add("default-changed", f"default {_show(old['default'])} -> {_show(new['default'])}")
        keys += self._object(old, new, where, direction, use)
        if "items" in old or "items" in new:
            keys += self.schema(old.get("items", {}), new.get("items", {}), f"{where}/items", direction, use)
        for keyword in ("anyOf", "oneOf", "allOf"):
            keys += self._alternatives(keyword, old, new, where, direction, use)
        unknown = sorted(
            k
            for k in (old.keys() | new.keys()) - HANDLED - DOCUMENTATION
            if not k.startswith("x-") and _strip_docs(old.get(k)) != _strip_docs(new.get(k))
        )
        for keyword in unknown:
            add("keyword-changed", f"{keyword} changed (not classified by this tool)")
        return keys

    @staticmethod
    def _types(old: Mapping[str, JSON], new: Mapping[str, JSON], add: Callable[[str, str], None]) -> None:
        was, now = _types(old), _types(new)
        if was == now:
            return
        if was is None or now is None:
            add("type-widened" if now is None else "type-narrowed", f"type {sorted(was or [])} -> {sorted(now or [])}")
            return
        if ("null" in was) != ("null" in now):
            add(
                "became-nullable" if "null" in now else "became-not-nullable",
                "null " + ("added" if "null" in now else "removed"),
            )
        was, now = was - {"null"}, now - {"null"}
        if was == now:
            return
        if was < now:
            add("type-widened", f"type {sorted(was)} -> {sorted(now)}")
        elif now < was:
            add("type-narrowed", f"type {sorted(was)} -> {sorted(now)}")
        else:
            add("type-changed", f"type {sorted(was)} -> {sorted(now)}")

    @staticmethod
    def _enum(old: Mapping[str, JSON], new: Mapping[str, JSON], add: Callable[[str, str], None]) -> None:
        if "enum" not in old and "enum" not in new:
            return
        if "enum" not in old:
            add("constraint-added", "restricted to an enum")
            return
        if "enum" not in new:
            add("constraint-removed", "no longer restricted to an enum")
            return
        for value in new["enum"]:
            if value not in old["enum"]:
                add("enum-value-added", f"enum value {_show(value)} added")
        for value in old["enum"]:
            if value not in new["enum"]:
                add("enum-value-removed", f"enum value {_show(value)} removed")

    @staticmethod
    def _bounds(old: Mapping[str, JSON], new: Mapping[str, JSON], add: Callable[[str, str], None]) -> None:
        for name in (*UPPER, *LOWER):
            was, now = old.get(name), new.get(name)
            if was == now:
                continue
            upper = name in UPPER
            if was is None:
                tighter = True
            elif now is None:
                tighter = False
            else:
                tighter = now < was if upper else now > was
            add("bound-tightened" if tighter else "bound-relaxed", f"{name} {_show(was)} -> {_show(now)}")

    def _object(
        self, old: Mapping[str, JSON], new: Mapping[str, JSON], where: str, direction: str, use: str
    ) -> list[tuple[str, str, str]]:
        keys: list[tuple[str, str, str]] = []
        old_props, new_props = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name in sorted(old_props.keys() | new_props.keys()):
            here = f"{where}/properties/{_escape(name)}"
            if name not in new_props:
                removed = self._target_old(old_props[name], here)
                kind = "required-property-removed" if name in old_required else "property-removed"
                if not (direction == "request" and self._deref(self.old, old_props[name]).get("readOnly")):
                    keys += self.add(kind, removed, f"property {name} removed", direction, use)
            elif name not in old_props:
                added = self._target(new_props[name], here)
                kind = "required-property-added" if name in new_required else "property-added"
                if not (direction == "request" and self._deref(self.new, new_props[name]).get("readOnly")):
                    keys += self.add(kind, added, f"property {name} added", direction, use)
            else:
                keys += self.schema(old_props[name], new_props[name], here, direction, use)
        for name in sorted((old_required ^ new_required) & old_props.keys() & new_props.keys()):
            kind = "property-became-required" if name in new_required else "property-became-optional"
            keys += self.add(kind, where, f"property {name} became {kind.rsplit('-', 1)[1]}", direction, use)
        for name in sorted((old_required ^ new_required) - old_props.keys() - new_props.keys()):
            kind = "property-became-required" if name in new_required else "property-became-optional"
            keys += self.add(kind, where, f"undeclared property {name} became {kind.rsplit('-', 1)[1]}", direction, use)
        old_extra, new_extra = old.get("additionalProperties", True), new.get("additionalProperties", True)
        if old_extra is not new_extra and (isinstance(old_extra, bool) or isinstance(new_extra, bool)):
            if old_extra != new_extra:
                kind = "additional-properties-forbidden" if new_extra is False else "additional-properties-allowed"
                keys += self.add(kind, where, "additionalProperties changed", direction, use)
        elif isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            keys += self.schema(old_extra, new_extra, f"{where}/additionalProperties", direction, use)
        return keys

    def _alternatives(
        self, keyword: str, old: Mapping[str, JSON], new: Mapping[str, JSON], where: str, direction: str, use: str
    ) -> list[tuple[str, str, str]]:
        """Pair the subschemas of anyOf/oneOf/allOf by the component they name, else by position."""
        old_subs, new_subs = list(old.get(keyword, [])), list(new.get(keyword, []))
        keys: list[tuple[str, str, str]] = []
        pairs: list[tuple[int, int]] = []
        left_new = list(range(len(new_subs)))
        left_old: list[int] = []
        for i, sub in enumerate(old_subs):
            ref = sub.get("$ref") if isinstance(sub, Mapping) else None
            match = next((j for j in left_new if ref and new_subs[j].get("$ref") == ref), None)
            if match is None:
                left_old.append(i)
            else:
                pairs.append((i, match))
                left_new.remove(match)
        for i, j in zip(list(left_old), list(left_new), strict=False):
            if (old_subs[i].get("$ref") is None) and (new_subs[j].get("$ref") is None):
                pairs.append((i, j))
                left_old.remove(i)
                left_new.remove(j)
        for i, j in pairs:
            keys += self.schema(old_subs[i], new_subs[j], f"{where}/{keyword}/{j}", direction, use)
        narrowing = keyword == "allOf"
        for j in left_new:
            kind = "alternative-removed" if narrowing else "alternative-added"
            keys += self.add(kind, f"{where}/{keyword}/{j}", f"{keyword} member added", direction, use)
        for i in left_old:
            kind = "alternative-added" if narrowing else "alternative-removed"
            keys += self.add(kind, f"{where}/{keyword}/{i}", f"{keyword} member removed", direction, use)
        return keys


def _strip_docs(node: JSON) -> JSON:
    if isinstance(node, Mapping):
        return {k: _strip_docs(v) for k, v in node.items() if k not in DOCUMENTATION and not str(k).startswith("x-")}
    if isinstance(node, list):
        return [_strip_docs(v) for v in node]
    return node


# Entry points ------------------------------------------------------------------------------------------------


def load(spec: str) -> Contract:
    """A shipped revision by name, else the fragment file at ``spec``."""
    if spec in contract_module.REVISIONS:
        return contract_module.get(spec)
    path = Path(spec)
    if not path.is_file():
        known = ", ".join(contract_module.REVISIONS)
        raise DiffError(f"{spec!r} is neither a revision ({known}) nor a fragment file")
    try:
        loaded = contract_module.load(path)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
        raise DiffError(f"{spec} cannot be read: {' '.join(str(exc).split())[:300]}") from None
    if not isinstance(loaded.document, Mapping) or not str(loaded.document.get("openapi", "")).startswith("3."):
        raise DiffError(f"{spec} is not an OpenAPI 3 document")
    return loaded


def diff(old: Contract, new: Contract) -> list[Change]:
    """Every change from ``old`` to ``new``, in location order."""
    return _Walk(old, new).run()


def report(old: Contract, new: Contract, old_name: str, new_name: str, sides: tuple[str, ...]) -> dict[str, JSON]:
    changes = diff(old, new)
    breaking = {side: sum(c.verdict(side) == BREAKING for c in changes) for side in SIDES}
    return {
        "old": {"name": old_name, "revision": old.revision, "sha256": old.sha256},
        "new": {"name": new_name, "revision": new.revision, "sha256": new.sha256},
        "for": list(sides),
        "changes": [c.as_dict() for c in changes],
        "breaking": breaking,
        "exit_code": 1 if any(breaking[side] for side in sides) else 0,
    }


def render_text(data: Mapping[str, JSON]) -> str:
    old, new, changes = data["old"], data["new"], data["changes"]
    lines = [
        f"contract diff: {old['name']} (revision {old['revision']}, sha256 {old['sha256'][:12]}) -> "
        f"{new['name']} (revision {new['revision']}, sha256 {new['sha256'][:12]})",
        f"{len(changes)} change{'s' if len(changes) != 1 else ''}: "
        + ", ".join(f"{data['breaking'][side]} breaking for {side}" for side in SIDES),
    ]
    for change in changes:
        verdicts = ", ".join(f"{'BREAKING' if change[side] == BREAKING else 'compatible'} for {side}" for side in SIDES)
        lines += ["", f"{change['location']}: {change['detail']} [{change['kind']}]", f"  {verdicts}"]
        for direction, found in change["directions"].items():
            operations = found["operations"]
            shown = ", ".join(operations[:3]) + (", ..." if len(operations) > 3 else "")
            lines.append(f"  in {direction}s ({len(operations)}: {shown})")
            for side in SIDES:
                lines.append(f"    {side}: {found[side]['verdict']}: {found[side]['reason']}")
            if found["oasdiff"]:
                lines.append(f"    oasdiff: {found['oasdiff']}")
        if change["specmatic"]:
            lines.append(f"  Specmatic: {change['specmatic']}")
    verdicts = "; ".join(f"{'BREAKING' if data['breaking'][side] else 'compatible'} for {side}" for side in data["for"])
    lines += ["", verdicts + (" (exit 1)" if data["exit_code"] else "")]
    return "\n".join(lines)


def main(old: str, new: str, *, sides: tuple[str, ...] = SIDES, output: str = "text") -> int:
    """Print the diff; 0 if nothing is breaking for the sides asked, 1 if something is, 2 for a usage error."""
    try:
        old_contract, new_contract = load(old), load(new)
        data = report(old_contract, new_contract, old, new, sides)
    except DiffError as exc:
        print(f"cekura-conformance: contract diff: {exc}", file=sys.stderr)
        return 2
    if output == "json":
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(render_text(data))
    return int(data["exit_code"])
