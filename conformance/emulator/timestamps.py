"""Timestamps: integer microseconds inside, DRF's ISO-8601 UTC text outside."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    return time.time_ns() // 1000


def iso(us: int | None) -> str | None:
    """``2026-11-26T06:27:23.123456Z``; microseconds always shown so the text sorts like the time."""
    if us is None:
        return None
    seconds, micro = divmod(us, 1_000_000)
    return f"{_iso_seconds(seconds)}.{micro:06d}Z"


@lru_cache(maxsize=4096)
def _iso_seconds(seconds: int) -> str:
    # Cached: every widget read formats created_at and updated_at, mostly the same seconds again.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def advance(previous: int | None, now: int) -> int:
    """``now``, or one microsecond after ``previous`` when the clock has not moved past it."""
    if previous is None:
        return now
    return max(now, previous + 1)


def parse(text: str) -> int:
    """Microseconds since the epoch of an ISO-8601 text (``Z`` or an offset); ``ValueError`` if it is none."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)
