"""Stopping a run: SIGINT, SIGTERM and SIGHUP all take one path, and the cleanup that follows has a deadline.

The first signal stops the run where it is: ``RunInterrupted`` is raised in the main thread, and from then on
the target sends no request of the run (``check``), so a test framework that swallowed the exception still
cannot go on. ``RunInterrupted`` is a ``KeyboardInterrupt``, which pytest, Hypothesis and schemathesis let
through as they do Ctrl-C. Two moments defer it:

* a creating POST (``protected``): its answer carries the id the ledger needs to delete the object, so it is
  awaited, for at most ``POST_GRACE`` seconds (then the POST is recorded as unanswered);
* the end of the run (``finishing``): cleanup and reports. A signal there (a second one, or a first one
  during a normal run's cleanup) never raises; it only starts the deadline if none runs yet.

The deadline: cleanup stops ``CLEANUP_BUDGET`` seconds after the first signal, each of its requests bounded
by what remains (GitHub Actions sends SIGTERM 7.5 s after SIGINT, and SIGKILL after that).

Worker threads (``--concurrency``): signals reach the main thread only, which stops waiting at once; a worker
learns of the stop at its next request (``check`` raises there too), or at once when it waits out a 429 or the
rate limit (``sleep``). A worker's creating POST is not protected by deferring the signal but awaited by the
main thread before the cleanup (``settle``, POST_GRACE at most). ``halt`` stops the workers at the end of a run
that was not interrupted (the target stopped answering), so nothing is sent while the cleanup runs.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
CLEANUP_BUDGET = 6.0  # seconds after the first signal for deleting; the rest of 7 s is for writing reports
CLEANUP_REQUEST_TIMEOUT = 2.0  # one cleanup request, at most (less when the deadline is nearer)
POST_GRACE = 2.0  # how long a creating POST in flight may still answer after a signal (a loaded target is slow;
# waiting ends as soon as none is in flight, and the 6 s cleanup deadline leaves 4 s for the deletions)
SLEEP_SLICE = 0.05  # a waiting worker looks at the stop this often


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by a signal; cleanup and reports follow."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"stopped by {reason}")
        self.reason = reason


def _stderr(message: str) -> None:
    print(f"cekura-conformance: {message}", file=sys.stderr, flush=True)


class Interruption:
    """One run's stop state and its signal handlers."""

    def __init__(self, *, budget: float = CLEANUP_BUDGET, notify: Callable[[str], None] = _stderr) -> None:
        self.budget = budget
        self.notify = notify
        self.reason: str | None = None  # what stopped the run ("SIGTERM", ...); None while it runs
        self.at: float | None = None  # monotonic time of the stop
        self.received: list[str] = []  # every signal received, in order
        self._protected = 0
        self._awaiting = False  # inside a protected section, before its answer arrived
        self._deferred = False
        self._finishing = 0
        self._alarm: tuple[Any, tuple[float, float]] | None = None
        self._installed: dict[int, Any] = {}
        self._finishers: set[int] = set()  # threads in ``finishing``: their requests go out after a stop
        self._halted_by: int | None = None  # the thread that halted the workers (it goes on)
        self._in_flight = 0  # workers' creating POSTs awaiting their answer
        self._settled = threading.Condition()

    # -- state ---------------------------------------------------------------------------------------------
    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str) -> None:
        """Record a stop; the first one counts (later ones do not move the deadline)."""
        if self.reason is None:
            self.reason = reason
            self.at = time.monotonic()

    def deadline(self) -> float | None:
        """Monotonic time by which cleanup must end; None while the run was not stopped."""
        return None if self.at is None else self.at + self.budget

    def check(self) -> None:
        """Refuse to go on once stopped (every request of the run passes here); the cleanup's thread goes on."""
        me = threading.get_ident()
        if me in self._finishers:
            return
        if self.reason is not None:
            raise RunInterrupted(self.reason)
        if self._halted_by is not None and me != self._halted_by:
            raise RunInterrupted("the end of the run")

    def halt(self) -> None:
        """Workers send nothing more (the run is ending without a signal); the calling thread goes on."""
        if self._halted_by is None:
            self._halted_by = threading.get_ident()

    def sleep(self, seconds: float) -> None:
        """Wait (a 429's Retry-After, the rate limit), waking at once when the run is stopped."""
        until = time.monotonic() + seconds
        while True:
            self.check()
            left = until - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, SLEEP_SLICE))

    def settle(self, timeout: float = POST_GRACE) -> bool:
        """Wait until no worker's creating POST awaits its answer (``timeout`` at most); True if none does."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._settled.wait(min(left, SLEEP_SLICE))
        return True

    # -- sections ------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def protected(self) -> Iterator[None]:
        """A creating request and the recording of its answer: a signal waits for them (POST_GRACE at most)."""
        if threading.current_thread() is not threading.main_thread():
            with self._worker_protected():
                yield
            return
        self._protected += 1
        self._awaiting = True
        try:
            yield
        finally:
            self._protected -= 1
            self._awaiting = False
            self._disarm_grace()
        if self._deferred and not self._protected:
            self._deferred = False
            self.check()

    @contextlib.contextmanager
    def _worker_protected(self) -> Iterator[None]:
        """A worker's creating request: the main thread, stopping, awaits it (``settle``) before cleaning up."""
        with self._settled:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._settled:
                self._in_flight -= 1
                self._settled.notify_all()
        self.check()

    def answered(self) -> None:
        """The protected request has its answer: what remains (recording it) is quick and never cut."""
        self._awaiting = False
        self._disarm_grace()

    @contextlib.contextmanager
    def finishing(self) -> Iterator[None]:
        """Cleanup and reports: signals are noted, never raised; this thread's requests still go out."""
        me = threading.get_ident()
        nested = me in self._finishers
        self._finishing += 1
        self._finishers.add(me)
        try:
            yield
        finally:
            self._finishing -= 1
            if not nested:
                self._finishers.discard(me)

    # -- signals -------------------------------------------------------------------------------------------
    def install(self) -> None:
        """Handle SIGINT, SIGTERM and SIGHUP (those this platform has) until ``uninstall``; main thread only."""
        if self._installed or threading.current_thread() is not threading.main_thread():
            return
        for name in SIGNALS:
            number = getattr(signal, name, None)
            if number is not None:
                previous = signal.signal(number, self._handle)
                self._installed[int(number)] = previous if previous is not None else signal.SIG_DFL

    def uninstall(self) -> None:
        for number, previous in self._installed.items():
            signal.signal(number, previous)
        self._installed.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if self.reason is not None:
            left = max(0.0, (self.deadline() or 0.0) - time.monotonic())
            self.notify(f"{name} received: the run is already stopping (cleanup ends within {left:.1f} s)")
            return
        self.request(name)
        if self._finishing:
            return
        if self._protected:
            self._deferred = True
            if self._awaiting:
                self._arm_grace()
            return
        raise RunInterrupted(name)

    def _arm_grace(self) -> None:
        """Give the creating POST in flight POST_GRACE seconds to answer, then give up on it."""
        if self._alarm is not None or not hasattr(signal, "setitimer"):
            return
        previous = signal.signal(signal.SIGALRM, self._grace_over)
        timer = signal.setitimer(signal.ITIMER_REAL, POST_GRACE)
        self._alarm = (previous, timer)

    def _grace_over(self, signum: int, frame: FrameType | None) -> None:
        if self._awaiting and self.reason is not None and not self._finishing:
            self._awaiting = False
            self._deferred = False
            raise RunInterrupted(self.reason)

    def _disarm_grace(self) -> None:
        if self._alarm is None:
            return
        previous, timer = self._alarm
        self._alarm = None
        signal.setitimer(signal.ITIMER_REAL, *timer)  # whatever timer ran before (usually none)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)


@contextlib.contextmanager
def as_keyboard_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, as SIGINT does (for a command's own code around a run)."""

    def raise_interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    installed: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for name in SIGNALS[1:]:
            number = getattr(signal, name, None)
            if number is not None:
                previous = signal.signal(number, raise_interrupt)
                installed[int(number)] = previous if previous is not None else signal.SIG_DFL
    try:
        yield
    finally:
        for number, previous in installed.items():
            signal.signal(number, previous)


def remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def request_timeout(deadline: float | None, default: float | None = None) -> float | None:
    """A cleanup request's timeout: CLEANUP_REQUEST_TIMEOUT at most, and never past the deadline."""
    left = remaining(deadline)
    if left is None:
        return default
    return max(0.05, min(CLEANUP_REQUEST_TIMEOUT, left))
