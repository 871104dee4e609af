"""Reading what an answer holds: its body as JSON (None when it sent none), an ISO-8601 timestamp in it; and the
suite's own timestamps (run start and end, ledgers, cassettes) in the same ISO-8601 form.

The engine's one way to read each; the oracle (``oracle.py``) keeps its own on purpose (see there)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from conformance._types import JSON


def json_or_none(response: Any) -> JSON:
    """``response.json()`` (httpx's response or schemathesis's wrapper), or None when the body is not JSON.

    A body of JSON ``null`` also reads as None: every caller treats "no usable JSON" alike.
    """
    try:
        return response.json()
    except ValueError:
        return None


def iso_datetime(value: object) -> datetime | None:
    """An ISO-8601 text (``Z`` or an offset) as a datetime; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def utc_now() -> str:
    """Now, to the second, as the suite writes its own timestamps: ``2026-11-27T18:21:14Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
