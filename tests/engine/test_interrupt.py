"""Interruption, the ledger and cleanup in isolation: signal semantics, the deadline, the file, the probe."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.engine import cleanup
from conformance.engine.interrupt import Interruption, RunInterrupted
from conformance.engine.ledger import Created, Ledger, Posting, read

SECRET = "cekura-secret-key-0123456789"


def _raise_signal(number: int) -> None:
    os.kill(os.getpid(), number)
    time.sleep(0.05)  # the handler runs at the next bytecode boundary; give it one


@pytest.fixture
def interruption() -> Any:
    stop = Interruption(notify=lambda message: None)
    stop.install()
    yield stop
    stop.uninstall()


@pytest.mark.parametrize("name", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_each_signal_raises_the_same_interruption_and_stops_requests(interruption: Interruption, name: str) -> None:
    with pytest.raises(RunInterrupted) as raised:
        _raise_signal(getattr(signal, name))
    assert raised.value.reason == name and isinstance(raised.value, KeyboardInterrupt)
    assert interruption.requested and interruption.deadline() is not None
    with pytest.raises(RunInterrupted):  # nothing more is sent, even if a framework swallowed the first one
        interruption.check()


def test_a_signal_while_finishing_never_raises_and_a_second_one_is_only_noted() -> None:
    notes: list[str] = []
    stop = Interruption(notify=notes.append)
    stop.install()
    try:
        with stop.finishing():
            _raise_signal(signal.SIGTERM)  # a first signal during a normal run's cleanup
            _raise_signal(signal.SIGINT)  # and a second one
            stop.check()  # cleanup requests still go out
        assert stop.reason == "SIGTERM" and stop.received == ["SIGTERM", "SIGINT"]
        assert notes and "already stopping" in notes[-1]
    finally:
        stop.uninstall()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_a_creating_request_in_flight_gets_its_answer_before_the_stop(interruption: Interruption) -> None:
    recorded = []
    with pytest.raises(RunInterrupted), interruption.protected():
        _raise_signal(signal.SIGINT)  # arrives while the POST awaits its answer
        interruption.answered()
        recorded.append("201 answer recorded")  # the ledger still learns the id
    assert recorded == ["201 answer recorded"]


def test_an_unanswered_creating_request_is_given_up_after_the_grace(
    interruption: Interruption, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("conformance.engine.interrupt.POST_GRACE", 0.2)
    started = time.monotonic()
    with pytest.raises(RunInterrupted), interruption.protected():
        _raise_signal(signal.SIGTERM)
        time.sleep(5)  # a target that never answers the POST
    assert time.monotonic() - started < 2
    assert signal.getsignal(signal.SIGALRM) is signal.SIG_DFL


def _fake_target(delay: float = 0.0, gone: set[str] | None = None) -> tuple[cleanup.Send, list[tuple[str, str, str]]]:
    calls: list[tuple[str, str, str]] = []

    def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
        calls.append((method, path, tenant))
        time.sleep(delay)
        return httpx.Response(404 if gone and path in gone else 204)

    return send, calls


def test_cleanup_deletes_widgets_first_with_each_tenants_key() -> None:
    entries = [
        Created("dashboard", 3, "primary", "d"),
        Created("widget", 4, "other", "w1"),
        Created("widget", 5, "primary", "w2"),
    ]
    send, calls = _fake_target(gone={"/dashboards/widgets/4/"})
    report = cleanup.delete(send, entries)
    assert calls == [
        ("DELETE", "/dashboards/widgets/5/", "primary"),
        ("DELETE", "/dashboards/widgets/4/", "other"),
        ("DELETE", "/dashboards/dashboards/3/", "primary"),
    ]
    assert all(e.deleted for e in entries) and not report.left and not report.timed_out
    assert entries[1].note == "already gone (404)"


def test_cleanup_stops_at_the_deadline_and_says_what_is_left() -> None:
    entries = [Created("widget", n, "primary", f"w{n}") for n in range(3, 13)]
    send, calls = _fake_target(delay=0.1)
    started = time.monotonic()
    report = cleanup.delete(send, entries, deadline=lambda: started + 0.35)
    assert time.monotonic() - started < 0.6
    assert report.timed_out and 2 <= len(calls) <= 5
    assert len(report.deleted) + len(report.left) == len(entries)
    assert {e.note for e in report.left} == {"not deleted: the cleanup deadline passed"}
    assert "the cleanup deadline passed" in report.line(len(entries))


def test_a_signal_during_a_normal_cleanup_bounds_the_rest_of_it() -> None:
    stop = Interruption(budget=0.25, notify=lambda message: None)
    entries = [Created("widget", n, "primary", f"w{n}") for n in range(3, 13)]
    slow, calls = _fake_target(delay=0.1)

    def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
        if len(calls) == 1:
            stop.request("SIGTERM")  # arrives while the run, finished, is deleting its objects
        return slow(method, path, tenant, timeout)

    with stop.finishing():
        report = cleanup.delete(send, entries, deadline=stop.deadline)
    assert report.timed_out and 2 <= len(calls) <= 6 and report.left


def test_the_ledger_file_names_tenants_never_keys_and_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = Ledger("cwc-t", "http://127.0.0.1:9", path, scrub=lambda text: text.replace(SECRET, "[REDACTED]"))
    assert ledger.open("2026-01-01T00:00:00Z") is None
    post = ledger.posting("widget", "other")
    ledger.answered(post, httpx.Response(201, json={"id": 7, "name": f"cwc-t w {SECRET}"}))
    refused = ledger.posting("dashboard", "primary")
    ledger.answered(refused, httpx.Response(400, json={"name": ["bad"]}))
    ledger.posting("widget", "primary")  # its answer never comes (a kill)
    ledger.close()
    text = path.read_text()
    assert SECRET not in text and "[REDACTED]" in text
    assert [json.loads(line)["event"] for line in text.splitlines()] == [
        "run",
        "posting",
        "created",
        "posting",
        "refused",
        "posting",
    ]
    recorded = read(path)
    assert recorded.tag == "cwc-t" and recorded.target == "http://127.0.0.1:9"
    assert [(c.kind, c.id, c.auth) for c in recorded.leftovers()] == [("widget", 7, "other")]
    assert [(p.kind, p.tenant) for p in recorded.unanswered] == [("widget", "primary")]
    assert recorded.outstanding()


def test_a_new_run_keeps_an_earlier_runs_unfinished_ledger(tmp_path: Path) -> None:
    earlier = Ledger("cwc-old", "http://127.0.0.1:9", tmp_path / "ledger.jsonl")
    earlier.open("2026-01-01T00:00:00Z")
    earlier.add("widget", 9, "primary", "cwc-old w")
    earlier.close()
    note = Ledger("cwc-new", "http://127.0.0.1:9", tmp_path / "ledger.jsonl").open("2026-01-02T00:00:00Z")
    assert note and "1 object(s)" in note and "cleanup" in note
    assert read(tmp_path / "ledger-cwc-old.jsonl").leftovers()[0].id == 9
    assert read(tmp_path / "ledger.jsonl").tag == "cwc-new"


def test_the_probe_finds_the_object_of_an_unanswered_post_by_its_tag() -> None:
    names = {12: "a widget the run did not create", 13: "cwc-t stateful"}

    def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
        widget_id = int(path.rstrip("/").rsplit("/", 1)[1])
        if widget_id in names:
            return httpx.Response(200, json={"id": widget_id, "name": names[widget_id]})
        return httpx.Response(404)

    entries = [Created("widget", 11, "primary", "cwc-t w")]
    found, unresolved = cleanup.probe(send, entries, [Posting(3, "widget", "primary")], "cwc-t")
    assert found == [("widget", 13, "primary", names[13])] and unresolved == []


def test_the_probe_also_reads_the_gaps_below_the_highest_known_id() -> None:
    """With --concurrency an unanswered POST can hold an id below another worker's answered one."""
    names = {9: "cwc-t d rel attach", 10: "someone else's", 12: "cwc-t w2"}
    read: list[int] = []

    def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
        found_id = int(path.rstrip("/").rsplit("/", 1)[1])
        read.append(found_id)
        if found_id in names:
            return httpx.Response(200, json={"id": found_id, "name": names[found_id]})
        return httpx.Response(404)

    entries = [Created("dashboard", i, "primary", "cwc-t d") for i in (8, 11)]
    posts = [Posting(3, "dashboard", "primary"), Posting(5, "dashboard", "primary")]
    found, unresolved = cleanup.probe(send, entries, posts, "cwc-t")
    assert found == [("dashboard", 9, "primary", names[9]), ("dashboard", 12, "primary", names[12])]
    assert unresolved == [] and 8 not in read and 11 not in read  # what the ledger knows is not read again


