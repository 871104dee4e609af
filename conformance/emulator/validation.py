"""DRF-like field validation, every shape (types, enums, lengths, nullability) read from the fragment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from jsonschema.exceptions import ValidationError, best_match

from conformance._types import JSON
from conformance.calibration import FOREIGN_KEYS
from conformance.contract import Contract
from conformance.emulator import jsonio
from conformance.emulator.errors import FieldError, message

Kind = Literal["pk", "choice", "char", "integer", "filter", "json"]

# DRF IntegerField: strings longer than this are refused before parsing; a trailing ".0" is dropped.
_MAX_INTEGER_STRING = 1000
_DECIMAL_TAIL = re.compile(r"\.0*\s*$")
# Keep echoed input short in messages: a 1 MiB value must not come back as a 1 MiB error.
_ECHO_LIMIT = 200
# JSON Schema keywords whose failures DRF words with a limit.
_CONSTRAINT_CODES = {
    "maxLength": "max_length",
    "minLength": "min_length",
    "maximum": "max_value",
    "minimum": "min_value",
}


@dataclass(frozen=True)
class FieldSpec:
    """One writable property of a request schema, classified as the DRF field a ModelSerializer builds."""

    name: str
    kind: Kind
    pointer: str
    schema: Mapping[str, JSON]  # the property schema with its top-level $ref followed
    nullable: bool
    allow_blank: bool
    required: bool
    choices: frozenset[str] = frozenset()

    def default(self) -> JSON:
        """The model default when a create omits the field: the fragment's ``default``, else null, else ""."""
        if "default" in self.schema:
            return self.schema["default"]
        return None if self.nullable else ""


def field_specs(contract: Contract, schema_name: str, create_schema: str) -> dict[str, FieldSpec]:
    """The writable properties of ``schema_name``; ``create_schema``'s ``required`` list marks required ones."""
    required = set(contract.schema(create_schema).get("required", []))
    filter_schema = contract.schema("Filter")
    specs: dict[str, FieldSpec] = {}
    for name in contract.writable(schema_name):
        pointer = f"#/components/schemas/{schema_name}/properties/{name}"
        schema = contract.property_schema(schema_name, name)
        members = contract.enum_members(schema_name, name)
        specs[name] = FieldSpec(
            name=name,
            kind="filter" if schema == filter_schema else _kind(name, schema, members),
            pointer=pointer,
            schema=schema,
            nullable=contract.ref_validator(pointer).is_valid(None),
            allow_blank=contract.ref_validator(pointer).is_valid(""),
            required=name in required,
            choices=frozenset(m for m in members if isinstance(m, str) and m != ""),
        )
    return specs


def _kind(name: str, schema: Mapping[str, JSON], members: list[JSON]) -> Kind:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if name in FOREIGN_KEYS:
        return "pk"
    if members:
        return "choice"
    if "string" in types:
        return "char"
    if "integer" in types:
        return "integer"
    return "json"


def echo(value: JSON) -> str:
    """``value`` as DRF's ``str.format`` shows it, cut short."""
    text = str(value)
    return text if len(text) <= _ECHO_LIMIT else text[:_ECHO_LIMIT] + "..."


def coerce_char(value: JSON) -> str:
    """DRF CharField: numbers become strings, other non-strings fail, whitespace is trimmed."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError.of("not_a_string")
    return str(value).strip()


def char_content_errors(text: str) -> list[str]:
    """DRF CharField's default validators: no NUL, no surrogate code points."""
    errors = []
    if "\x00" in text:
        errors.append(message("null_characters"))
    surrogate = first_surrogate(text)
    if surrogate is not None:
        errors.append(message("surrogate_characters", code_point=surrogate))
    return errors


def coerce_integer(value: JSON) -> int:
    """DRF IntegerField: ``"5"``, ``5.0`` and ``"5.0"`` are 5; ``5.5``, ``true`` and ``"abc"`` fail."""
    if isinstance(value, str) and len(value) > _MAX_INTEGER_STRING:
        raise FieldError.of("string_too_large")
    try:
        return int(_DECIMAL_TAIL.sub("", str(value)))
    except (TypeError, ValueError):
        raise FieldError.of("not_an_integer") from None


def coerce_pk(value: JSON) -> int:
    """The pk DRF's ``PrimaryKeyRelatedField`` looks up: ``queryset.get(pk=value)``, where Django's integer field
    takes ``int(value)``. So ``"5"`` and ``" 5 "`` are 5, and a float is truncated (``5.5`` finds object 5);
    ``"5.5"``, ``true`` and containers are "Incorrect type"."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError.of("pk_incorrect_type", data_type=type(value).__name__)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise FieldError.of("pk_incorrect_type", data_type=type(value).__name__) from None


class JSONText(str):
    """A form value of a JSON field: DRF's ``JSONField`` parses HTML input as JSON text (``is_json_string``)."""


def parse_json_text(text: JSONText) -> JSON:
    """The JSON a form value holds; "Value must be valid JSON." otherwise."""
    try:
        return jsonio.loads_strict(text.encode("utf-8", errors="surrogatepass"))
    except ValueError:
        raise FieldError.of("invalid_json") from None


