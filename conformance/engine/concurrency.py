"""Units of work side by side (``--concurrency N``): worker threads that take turns, handing over only to wait.

The work is waiting on the network, not computing, so threads fit: the engine, Hypothesis and schemathesis stay
synchronous. Workers take turns with a *baton*: a worker runs Python only while it holds the baton and hands it
over while it waits on the network (the HTTP seam does that, ``Baton.released``) or on a 429 or the rate limit.
So generation and bookkeeping never interleave between two workers except at a request, which makes two
promises:

* the libraries' shared state is only ever seen by one unit at a time (schemathesis and Hypothesis support
  tests in several threads, but a unit of this suite also keeps a fixture's state across its requests);
* the same cases are generated whatever the concurrency: schemathesis draws some choices from the global
  ``random`` module, which Hypothesis seeds at each example, and which another thread's example would otherwise
  reseed or consume mid-way. The baton saves and restores it with the turn, so each worker sees its own.

A unit (``Pool.submit``) is a function that returns its result; it runs in a worker holding the baton, with
the global ``random`` seeded from the unit's seed, as the serial run does (``seeded``).

The main thread takes part too: it holds the baton while it runs (pytest, the reports, the cleanup) and hands
it over only while it waits for a unit's result. Besides keeping pytest's state to one thread at a time, that
keeps CPython 3.11's ``ast`` module from being entered by two threads at once (its recursion counter is
shared: "AST constructor recursion depth mismatch"), which pytest's traceback rendering in the main thread and
lazy imports or Hypothesis's reflection in a worker would otherwise risk.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class Baton:
    """The turn to run Python among the workers, handed over in the order they asked for it (a waiting worker is
    never overtaken, so every response is processed about as soon as it arrives); the global ``random`` state
    travels with it."""

    def __init__(self) -> None:
        self._turns = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._waiting: collections.deque[int] = collections.deque()
        self._local = threading.local()

    @property
    def held(self) -> bool:
        return self._owner == threading.get_ident()

    def take(self) -> None:
        me = threading.get_ident()
        with self._turns:
            if self._owner is None and not self._waiting:
                self._owner = me
            else:
                self._waiting.append(me)
                try:
                    while self._owner != me:
                        self._turns.wait()
                except BaseException:  # a signal while the main thread waits: it must not keep a turn it left
                    if self._owner == me:
                        self._hand_over()
                    else:
                        self._waiting.remove(me)
                    raise
        state = getattr(self._local, "random_state", None)
        if state is not None:
            random.setstate(state)

    def give(self) -> None:
        if not self.held:
            return
        self._local.random_state = random.getstate()
        with self._turns:
            self._hand_over()

    def _hand_over(self) -> None:
        self._owner = self._waiting.popleft() if self._waiting else None
        self._turns.notify_all()

    def pause(self) -> None:
        """Let the workers that asked for a turn run, then go on (a long computation's courtesy)."""
        if self.held and self._waiting:
            self.give()
            self.take()

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self.take()
        try:
            yield
        finally:
            self.give()

    @contextlib.contextmanager
    def released(self) -> Iterator[None]:
        """Let another worker run while this one waits; a no-op for a thread without the baton."""
        if not self.held:
            yield
            return
        self.give()
        try:
            yield
        finally:
            self.take()


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """The global ``random`` seeded for one unit, and put back after it (serial and concurrent runs alike)."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


class Halted(Exception):
    """A unit that never ran: the pool stopped before a worker took it."""


class Pool:
    """N daemon worker threads running submitted units by priority (lower first), then in submission order.

    Daemon threads: a worker still waiting on an unanswered request never holds up the end of the process.
    """

    def __init__(self, workers: int, baton: Baton, *, name: str = "cwc-worker") -> None:
        self.baton = baton
        self._queue: list[tuple[int, int, Future[Any], Callable[[], Any], int]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n + 1}", daemon=True) for n in range(max(1, workers))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, unit: Callable[[], T], *, seed: int, priority: int = 0) -> Future[T]:
        future: Future[T] = Future()
        with self._ready:
            if self._stopped:
                future.set_exception(Halted("the run stopped before this ran"))
                return future
            heapq.heappush(self._queue, (priority, next(self._order), future, unit, seed))
            self._ready.notify()
        return future

    def stop(self) -> None:
        """No unit starts any more; those waiting fail with ``Halted``; running ones end at their next request."""
        with self._ready:
            self._stopped = True
            pending, self._queue = self._queue, []
            self._ready.notify_all()
        for _, _, future, _, _ in pending:
            future.set_exception(Halted("the run stopped before this ran"))

    @property
    def busy(self) -> int:
        return self._busy

    def drain(self, timeout: float) -> bool:
        """After ``stop``, from the thread holding the baton: let the workers end what they were doing (each
        raises at its next request), for ``timeout`` at most. A worker still waiting on the network then is
        left frozen: the baton is kept, so it never runs again. True if every worker ended."""
        deadline = time.monotonic() + max(0.0, timeout)
        self.baton.give()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.baton.take()
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopped:
                    self._ready.wait()
                if self._stopped:
                    return
                _, _, future, unit, seed = heapq.heappop(self._queue)
                self._busy += 1
            try:
                if future.set_running_or_notify_cancel():
                    self._run(future, unit, seed)
            finally:
                with self._ready:
                    self._busy -= 1

    def _run(self, future: Future[Any], unit: Callable[[], Any], seed: int) -> None:
        try:
            with self.baton.holding(), seeded(seed):
                result = unit()
        except BaseException as exc:  # a unit's every end is its future's (a stop included)
            future.set_exception(exc)
        else:
            future.set_result(result)
