"""Types shared across the package: one name for "any JSON value", so no module restates it."""

from __future__ import annotations

from typing import Any, TypeAlias

#: A decoded JSON value (``json.loads`` output): dict, list, str, int, float, bool or None.
JSON: TypeAlias = Any
