"""Load the OpenAPI fragment: the one description of shapes for generation, checks and the emulator.

The contract comes in named revisions, each a complete OpenAPI 3.1 document: ``seed`` (the default: the endpoint
as the reference page documents it, ``openapi/widgets.yaml``) and ``live`` (the API as it is live today,
``openapi/widgets-live.yaml``, generated from the seed with ``openapi/overlays/live.yaml``: see
``conformance.overlay``). A run, the emulator and the checks all follow one ``Contract`` object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conformance._types import JSON

# Re-exported: where callers have always found them.
from conformance.revisions import DEFAULT_REVISION as DEFAULT_REVISION
from conformance.revisions import REVISIONS as REVISIONS

FRAGMENT_NAME = REVISIONS[DEFAULT_REVISION]
# The URI the fragment is registered under, so `$ref`s like "#/components/schemas/Widget" resolve.
FRAGMENT_URI = "urn:cekura:openapi:widgets"


class UnknownRevision(ValueError):
    """A revision name this suite does not ship."""

    def __init__(self, name: str) -> None:
        super().__init__(f"unknown contract revision {name!r}: choose one of {', '.join(REVISIONS)}")
        self.name = name


def revisions() -> list[str]:
    """The names of the shipped revisions, oldest first (the default is the first)."""
    return list(REVISIONS)


def fragment_path(revision: str = DEFAULT_REVISION) -> Path:
    """A revision's file: shipped inside the wheel, else the checkout's ``openapi/`` folder."""
    if revision not in REVISIONS:
        raise UnknownRevision(revision)
    name = REVISIONS[revision]
    packaged = Path(__file__).parent / "_data" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "openapi" / name


@dataclass(frozen=True)
class Operation:
    """One operation of the fragment."""

    operation_id: str
    method: str
    path: str
    spec: Mapping[str, JSON]

    @property
    def supporting(self) -> bool:
        return bool(self.spec.get("x-cekura-supporting"))

    @property
    def request_schema(self) -> str | None:
        """The name of the JSON request body's schema (``PatchedWidget``...), or None without a body."""
        content = self.spec.get("requestBody", {}).get("content", {}).get("application/json", {})
        ref = content.get("schema", {}).get("$ref")
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None


