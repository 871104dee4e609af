"""What Django REST Framework does to input that the fragment's JSON Schema cannot express.

Two directions, one module:

* positive generation: a schema-valid body can still be one DRF rightly rejects (a random foreign-key id
  that names no object, a NUL character in a CharField). ``fix_positive_body`` turns such a body into one a
  correct DRF implementation accepts, so "valid input was rejected" is never a false failure.
* negative generation: a schema-invalid body can still be one DRF rightly accepts ("5", 5.0 or "" for an
  integer pk, a number for a CharField, unknown keys, an enum member a later revision of the contract adds).
  ``drf_would_accept`` says so, so "invalid input was accepted" is never a false failure.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence

from conformance._types import JSON
from conformance.contract import Contract

#: Writable properties that are primary keys of other objects (DRF PrimaryKeyRelatedField).
FOREIGN_KEYS = ("dashboard", "metric")
#: Writable properties that are DRF CharFields (trim whitespace, refuse NUL, accept numbers).
CHAR_FIELDS = ("name", "field")
#: Writable properties that are DRF IntegerFields ("5" and 5.0 accepted).
INTEGER_FIELDS = ("project",)


def _pick(choices: Sequence[JSON], seed_value: JSON) -> JSON:
    # Deterministic in the generated value, so Hypothesis replays and shrinks stay stable; crc32, not hash():
    # str hashes are salted per process, which made two runs with the same seed pick different ids.
    return choices[zlib.crc32(repr(seed_value).encode()) % len(choices)]


def strip_nul(value: JSON) -> JSON:
    """Remove NUL characters from every string in ``value`` (DRF CharFields refuse them)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {strip_nul(k): strip_nul(v) for k, v in value.items()}
    return value


def documented_examples(contract: Contract, prop: str, schema_name: str = "Widget") -> list[JSON]:
    """The values the fragment documents for an untyped property (its ``examples``), e.g. ``group_by``'s shapes."""
    if prop not in contract.properties(schema_name):
        return []
    return list(contract.property_schema(schema_name, prop).get("examples", []))


def fix_positive_body(
    body: JSON,
    *,
    dashboards: Sequence[int | None],
    metrics: Sequence[int | None],
    group_by: Sequence[JSON] = (),
) -> JSON:
    """Make a schema-valid widget body one a correct DRF implementation accepts.

    Foreign keys are replaced by ids that exist for the caller (or null); CharFields lose NUL characters;
    filter conditions get values every reading of their operator accepts (``unambiguous_filter``); ``group_by``
    (any JSON in the live revision: the API may check its shape, which is not documented beyond the examples)
    becomes one of its documented ``group_by`` examples.
    """
    if not isinstance(body, dict):
        return body
    fixed = dict(body)
    if "filters" in fixed:
        fixed["filters"] = unambiguous_filter(fixed["filters"])
    for name, choices in (("dashboard", dashboards), ("metric", metrics)):
        if name in fixed and fixed[name] is not None and choices:
            fixed[name] = _pick(choices, fixed[name])
    if "group_by" in fixed and group_by and fixed["group_by"] not in group_by:
        fixed["group_by"] = _pick(group_by, fixed["group_by"])
    for name in CHAR_FIELDS:
        if isinstance(fixed.get(name), str):
            fixed[name] = strip_nul(fixed[name])
    return fixed


def own_dashboard(body: JSON, *, dashboards: Sequence[int | None]) -> JSON:
    """A body whose ``dashboard`` DRF would look up as a pk (an int, or a string or float it coerces), pointed
    at one of the run's own dashboards, in the type it was generated in ("37" stays a string, 5.5 a float).

    Negative bodies are sent as generated, and their foreign keys are random: a target may still accept one
    (DRF coerces "37"), and would attach the widget to whatever dashboard 37 is, possibly one another check of
    the run is watching (a concurrent case counting its dashboard's widgets). Whatever else the body negates,
    it now names a dashboard nobody checks the widgets of.
    """
    choices = [d for d in dashboards if d is not None]
    if not isinstance(body, dict) or not choices:
        return body
    value = body.get("dashboard")
    if value is None or not _coercible_integer(value, pk=True):
        return body
    own = _pick(choices, value)
    assert own is not None
    new: JSON
    if isinstance(value, int):
        new = own
    elif isinstance(value, float):
        new = own + (value - math.floor(value))  # the fraction DRF's int() drops
    else:
        core = str(value).strip()
        new = str(value).replace(core, str(own), 1) if core else str(own)
    return {**body, "dashboard": new}


