"""The pieces concurrency stands on, alone: the baton, the pool, the throttle, the HTTP seam under workers,
per-thread bookkeeping, the cut of the stages into parts, the calibration of negative foreign keys."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import Future
from typing import Any

import httpx
import pytest

from conformance import calibration
from conformance.engine import properties
from conformance.engine.concurrency import Baton, Halted, Pool, seeded
from conformance.engine.errors import RateLimited
from conformance.engine.interrupt import Interruption, RunInterrupted
from conformance.engine.ledger import Ledger
from conformance.engine.target import Target, TargetConfig
from conformance.engine.throttle import Throttle


def test_the_baton_goes_to_waiting_threads_in_the_order_they_asked() -> None:
    baton, order = Baton(), []
    baton.take()
    threads = []
    for name in "abc":
        thread = threading.Thread(target=lambda name=name: (baton.take(), order.append(name), baton.give()))
        thread.start()
        threads.append(thread)
        while len(baton._waiting) < len(threads):  # each one queued before the next starts
            time.sleep(0.001)
    baton.give()
    for thread in threads:
        thread.join(5)
    assert order == ["a", "b", "c"] and not baton.held


def test_each_worker_keeps_its_own_global_random_across_turns() -> None:
    """What a worker draws from ``random`` between two requests is what it would draw alone (concurrency.py)."""

    def draws(seed: int) -> list[float]:
        random.seed(seed)
        return [random.random() for _ in range(6)]

    alone = {seed: draws(seed) for seed in (1, 2)}
    baton, seen = Baton(), {}

    def worker(seed: int) -> None:
        with baton.holding():
            random.seed(seed)
            got = []
            for _ in range(6):
                got.append(random.random())
                with baton.released():  # a request: the other worker runs and reseeds
                    time.sleep(0.002)
            seen[seed] = got

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == alone


def test_seeded_units_put_the_global_random_back() -> None:
    random.seed(99)
    expected = random.random()
    random.seed(99)
    with seeded(7):
        inside = random.random()
    assert random.random() == expected
    with seeded(7):
        assert random.random() == inside


def test_the_pool_runs_by_priority_then_order_and_a_stop_fails_what_never_ran() -> None:
    baton, ran = Baton(), []
    gate = threading.Event()
    pool = Pool(1, baton)
    blocker = pool.submit(gate.wait, seed=0, priority=0)
    time.sleep(0.05)  # the one worker is busy: what follows queues
    futures = [pool.submit(lambda n=n: ran.append(n), seed=n, priority=p) for n, p in ((1, 2), (2, 1), (3, 1))]
    gate.set()
    for future in futures:
        future.result(5)
    assert blocker.result(5) and ran == [2, 3, 1]
    late = Pool(1, baton)
    hold = threading.Event()
    late.submit(hold.wait, seed=0)
    time.sleep(0.05)
    pending = late.submit(lambda: "never", seed=0)
    late.stop()
    hold.set()
    with pytest.raises(Halted):
        pending.result(5)
    assert isinstance(late.submit(lambda: 1, seed=0).exception(5), Halted)


def test_a_429_pauses_everyone_once_and_the_pause_is_counted_once() -> None:
    throttle = Throttle()
    throttle.pause(0.3)
    throttle.pause(0.2)  # within the first pause: nothing more to wait
    assert 0.25 < throttle.reserve() <= 0.3
    assert throttle.responses_429 == 2 and throttle.paused_seconds == pytest.approx(0.3, abs=0.02)
    line = Throttle.line(throttle.as_dict())
    assert line is not None and "429 2 time(s)" in line and "0.3 s in all" in line
    assert Throttle.line(Throttle().as_dict()) is None


def test_max_rps_spaces_requests_across_all_callers() -> None:
    throttle = Throttle(max_rps=20)
    waits = [throttle.reserve() for _ in range(5)]  # five callers at once
    assert waits[0] == pytest.approx(0, abs=0.01)
    assert waits[4] == pytest.approx(0.2, abs=0.02)  # 1/20 s apart
    assert "at most 20 per second" in (Throttle.line(throttle.as_dict()) or "")


def _target(handler: Any, **config: Any) -> Target:
    target = Target(TargetConfig(base_url="http://t.test", api_key="k-123456", **config))
    target.client.close()
    target.client = httpx.Client(base_url="http://t.test", transport=httpx.MockTransport(handler))
    return target


def test_a_429_makes_another_worker_wait_for_its_retry_after() -> None:
    sent: list[tuple[str, float]] = []
    refused = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append((request.url.path, time.monotonic()))
        if request.url.path == "/limited/" and not refused.is_set():
            refused.set()
            return httpx.Response(429, headers={"Retry-After": "0.4"})
        return httpx.Response(200, json={})

    target = _target(handler)
    first = threading.Thread(target=target.request, args=("GET", "/limited/"))
    first.start()
    refused.wait(5)
    target.request("GET", "/other/")  # another worker, after the 429 arrived: it waits out the pause too
    first.join(5)
    times = {path: [t for p, t in sent if p == path] for path in ("/limited/", "/other/")}
    assert times["/other/"][0] - times["/limited/"][0] >= 0.35
    assert len(times["/limited/"]) == 2  # the refused request was sent again after the pause
    assert target.throttle.responses_429 == 1 and target.throttle.paused_seconds == pytest.approx(0.4, abs=0.05)


def test_a_stop_wakes_a_worker_paused_by_a_429_or_the_rate_limit() -> None:
    stop = Interruption(notify=lambda message: None)
    target = Target(TargetConfig(base_url="http://t.test", api_key="k-123456", max_rps=0.5), interruption=stop)
    target.client.close()
    target.client = httpx.Client(base_url="http://t.test", transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    target.request("GET", "/first/")  # takes the rate slot: the next one would wait 2 s
    target.throttle.pause(30)  # and a long Retry-After on top
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            target.request("GET", "/second/")
        except RunInterrupted as exc:
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    time.sleep(0.1)
    signalled = time.monotonic()
    stop.request("SIGTERM")
    thread.join(5)
    assert outcome and outcome[0].reason == "SIGTERM"
    assert time.monotonic() - signalled < 0.5


def test_recordings_and_tallies_are_per_thread() -> None:
    target = _target(lambda request: httpx.Response(200, json={}))
    results: dict[str, tuple[int, int]] = {}

    def worker(name: str, count: int) -> None:
        with target.recording() as recorder, target.tally() as tally:
            for _ in range(count):
                target.request("GET", f"/{name}/")
        results[name] = (len(recorder.exchanges), tally.requests)

    threads = [threading.Thread(target=worker, args=(name, n)) for name, n in (("a", 3), ("b", 5))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert results == {"a": (3, 3), "b": (5, 5)} and target.requests_sent == 8


def test_each_thread_collects_what_it_created_and_nothing_else() -> None:
    ledger = Ledger("cwc-t", "http://t.test")
    mine: dict[str, list[Any]] = {}
    barrier = threading.Barrier(2)

    def worker(name: str, ids: range) -> None:
        with ledger.collecting() as outer, ledger.collecting() as inner:
            barrier.wait()
            for n in ids:
                ledger.add("widget", n, "primary", f"{name}{n}")
        mine[name] = [c.id for c in outer]
        assert [c.id for c in inner] == mine[name]

    threads = [threading.Thread(target=worker, args=args) for args in (("a", range(0, 50)), ("b", range(50, 100)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert mine == {"a": list(range(0, 50)), "b": list(range(50, 100))} and len(ledger.entries) == 100


def test_workers_settle_their_creating_posts_before_the_cleanup() -> None:
    stop = Interruption(notify=lambda message: None)
    entered, answered = threading.Event(), threading.Event()

    def worker() -> None:
        with pytest.raises(RunInterrupted), stop.protected():  # a worker's POST: the stop is not raised inside
            entered.set()
            time.sleep(0.2)
            answered.set()

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait(5)
    stop.request("SIGINT")
    assert stop.settle(2) and answered.is_set()
    thread.join(5)
    assert stop.settle(0)  # nothing in flight


def test_a_halt_stops_the_workers_but_not_the_thread_that_halted() -> None:
    stop = Interruption(notify=lambda message: None)
    stop.halt()
    stop.check()  # the halting thread goes on (the cleanup)
    failed: list[BaseException] = []

    def worker() -> None:
        try:
            stop.check()
        except RunInterrupted as exc:
            failed.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert failed and not stop.requested


def test_the_cut_depends_on_the_profile_only() -> None:
    assert properties.shares(40, 20) == [20, 20]
    assert properties.shares(15, 5) == [5, 5, 5]
    assert properties.shares(244, 25) == [25] * 4 + [24] * 6
    assert properties.shares(3, 20) == [3]
    assert properties.part_seed(11, 0) == 11 and properties.part_seed(11, 1) == properties.part_seed(11, 1) != 11


@pytest.mark.parametrize(
    ("value", "expected"),
    [(37, 3), ("37", "3"), (" 37 ", " 3 "), (5.5, 3.5), (None, None), (True, True), ("abc", "abc"), ([1], [1])],
)
def test_a_negative_dashboard_a_target_could_read_names_one_of_the_runs_own(value: Any, expected: Any) -> None:
    fixed = calibration.own_dashboard({"dashboard": value, "name": 5}, dashboards=[3, None])
    assert fixed == {"dashboard": expected, "name": 5} and type(fixed["dashboard"]) is type(expected)


def test_a_future_failing_in_a_worker_fails_where_it_is_collected() -> None:
    pool = Pool(2, Baton())

    def broken() -> None:
        raise ValueError("boom")

    future: Future[None] = pool.submit(broken, seed=0)
    with pytest.raises(ValueError, match="boom"):
        future.result(5)
    pool.stop()


def test_a_429_after_every_retry_raises_rate_limited_with_the_exchange_recorded() -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(429, headers={"Retry-After": "0"})

    target = _target(handler, rate_limit_retries=3)
    with target.recording() as recorder, pytest.raises(RateLimited, match="429 Too Many Requests 4 times"):
        target.request("PATCH", "/dashboards/widgets/1/", json={})
    assert len(sent) == 4 and target.throttle.responses_429 == 4
    assert [e.status for e in recorder.exchanges] == [429]  # the answer that ended it is in the case's report