def test_with_no_known_id_of_a_kind_the_probe_reads_the_tenants_list() -> None:
    """A run killed before its first widget was answered: no sequence to follow, the list has the names."""
    pages = {
        "1": {"count": 3, "next": "http://t/dashboards/widgets/?page=2", "results": [{"id": 3, "name": "cwc-t w"}]},
        "2": {"count": 3, "next": None, "results": [{"id": 4, "name": "not ours"}, {"id": 5, "name": "cwc-t w2"}]},
    }
    asked: list[str] = []

    def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
        asked.append(f"{tenant} {path}")
        if "?page=" in path:
            return httpx.Response(200, json=pages[path.split("page=")[1].split("&")[0]] if tenant == "other" else {})
        return httpx.Response(404)

    posts = [Posting(1, "widget", "other"), Posting(2, "widget", "other"), Posting(3, "widget", "other")]
    found, unresolved = cleanup.probe(send, [], posts, "cwc-t")
    assert found == [("widget", 3, "other", "cwc-t w"), ("widget", 5, "other", "cwc-t w2")]
    assert unresolved == posts[2:]  # a third POST whose object nothing shows: said, never guessed
    assert asked == [
        "other /dashboards/widgets/?page=1&page_size=100",
        "other /dashboards/widgets/?page=2&page_size=100",
    ]
