"""DRF's ``SimpleMetadata``: the body of an OPTIONS answer, built from the fragment's schemas.

``{name, description, renders, parses, actions}``; ``actions`` describes the serializer's fields for PUT (when the
object exists and is the caller's) and POST, each field as ``{type, required, read_only, label, max_length,
choices}`` with DRF's type labels (``SimpleMetadata.label_lookup``): CharField "string", ChoiceField "choice",
IntegerField "integer", DateTimeField "datetime", related, JSON and method fields "field", a nested list of
serializers "field" with a "nested object" child.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from conformance._types import JSON
from conformance.contract import Contract

_CHOICE_LINE = re.compile(r"^\* `([^`]*)` - (.+)$", re.MULTILINE)
_KIND_LABELS = {"char": "string", "choice": "choice", "integer": "integer"}


def label(name: str) -> str:
    """A serializer field's default label: the model's verbose name, capitalised ("ID" for the primary key)."""
    return "ID" if name == "id" else name.replace("_", " ").capitalize()


def choice_labels(contract: Contract, schema: Mapping[str, JSON]) -> dict[str, str]:
    """``value -> display name`` from drf-spectacular's enum description lines (``* `line` - Line``)."""
    found: dict[str, str] = {}
    pending = [schema]
    while pending:
        current = pending.pop()
        if "$ref" in current:
            pending.append(contract.resolve(current["$ref"]))
        for key in ("oneOf", "anyOf", "allOf"):
            pending.extend(current.get(key, []))
        found.update(dict(_CHOICE_LINE.findall(current.get("description", ""))))
    return found


class SerializerInfo:
    """``SimpleMetadata.get_serializer_info`` for one fragment schema (``Widget``, ``Dashboard``)."""

    def __init__(self, contract: Contract, schema_name: str, create_schema: str, kinds: Mapping[str, str]) -> None:
        self.contract = contract
        self.schema_name = schema_name
        self.required = set(contract.schema(create_schema).get("required", [])) - set(contract.read_only(schema_name))
        self.kinds = kinds  # writable property -> FieldSpec kind (pk, choice, char, integer, filter, json)

    def fields(self, *, nested: SerializerInfo | None = None) -> dict[str, JSON]:
        return {name: self.field(name, sub, nested) for name, sub in self.contract.properties(self.schema_name).items()}

    def field(self, name: str, schema: Mapping[str, JSON], nested: SerializerInfo | None) -> dict[str, JSON]:
        read_only = bool(schema.get("readOnly"))
        info: dict[str, JSON] = {
            "type": self._type(name, schema, read_only),
            "required": name in self.required,
            "read_only": read_only,
            "label": label(name),
        }
        if "maxLength" in schema:
            info["max_length"] = schema["maxLength"]
        if schema.get("type") == "array" and nested is not None:
            info["child"] = {"type": "nested object", "required": False, "read_only": read_only}
            info["child"]["children"] = nested.fields()
        if not read_only and self.kinds.get(name) == "choice":
            members = self.contract.enum_members(self.schema_name, name)
            labels = choice_labels(self.contract, schema)
            info["choices"] = [
                {"value": m, "display_name": labels.get(m, m)} for m in members if isinstance(m, str) and m != ""
            ]
        return info

    def _type(self, name: str, schema: Mapping[str, JSON], read_only: bool) -> str:
        if not read_only:
            return _KIND_LABELS.get(self.kinds.get(name, ""), "field")
        if schema.get("format") == "date-time":
            return "datetime"
        types = schema.get("type", [])
        types = [types] if isinstance(types, str) else types
        if types == ["integer"]:
            return "integer"
        if "string" in types and len([t for t in types if t != "null"]) == 1:
            return "string"  # a read-only CharField (metric_name: source="metric.name")
        return "field"  # method fields (effective_filters, widget_count) and nested lists


def determine_metadata(
    view_name: str,
    renders: list[str],
    parses: list[str],
    actions: dict[str, dict[str, JSON]],
) -> dict[str, JSON]:
    """``SimpleMetadata.determine_metadata``: ``actions`` only when some action is described."""
    body: dict[str, JSON] = {"name": view_name, "description": "", "renders": renders, "parses": parses}
    if actions:
        body["actions"] = actions
    return body
