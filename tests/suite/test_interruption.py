"""Interrupting a real ``cekura-conformance run`` by PID: every signal ends it the same way, nothing is left.

The target is the emulator served over HTTP in its own process, inspected afterwards through its API with both
tenants' keys. Each run is signalled as soon as its ledger file shows it created fixtures, so each test takes
seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.engine.ledger import LEDGER
from conformance.engine.target import API_KEY_HEADER
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.cli import run_cli, start_cli
from tests.served import Served

KEYS = ("--api-key", EMBEDDED_KEY, "--other-api-key", EMBEDDED_OTHER_KEY)
SEEDED_IDS = 2  # the emulator's seed has widgets and dashboards 1 and 2
BUDGET = 7.0  # GitHub Actions sends SIGTERM 7.5 s after SIGINT


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.stop()


def created(report_dir: Path) -> int:
    try:
        lines = (report_dir / LEDGER).read_text().splitlines()
    except FileNotFoundError:
        return 0
    return sum('"event": "created"' in line for line in lines)


def start_and_wait(*args: str, report_dir: Path, objects: int) -> subprocess.Popen[str]:
    """Start a run and return once its ledger shows ``objects`` created (it is then mid-run)."""
    proc = start_cli("run", *args, "--report-dir", str(report_dir))
    deadline = time.monotonic() + 90
    while created(report_dir) < objects:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"the run ended (exit {proc.returncode}) before creating {objects} objects: {out}{err}")
        time.sleep(0.02)
    return proc


def left_on(url: str) -> list[tuple[str, int, str]]:
    """Every widget and dashboard besides the seed's, as either tenant sees them through the API."""
    alive = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for kind, body in (("dashboards", {"name": "probe"}), ("widgets", {"chart_type": "bar", "field": "duration"})):
            # Ids are sequential: a probe object's id bounds every id the runs used.
            probe = client.post(f"/dashboards/{kind}/", json=body, headers={API_KEY_HEADER: EMBEDDED_KEY})
            assert probe.status_code == 201, probe.text
            top = probe.json()["id"]
            assert client.delete(f"/dashboards/{kind}/{top}/", headers={API_KEY_HEADER: EMBEDDED_KEY}).is_success
            for key in (EMBEDDED_KEY, EMBEDDED_OTHER_KEY):
                for number in range(SEEDED_IDS + 1, top):
                    answer = client.get(f"/dashboards/{kind}/{number}/", headers={API_KEY_HEADER: key})
                    if answer.status_code != 404:
                        alive.append((kind, number, answer.json().get("name", "")))
    return alive


def finished(proc: subprocess.Popen[str], signalled: float) -> tuple[str, str, float]:
    out, err = proc.communicate(timeout=30)
    return out, err, time.monotonic() - signalled


def summary(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "summary.json").read_text())
    return data


@pytest.mark.parametrize(
    ("name", "objects"),
    [("SIGINT", 4), ("SIGTERM", 8), ("SIGHUP", 12)],  # in the unit stages, then in the stateful sequences
)
def test_a_signal_mid_run_exits_3_interrupted_and_leaves_nothing(
    served: Served, tmp_path: Path, name: str, objects: int
) -> None:
    proc = start_and_wait("--base-url", served.url, *KEYS, report_dir=tmp_path, objects=objects)
    signalled = time.monotonic()
    os.kill(proc.pid, getattr(signal, name))
    out, err, took = finished(proc, signalled)
    assert proc.returncode == 3, out[-2000:] + err[-2000:]
    assert took < BUDGET
    data = summary(tmp_path)
    assert data["verdict"] == "interrupted" and data["conformant"] is False and data["exit_code"] == 3
    assert data["interrupted"].startswith(f"{name} received")
    assert data["fixtures"]["created"] and data["fixtures"]["leftovers"] == []
    assert len(data["fixtures"]["deleted"]) == len(data["fixtures"]["created"])
    verdict_line = out.strip().splitlines()[-2]
    assert verdict_line.startswith(f"INTERRUPTED: {name} received; the run created ") and "none left" in verdict_line
    assert "CONFORMANT" not in out.replace("INTERRUPTED", "") and "Traceback" not in out + err
    assert left_on(served.url) == []


def test_a_second_signal_during_cleanup_changes_nothing(served: Served, tmp_path: Path) -> None:
    proc = start_and_wait("--base-url", served.url, *KEYS, report_dir=tmp_path, objects=6)
    signalled = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    time.sleep(0.005)
    os.kill(proc.pid, signal.SIGTERM)  # as a CI runner does when the first one seems slow
    out, err, took = finished(proc, signalled)
    assert proc.returncode == 3 and took < BUDGET, out[-2000:] + err[-2000:]
    assert "Traceback" not in out + err
    data = summary(tmp_path)
    assert data["verdict"] == "interrupted" and data["interrupted"].startswith("SIGINT received")
    assert left_on(served.url) == []


def test_a_killed_run_is_cleaned_up_from_its_ledger(served: Served, tmp_path: Path) -> None:
    proc = start_and_wait("--base-url", served.url, *KEYS, report_dir=tmp_path, objects=8)
    proc.kill()  # SIGKILL: no cleanup, no summary
    proc.communicate()
    assert not (tmp_path / "summary.json").exists()
    assert left_on(served.url), "the killed run left objects behind"
    ledger_text = (tmp_path / LEDGER).read_text()
    assert EMBEDDED_KEY not in ledger_text and EMBEDDED_OTHER_KEY not in ledger_text

    cleaned = run_cli("cleanup", "--report-dir", str(tmp_path), *KEYS)
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
    assert "0 left" in cleaned.stdout and cleaned.stdout.strip().endswith("nothing left on the target")
    assert left_on(served.url) == []

    again = run_cli("cleanup", "--report-dir", str(tmp_path), *KEYS)
    assert again.returncode == 0 and "all deleted" in again.stdout


def test_cleanup_refuses_another_target_than_the_ledgers(served: Served, tmp_path: Path) -> None:
    ledger = tmp_path / LEDGER
    events = [
        {"event": "run", "tag": "cwc-x", "target": served.url},
        {"event": "created", "seq": 1, "kind": "widget", "id": 999, "tenant": "primary", "name": "cwc-x w"},
    ]
    ledger.write_text("".join(json.dumps(e) + "\n" for e in events))
    proc = run_cli("cleanup", "--report-dir", str(tmp_path), "--base-url", "http://127.0.0.1:9", *KEYS)
    assert proc.returncode == 2 and "refusing to delete its ids on another target" in proc.stderr
    missing = run_cli("cleanup", "--report-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no ledger" in missing.stderr


def test_the_embedded_target_interrupted_says_so(tmp_path: Path) -> None:
    proc = start_and_wait("--profile", "full", report_dir=tmp_path, objects=4)
    signalled = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)
    out, err, took = finished(proc, signalled)
    assert proc.returncode == 3 and took < BUDGET, out[-2000:] + err[-2000:]
    data = summary(tmp_path)
    assert data["verdict"] == "interrupted" and data["fixtures"]["leftovers"] == []
    assert "INTERRUPTED: SIGTERM received" in out
    cleaned = run_cli("cleanup", "--report-dir", str(tmp_path))
    assert cleaned.returncode == 0 and "nothing to clean across processes" in cleaned.stdout