def value_type_problem(tree: JSON) -> str | None:
    """The first condition whose ``value`` does not suit its operator (``in``: a list, ``isnull``: a boolean)."""
    stack: list[tuple[JSON, str]] = [(tree, "")]
    while stack:
        node, location = stack.pop()
        if not isinstance(node, dict):
            continue
        op, value = node.get("op"), node.get("value")
        if op == "in" and not isinstance(value, list):
            return message("filter_value_type", location=location + "value", op=op, expected="a list of values")
        if op == "isnull" and not isinstance(value, bool):
            return message("filter_value_type", location=location + "value", op=op, expected="true or false")
        children = node.get("conditions")
        if isinstance(children, list):
            stack.extend((child, f"{location}conditions/{i}/") for i, child in reversed(list(enumerate(children))))
    return None


def choice_value(spec: FieldSpec, value: JSON) -> str:
    """DRF ChoiceField: the blank string if allowed, else the choice whose text equals ``str(value)``."""
    if value == "" and spec.allow_blank:
        return ""
    key = value if isinstance(value, str) else str(value)
    if key in spec.choices:
        return key
    raise FieldError.of("invalid_choice", input=echo(value))


def schema_messages(errors: Iterable[ValidationError]) -> list[str]:
    """DRF's wording for the fragment's constraints a coerced value still breaks."""
    found: list[str] = []
    for error in errors:
        code = _CONSTRAINT_CODES.get(str(error.validator))
        text = message(code, limit=error.validator_value) if code else message("invalid_value")
        if text not in found:
            found.append(text)
    return found


_FILTER_NODE = "#/components/schemas/FilterNode"
_FILTER_GROUP = "#/components/schemas/FilterGroup"
_FILTER_CONDITION = "#/components/schemas/FilterCondition"


class FilterChecker:
    """The fragment's ``Filter`` schema, checked one node at a time, so any depth JSON can carry is fine.

    A recursive JSON Schema validation of a filter nested a hundred groups deep exhausts Python's stack; here the
    group schema's reference to ``FilterNode`` is cut (``{}``) and the children are pushed on a stack instead.
    Django REST framework has no nesting limit, and neither has the emulator.
    """

    def __init__(self, contract: Contract) -> None:
        group = _shallow(contract.resolve(_FILTER_GROUP), {})
        self.group = contract.validator(group)
        self.condition = contract.ref_validator(_FILTER_CONDITION)
        self.top = contract.validator(_shallow(contract.schema("Filter"), group))
        self.node = contract.validator(_shallow(contract.resolve(_FILTER_NODE), group))

    def problem(self, value: JSON) -> str | None:
        """One readable message for the first node the schema refuses, or None."""
        stack: list[tuple[JSON, list[str | int], bool]] = [(value, [], True)]
        while stack:
            node, path, top = stack.pop()
            errors = list((self.top if top else self.node).iter_errors(node))
            if errors:
                return self._message(errors, path)
            if self.condition.is_valid(node) or not isinstance(node, dict):
                continue  # a condition (its other keys are free), {} or null
            children = node.get("conditions")
            if isinstance(children, list):
                stack.extend(
                    (child, [*path, "conditions", i], False) for i, child in reversed(list(enumerate(children)))
                )
        return None

    def _message(self, errors: list[ValidationError], prefix: list[str | int]) -> str:
        """An ``anyOf`` failure says little, so a non-empty object is re-checked as the node it looks like
        (a group if it has ``operator`` or ``conditions``, else a condition) until a concrete reason shows."""
        error = best_match(errors)
        path = [*prefix, *error.absolute_path]
        while error.validator in ("anyOf", "oneOf") and isinstance(error.instance, dict) and error.instance:
            looks_like_group = {"operator", "conditions"} & error.instance.keys()
            inner = best_match((self.group if looks_like_group else self.condition).iter_errors(error.instance))
            if inner is None:
                break
            path.extend(inner.absolute_path)
            error = inner
        location = "/".join(str(p) for p in path) or "the top level"
        return message("filter_invalid", location=location, reason=echo(error.message))


def _shallow(schema: JSON, group: JSON) -> JSON:
    """``schema`` with references to ``FilterGroup`` replaced by ``group`` and to ``FilterNode`` by ``{}``."""
    if isinstance(schema, dict):
        if schema.get("$ref") == _FILTER_GROUP:
            return group
        if schema.get("$ref") == _FILTER_NODE:
            return {}
        return {key: _shallow(sub, group) for key, sub in schema.items()}
    if isinstance(schema, list):
        return [_shallow(sub, group) for sub in schema]
    return schema


def first_surrogate(value: JSON) -> int | None:
    """The first surrogate code point in any string (keys included) inside ``value``, iteratively."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            try:
                current.encode("utf-8")
            except UnicodeEncodeError as error:  # only surrogates fail to encode as UTF-8
                return ord(current[error.start])
        elif isinstance(current, dict):
            stack.extend(current.keys())
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return None
