"""DRF-like field validation, every shape (types, enums, lengths, nullability) read from the fragment."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema.exceptions import ValidationError, best_match

from conformance.calibration import FOREIGN_KEYS
from conformance.contract import Contract
from conformance.emulator.errors import FieldError, message

JSON = Any
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
    max_depth: int | None = None

    def default(self) -> JSON:
        """The model default when a create omits the field: null, else a blank string."""
        return None if self.nullable else ""


def field_specs(contract: Contract, schema_name: str, create_schema: str) -> dict[str, FieldSpec]:
    """The writable properties of ``schema_name``; ``create_schema``'s ``required`` list marks required ones."""
    required = set(contract.schema(create_schema).get("required", []))
    specs: dict[str, FieldSpec] = {}
    for name in contract.writable(schema_name):
        pointer = f"#/components/schemas/{schema_name}/properties/{name}"
        schema = contract.property_schema(schema_name, name)
        members = contract.enum_members(schema_name, name)
        specs[name] = FieldSpec(
            name=name,
            kind=_kind(name, schema, members),
            pointer=pointer,
            schema=schema,
            nullable=contract.ref_validator(pointer).is_valid(None),
            allow_blank=contract.ref_validator(pointer).is_valid(""),
            required=name in required,
            choices=frozenset(m for m in members if isinstance(m, str) and m != ""),
            max_depth=schema.get("x-cekura-max-depth"),
        )
    return specs


def _kind(name: str, schema: Mapping[str, JSON], members: list[JSON]) -> Kind:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if name in FOREIGN_KEYS:
        return "pk"
    if members:
        return "choice"
    if "x-cekura-max-depth" in schema:
        return "filter"
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
    """DRF PrimaryKeyRelatedField's lookup value: integers, integral floats and integer strings."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise FieldError.of("pk_incorrect_type", data_type=type(value).__name__)
    if isinstance(value, float) and not value.is_integer():
        raise FieldError.of("pk_incorrect_type", data_type="float")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise FieldError.of("pk_incorrect_type", data_type=type(value).__name__) from None


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


def filter_problem(contract: Contract, errors: list[ValidationError]) -> str:
    """One readable message for a filter the fragment's ``Filter`` schema refuses.

    An ``anyOf`` failure says little, so a non-empty object is re-checked as the node it looks like
    (a group if it has ``operator`` or ``conditions``, else a condition) until a concrete reason shows.
    """
    error = best_match(errors)
    path = list(error.absolute_path)
    while error.validator in ("anyOf", "oneOf") and isinstance(error.instance, dict) and error.instance:
        kind = "FilterGroup" if {"operator", "conditions"} & error.instance.keys() else "FilterCondition"
        inner = best_match(contract.ref_validator(f"#/components/schemas/{kind}").iter_errors(error.instance))
        if inner is None:
            break
        path.extend(inner.absolute_path)
        error = inner
    location = "/".join(str(p) for p in path) or "the top level"
    return message("filter_invalid", location=location, reason=echo(error.message))


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