#: Operators whose value has one natural type. The published schema leaves ``value`` untyped and the API's
#: checking of it is unknown (reference Part C): a target may refuse ``{"op": "in", "value": 5}`` or store it.
#: Positive bodies keep to the type both kinds of target accept, so neither is failed for its choice.
VALUE_TYPES: dict[str, tuple[type, ...]] = {"in": (list,), "isnull": (bool,)}


def unambiguous_filter(node: JSON) -> JSON:
    """``node`` with each ``in`` value made a list and each ``isnull`` value a boolean (iteratively: any depth)."""
    if not isinstance(node, dict):
        return node
    root: dict[str, JSON] = dict(node)
    stack = [root]
    while stack:
        current = stack.pop()
        op, value = current.get("op"), current.get("value")
        if isinstance(op, str) and op in VALUE_TYPES and "value" in current and not isinstance(value, VALUE_TYPES[op]):
            current["value"] = [value] if op == "in" else bool(value)
        children = current.get("conditions")
        if isinstance(children, list):
            copied = [dict(c) if isinstance(c, dict) else c for c in children]
            current["conditions"] = copied
            stack.extend(c for c in copied if isinstance(c, dict))
    return root


def drf_char_value(value: JSON) -> JSON:
    """The value a DRF CharField stores for ``value`` (whitespace trimmed, numbers as strings)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _coercible_integer(value: JSON, *, pk: bool) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    if isinstance(value, float):
        # DRF's IntegerField takes 5.0; a pk lookup goes through Django, whose int() truncates 5.5.
        return math.isfinite(value) and (pk or value.is_integer())
    if isinstance(value, str):
        # DRF's IntegerField drops a zero fraction first ("5.0" -> "5"), as its re_decimal does.
        text = value.strip() if pk else re.sub(r"\.0*\s*$", "", value.strip())
        try:
            number = float(text) if pk else int(text)
        except ValueError:
            return False
        return math.isfinite(number) if isinstance(number, float) else True
    return False


def _coerced(prop: str, value: JSON) -> JSON:
    """``value`` as DRF would coerce it before validation, or ``value`` itself."""
    if prop in FOREIGN_KEYS and value == "":
        return None  # DRF's RelatedField.run_validation: "" means null for a relation
    if prop in FOREIGN_KEYS and value is not None and _coercible_integer(value, pk=True):
        return 1  # any existing-looking pk: whether it exists is judged elsewhere
    if prop in INTEGER_FIELDS and value is not None and _coercible_integer(value, pk=False):
        return int(float(value)) if not isinstance(value, int) else value
    if prop in CHAR_FIELDS and isinstance(value, int | float | str) and not isinstance(value, bool):
        return drf_char_value(value)  # max_length applies after DRF trims the whitespace
    return value


def drf_would_accept(contract: Contract, schema_name: str, body: JSON) -> bool:
    """Whether DRF's default coercions turn ``body`` into one valid against ``schema_name``.

    Read-only and unknown keys are dropped (DRF ignores both), integer-like values of pk fields become
    integers, CharFields are trimmed and numbers in them become strings; the rest must then validate as it is.
    """
    if not isinstance(body, Mapping):
        return False
    writable = set(contract.writable(schema_name))
    cleaned = {k: _coerced(k, v) for k, v in body.items() if k in writable}
    for prop, value in cleaned.items():
        # A member a later revision adds (x-cekura-later-values: stat, p95...) is valid on the live API: it is
        # never a negative, so judge the rest of the body as if a documented member stood there.
        if isinstance(value, str) and value in contract.later_values(schema_name, prop):
            cleaned[prop] = contract.enum_members(schema_name, prop)[0]
    return not contract.errors({"$ref": f"#/components/schemas/{schema_name}"}, cleaned)
