"""Strict JSON in (DRF's JSONParser rules) and JSON out (UTF-8, escaped when a string cannot be encoded)."""

from __future__ import annotations

import json
import math

from conformance._types import JSON

_NOT_COMPLIANT = "Out of range float values are not JSON compliant"


def _refuse_constant(name: str) -> JSON:
    # DRF parses with strict constants: NaN, Infinity and -Infinity are not JSON.
    raise ValueError(f"{_NOT_COMPLIANT}: {name!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf, which no JSON text can carry back out
        raise ValueError(f"{_NOT_COMPLIANT}: {text[:40]!r}")
    return value


def loads_strict(raw: bytes) -> JSON:
    """Parse UTF-8 JSON; any problem (bad UTF-8, syntax, NaN, overflow, nesting) is a ``ValueError``."""
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError as error:
        raise ValueError(str(error)) from None


# The compact encoder every answer without an indent uses, built once (json.dumps builds one per call).
_COMPACT = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def dumps(body: JSON, indent: int | None = None) -> bytes:
    """UTF-8 JSON as DRF's ``JSONRenderer`` writes it: compact (or indented as the Accept header asked), U+2028 and
    U+2029 escaped; lone surrogates echoed from the input are written as ``\\uXXXX`` escapes."""
    separators = (",", ":") if indent is None else (",", ": ")
    if indent is None:
        text = _COMPACT.encode(body)
    else:
        text = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=separators, indent=indent)
    if "\u2028" in text or "\u2029" in text:  # valid JSON, but not valid JavaScript
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        ascii_text = json.dumps(body, ensure_ascii=True, allow_nan=False, separators=separators, indent=indent)
        return ascii_text.encode("ascii")