@dataclass(frozen=True, eq=False)
class Contract:
    """The parsed fragment with its digest and a JSON Schema registry over it."""

    document: Mapping[str, JSON]
    raw: bytes = field(repr=False)
    #: The revision's name (``seed``, ``live``); a file loaded by path names its own (``info.x-cekura-revision``).
    revision: str = DEFAULT_REVISION
    _validators: dict[str, Draft202012Validator] = field(default_factory=dict, repr=False)

    @property
    def version(self) -> str:
        return str(self.document["info"]["version"])

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @cached_property
    def registry(self) -> Registry[Any]:
        resource: Resource[Any] = Resource.from_contents(self.document, default_specification=DRAFT202012)
        registry: Registry[Any] = Registry().with_resource(FRAGMENT_URI, resource)
        return registry

    def operations(self) -> Iterator[Operation]:
        for path, item in self.document["paths"].items():
            for method, spec in item.items():
                if method in {"get", "put", "post", "patch", "delete", "options", "head", "trace"}:
                    yield Operation(spec["operationId"], method.upper(), path, spec)

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations():
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def request_schema(self, method: str, path: str) -> str | None:
        """The request body schema of the operation at ``method path``, or None."""
        for op in self.operations():
            if op.method == method.upper() and op.path == path:
                return op.request_schema
        return None

    def allowed_methods(self, path: str) -> list[str]:
        """Methods the fragment declares on ``path`` (upper case, in declaration order)."""
        item = self.document["paths"][path]
        return [m.upper() for m in item if m in {"get", "put", "post", "patch", "delete"}]

    def schema(self, name: str) -> Mapping[str, JSON]:
        return self.document["components"]["schemas"][name]  # type: ignore[no-any-return]

    def resolve(self, pointer: str) -> JSON:
        """Resolve a local JSON pointer like ``#/components/schemas/Widget``."""
        return self.registry.resolver(FRAGMENT_URI).lookup(pointer).contents

    def validator(self, schema: Mapping[str, JSON]) -> Draft202012Validator:
        """A validator for a schema fragment whose ``$ref``s point into the contract."""
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            # Local refs ("#/...") inside ad-hoc schemas mean the contract, not the ad-hoc document.
            rewritten = _rewrite_refs({"$id": "urn:cekura:adhoc", **schema})
            found = self._validators[key] = Draft202012Validator(rewritten, registry=self.registry)
        return found

    def ref_validator(self, pointer: str) -> Draft202012Validator:
        return self.validator({"$ref": pointer})

    def errors(self, schema: Mapping[str, JSON], instance: JSON) -> list[ValidationError]:
        return sorted(self.validator(schema).iter_errors(instance), key=lambda e: list(e.path))

    def properties(self, schema_name: str) -> dict[str, Mapping[str, JSON]]:
        """A schema's properties (through a top-level ``$ref`` and ``allOf``), each property's ``$ref`` followed."""
        found: dict[str, Mapping[str, JSON]] = {}
        pending: list[Mapping[str, JSON]] = [self.schema(schema_name)]
        while pending:
            schema = self._deref(pending.pop(0))
            pending.extend(schema.get("allOf", []))
            for name, sub in schema.get("properties", {}).items():
                found.setdefault(name, self._deref(sub))
        return found

    def _deref(self, schema: Mapping[str, JSON]) -> Mapping[str, JSON]:
        while "$ref" in schema and len(schema) == 1:
            schema = self.resolve(schema["$ref"])
        return schema

    def read_only(self, schema_name: str = "Widget") -> list[str]:
        return [name for name, sub in self.properties(schema_name).items() if sub.get("readOnly")]

    def writable(self, schema_name: str = "Widget") -> list[str]:
        return [name for name, sub in self.properties(schema_name).items() if not sub.get("readOnly")]

    def property_schema(self, schema_name: str, prop: str) -> Mapping[str, JSON]:
        return self.properties(schema_name)[prop]

    def enum_members(self, schema_name: str, prop: str) -> list[JSON]:
        """Every enum member a property accepts, blanks and null included (follows oneOf/$ref)."""
        return _enum_members(self, self.property_schema(schema_name, prop))

    def later_values(self, schema_name: str, prop: str) -> list[JSON]:
        """Members a later revision adds (``x-cekura-later-values``): valid on the live API, so never used as
        invalid input, and not required by this revision either. Empty in the revision that lists them as members."""
        found: list[JSON] = []
        for sub in _walk_refs(self, self.property_schema(schema_name, prop)):
            found.extend(sub.get("x-cekura-later-values", []))
        return found


def _walk_refs(contract: Contract, schema: Mapping[str, JSON]) -> Iterator[Mapping[str, JSON]]:
    yield schema
    if "$ref" in schema:
        yield from _walk_refs(contract, contract.resolve(schema["$ref"]))
    for key in ("oneOf", "anyOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _walk_refs(contract, sub)


def _enum_members(contract: Contract, schema: Mapping[str, JSON]) -> list[JSON]:
    members: list[JSON] = []
    for sub in _walk_refs(contract, schema):
        members.extend(sub.get("enum", []))
    return members


def _rewrite_ref(key: str, value: JSON) -> JSON:
    if key == "$ref" and isinstance(value, str) and value.startswith("#"):
        return FRAGMENT_URI + value
    return _rewrite_refs(value)


def _rewrite_refs(node: JSON) -> JSON:
    if isinstance(node, dict):
        return {k: _rewrite_ref(k, v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def load(path: Path | None = None, *, revision: str | None = None) -> Contract:
    """Load a revision (the default one unless ``revision`` is given), or the fragment file at ``path``."""
    if path is not None and revision is not None:
        raise ValueError("give a revision or a path, not both")
    source = path or fragment_path(revision or DEFAULT_REVISION)
    raw = source.read_bytes()
    document = yaml.safe_load(raw)
    if path is None:
        name = revision or DEFAULT_REVISION
    else:
        info = document.get("info") if isinstance(document, dict) else None
        named = info.get("x-cekura-revision") if isinstance(info, dict) else None
        name = str(named) if named else source.stem
    return Contract(document=document, raw=raw, revision=name)


@lru_cache(maxsize=len(REVISIONS))
def get(revision: str = DEFAULT_REVISION) -> Contract:
    """A shipped revision, loaded once; ``UnknownRevision`` for a name this suite does not ship."""
    return load(revision=revision)


def default() -> Contract:
    """The default revision (``seed``), loaded once."""
    return get(DEFAULT_REVISION)
