"""The run's pace as a whole: a 429 pauses every worker, and ``--max-rps`` spaces all requests together.

A target that answers 429 is asking the client, not one connection, to slow down: every worker waits out the
``Retry-After`` (bounded by the target config's ``max_retry_after``), not only the one that got it. The time the
run spent paused is counted once however many workers waited (the union of the pauses), for the console and
``summary.json``. ``--max-rps R`` spaces requests at least ``1/R`` s apart across all workers (a token bucket
holding one token), so no window of a second ever sees more than R requests started.

Waiting is the caller's: ``reserve`` says how long, and the seam waits with the baton released and the run's
stop watched (``Interruption.sleep``), so a signal wakes a paused worker at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Throttle:
    max_rps: float | None = None
    paused_seconds: float = 0.0  # wall time the run was paused by 429s (overlapping pauses counted once)
    responses_429: int = 0
    _paused_until: float = 0.0
    _next_slot: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self) -> float:
        """Seconds to wait before sending the next request (a 429's pause, then this request's rate slot)."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._paused_until)
            if self.max_rps:
                start = max(start, self._next_slot)
                self._next_slot = start + 1.0 / self.max_rps
            return start - now

    def pause(self, seconds: float) -> None:
        """A 429 asked for ``seconds``: every request waits until then (an earlier, longer pause stands)."""
        with self._lock:
            now = time.monotonic()
            self.responses_429 += 1
            until = now + max(0.0, seconds)
            if until > self._paused_until:
                self.paused_seconds += until - max(now, self._paused_until)
                self._paused_until = until

    @staticmethod
    def line(recorded: dict[str, Any] | None) -> str | None:
        """For the console, from ``summary.json``'s ``throttle``: how the run was paced, if it was."""
        if not recorded:
            return None
        said = []
        if recorded.get("responses_429"):
            said.append(
                f"the target answered 429 {recorded['responses_429']} time(s); every worker waited out its "
                f"Retry-After: the run was paused {recorded.get('paused_seconds', 0):.1f} s in all"
            )
        if recorded.get("max_rps"):
            said.append(f"requests were spaced to at most {recorded['max_rps']:g} per second (--max-rps)")
        return "throttled: " + "; ".join(said) if said else None

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "max_rps": self.max_rps,
            "responses_429": self.responses_429,
            "paused_seconds": round(self.paused_seconds, 3),
        }
