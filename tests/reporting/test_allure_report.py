"""Allure: the run-level files, ``cekura-conformance report`` with Allure 3, and the HTML a person opens."""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from allure_commons.logger import AllureFileLogger

from conformance.engine.redact import Scrubber
from conformance.reporting import allure_files, allure_html
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.cli import run_cli

SECRET = "cekura-secret-key-0123456789"
OTHER_SECRET = "cekura-other-secret-9876543210"


def _summary(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "suite_version": "0.1.0",
        "contract": {"version": "1.0.0", "sha256": "a" * 64, "revision": "live"},
        "catalogue": {"sha256": "b" * 64},
        "target": {"base_url": f"https://user:{SECRET}@widgets.example.test/api"},
        "profile": "quick",
        "seed": 7,
        "verdict": "not-conformant",
        "fixtures": {"tag": f"cwc-20260101T000000-abcdef {SECRET}"},
    }
    data.update(over)
    return data


def _read_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith(("#", "!")))
    return {key: value for key, value in pairs}


# Run-level files ---------------------------------------------------------------------------------------


def test_environment_categories_and_executor_are_written_scrubbed(tmp_path: Path) -> None:
    paths = allure_files.write(_summary(), tmp_path, Scrubber([SECRET, OTHER_SECRET]))
    assert sorted(p.name for p in paths) == ["categories.json", "environment.properties", "executor.json"]
    for path in paths:
        assert SECRET not in path.read_text(encoding="utf-8")
        assert path.read_text(encoding="ascii")  # Allure 2 reads .properties as ISO-8859-1: ASCII only

    env = _read_properties((tmp_path / "environment.properties").read_text())
    assert env == {
        "verdict": "not-conformant",  # the run's own verdict word, never recomputed
        "target": "https://widgets.example.test/api",  # user:password dropped, not only scrubbed
        "suite.version": "0.1.0",
        "contract.revision": "live",
        "contract.version": "1.0.0",
        "contract.sha256": "a" * 64,
        "catalogue.sha256": "b" * 64,
        "profile": "quick",
        "seed": "7",
    }
    # Among the rows Allure 3 shows before "Show more" (eight, the executor's first).
    assert list(env)[:6] == ["verdict", "target", "contract.revision", "contract.sha256", "profile", "seed"]

    categories = json.loads((tmp_path / "categories.json").read_text())
    assert [c["name"] for c in categories] == ["Contract violation", "Target error", "Suite error"]
    assert [c["matchedStatuses"] for c in categories] == [["failed"], ["broken"], ["broken"]]
    assert "messageRegex" not in categories[0] and "messageRegex" not in categories[2]
    assert all(set(c) <= {"name", "description", "matchedStatuses", "messageRegex", "traceRegex"} for c in categories)

    executor = json.loads((tmp_path / "executor.json").read_text())
    assert executor["name"] == "cekura-conformance" and executor["type"] == "local"
    assert executor["buildName"] == "cwc-20260101T000000-abcdef [REDACTED]"
    assert executor["reportName"] == allure_files.REPORT_NAME


def test_build_name_falls_back_to_the_seed_and_embedded_target_is_kept() -> None:
    summary = _summary(fixtures={}, target={"base_url": "embedded"})
    assert allure_files.executor(summary)["buildName"] == "seed 7"
    assert allure_files.environment(summary)["target"] == "embedded"


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("conformance.engine.errors.TargetUnavailable: http://t did not answer GET /x/: ConnectError", "Target error"),
        ("conformance.engine.errors.SuiteError: the run cannot go on: TargetUnavailable: ...\nmore", "Target error"),
        ("conformance.engine.errors.SuiteError: WPATCH-X-01: fixture could not be created", "Suite error"),
    ],
)
def test_broken_messages_fall_in_the_right_category(message: str, category: str) -> None:
    # Allure 2 anchors the regex (Java String.matches), Allure 3 searches (JavaScript RegExp.test): both agree.
    def first(match: Any) -> str:
        for rule in allure_files.CATEGORY_RULES:
            regex = rule.get("messageRegex")
            if "broken" in rule["matchedStatuses"] and (regex is None or match(regex, message)):
                return str(rule["name"])
        return "none"

    assert first(re.fullmatch) == category
    assert first(re.search) == category


def test_properties_escape_what_java_would_misread() -> None:
    text = allure_files.properties({"a key=x": "line1\nline2 \\ é 𝄞", "k": " leading"})
    assert text == "a\\ key\\=x=line1\\nline2 \\\\ \\u00e9 \\ud834\\udd1e\nk=\\ leading\n"


def test_session_files_go_where_allure_pytest_records(tmp_path: Path) -> None:
    import allure_commons

    assert allure_files.write_for_session(_summary(), Scrubber([SECRET])) == []
    logger = AllureFileLogger(str(tmp_path / "results"))
    allure_commons.plugin_manager.register(logger)
    try:
        written = allure_files.write_for_session(_summary(), Scrubber([SECRET]))
    finally:
        allure_commons.plugin_manager.unregister(logger)
    assert {p.parent for p in written} == {tmp_path / "results"} and len(written) == 3


# The report command, without rendering ------------------------------------------------------------------


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, timeout=600)


def test_report_without_node_exits_2_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "allure-results").mkdir()
    (tmp_path / "allure-results" / "x-result.json").write_text("{}")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    proc = _cli("report", "--report-dir", str(tmp_path), env={"PATH": str(empty)})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("cekura-conformance: the HTML report needs Node.js") and "node" in proc.stderr


def test_report_without_results_exits_2(tmp_path: Path) -> None:
    proc = _cli("report", "--report-dir", str(tmp_path))
    assert proc.returncode == 2 and "no Allure results" in proc.stderr and "Traceback" not in proc.stderr


def test_allurerc_names_the_report_keeps_history_and_uses_awesome(tmp_path: Path) -> None:
    rc = allure_html.config(tmp_path, tmp_path / "out")
    assert rc["name"] == "Cekura widget PATCH conformance"
    assert rc["historyPath"] == str(tmp_path / "history" / "history.jsonl") and rc["appendHistory"] is True
    assert rc["output"] == str(tmp_path / "out")
    assert set(rc["plugins"]) == {"awesome", "agent"} and rc["plugins"]["agent"] == {"enabled": False}
    assert [c["name"] for c in rc["categories"]] == ["Contract violation", "Target error", "Suite error"]
    assert json.loads(json.dumps(rc)) == rc


def test_rendering_the_same_run_again_replaces_its_history_point(tmp_path: Path) -> None:
    history = tmp_path / "history" / "history.jsonl"
    history.parent.mkdir()
    history.write_text('{"run": 1}\n{"run": 2}\n')
    (tmp_path / "history" / "last-run.json").write_text(json.dumps({"run": "run-2", "kept": 1}))
    assert allure_html._prepare_history(tmp_path, "run-3") == 2  # another run: everything kept
    assert allure_html._prepare_history(tmp_path, "run-2") == 1  # the same run: its earlier point dropped
    assert history.read_text() == '{"run": 1}\n'


def test_an_output_that_is_not_a_report_is_never_removed(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(allure_html.ReportError, match="not an Allure report"):
        allure_html._clear_output(tmp_path)
    assert (tmp_path / "precious.txt").exists()


# Rendering with Allure 3 and reading the HTML in Chromium -----------------------------------------------

FAULTY_SERVER = """
import socket
import sys

import uvicorn

from conformance.emulator.faults import create_variant_app

sock = socket.socket()
# Without it the pre-bound socket's connections wait out delayed ACKs: ~45 ms per request instead of ~1.
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
config = uvicorn.Config(create_variant_app(sys.argv[1]), log_level="warning", access_log=False)
uvicorn.Server(config).run(sockets=[sock])
"""


class Rendered:
    """Two runs (the clean emulator twice, a faulty target once) and their rendered reports."""

    def __init__(self, root: Path) -> None:
        self.clean = root / "clean"
        self.faulty = root / "faulty"
        self.timings: dict[str, float] = {}
        self.outputs: dict[str, subprocess.CompletedProcess[str]] = {}

    def timed(self, label: str, *args: str) -> subprocess.CompletedProcess[str]:
        start = time.monotonic()
        proc = _cli(*args)
        self.timings[label] = round(time.monotonic() - start, 1)
        self.outputs[label] = proc
        return proc


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rendered]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are not installed: Allure 3 cannot render the HTML report")
    out = Rendered(tmp_path_factory.mktemp("allure"))
    clean = ("run", "--seed", "7", "--report-dir", str(out.clean))
    assert out.timed("clean run 1", *clean).returncode == 0, out.outputs["clean run 1"].stderr[-2000:]
    proc = out.timed("render clean 1 (installs Allure on first use)", "report", "--report-dir", str(out.clean))
    assert proc.returncode == 0, proc.stderr
    assert out.timed("render clean 1 again", "report", "--report-dir", str(out.clean)).returncode == 0
    assert out.timed("clean run 2", *clean).returncode == 0
    assert out.timed("render clean 2", "report", "--report-dir", str(out.clean)).returncode == 0

    script = out.faulty.parent / "faulty_server.py"
    script.write_text(FAULTY_SERVER)
    server = subprocess.Popen(
        [sys.executable, str(script), "clears_unsent_fields"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()
        assert line.strip().isdigit(), server.stderr.read()[-2000:] if server.poll() is not None else line
        port = int(line)
        proc = out.timed(
            "faulty run",
            *("run", "--seed", "7", "--report-dir", str(out.faulty), "--base-url", f"http://127.0.0.1:{port}"),
            *("--api-key", EMBEDDED_KEY, "--other-api-key", EMBEDDED_OTHER_KEY),
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert out.timed("render faulty", "report", "--report-dir", str(out.faulty)).returncode == 0
    yield out
    print("timings (s):", json.dumps(out.timings))


@pytest.mark.slow
@pytest.mark.node
def test_report_renders_both_runs_and_keeps_history(rendered: Rendered) -> None:
    for report_dir in (rendered.clean, rendered.faulty):
        results = report_dir / "allure-results"
        assert {"environment.properties", "categories.json", "executor.json"} <= {p.name for p in results.iterdir()}
        assert (report_dir / "allure-report" / "index.html").is_file()
        assert (report_dir / "allurerc.json").is_file()
        for path in report_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert EMBEDDED_KEY.encode() not in data and EMBEDDED_OTHER_KEY.encode() not in data, path
    stdout = rendered.outputs["render faulty"].stdout
    assert f"Allure report: {rendered.faulty / 'allure-report' / 'index.html'}" in stdout
    # Two clean runs, the first rendered twice: two points, not three.
    points = (rendered.clean / "history" / "history.jsonl").read_text().splitlines()
    assert len(points) == 2
    assert all(json.loads(p)["name"] == "Cekura widget PATCH conformance" for p in points)
    assert len((rendered.faulty / "history" / "history.jsonl").read_text().splitlines()) == 1
    # The second clean report's trend has the first run and itself.
    charts = json.loads((rendered.clean / "allure-report" / "widgets" / "charts.json").read_text())["general"]
    dynamics = [c["data"] for c in charts.values() if c.get("type") == "statusDynamics"]
    assert [len(points) for points in dynamics] == [2], dynamics


def _leaves(dom: str) -> list[tuple[str, str]]:
    """The awesome tree's leaves as rendered: (status, title) of each ``data-testid="tree-leaf"`` button."""
    leaves = []
    for chunk in dom.split('data-testid="tree-leaf"')[1:]:
        status = re.search(r'data-testid="tree-leaf-status-(\w+)"', chunk)
        title = re.search(r'data-testid="tree-leaf-title"[^>]*>([^<]*)<', chunk)
        if status and title:
            leaves.append((status[1], html.unescape(title[1])))
    return leaves


def _visible_text(dom: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Browser:
    """Headless Chromium over a loopback HTTP server (the report fetches its data, which file:// blocks)."""

    FLAGS = (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=15000",
    )

    def __init__(self, chromium: str, report: Path, profiles: Path) -> None:
        self.chromium, self.profiles = chromium, profiles
        handler = functools.partial(_Quiet, directory=str(report))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/index.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _run(self, *args: str) -> str:
        profile = self.profiles / f"profile-{len(list(self.profiles.iterdir()))}"
        cmd = [self.chromium, *self.FLAGS, f"--user-data-dir={profile}", *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return proc.stdout

    def dom(self, fragment: str = "") -> str:
        return self._run("--dump-dom", self.base + fragment)

    def screenshot(self, path: Path, fragment: str = "") -> None:
        self._run(f"--screenshot={path}", "--window-size=1400,1000", "--hide-scrollbars", self.base + fragment)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _result_id(report: Path, requirement: str) -> str:
    """The file id Allure gave a requirement's result: the report's deep link is ``index.html#/<id>``."""
    for path in (report / "data" / "test-results").glob("*.json"):
        if json.loads(path.read_text())["name"].startswith(requirement + " "):
            return path.stem
    raise AssertionError(f"{requirement} not in {report}")


@pytest.fixture
def chromium() -> str:
    found = _chromium()
    if found is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium)")
    return found


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.browser
def test_a_person_sees_requirements_and_the_failure(rendered: Rendered, chromium: str, tmp_path: Path) -> None:
    summary = json.loads((rendered.faulty / "summary.json").read_text())
    failed = {r["id"] for r in summary["requirements"] if r["status"] == "failed"}
    assert "WPATCH-PARTIAL-01" in failed

    faulty_report = rendered.faulty / "allure-report"
    browser = Browser(chromium, faulty_report, tmp_path)
    try:
        dom = browser.dom()
        text = _visible_text(dom)
        # The overview: name, run metadata, and every failed requirement listed as failed (its group opens itself).
        assert "Cekura widget PATCH conformance" in text
        assert "profile quick" in text and "seed 7" in text and "contract.sha256" in text
        assert "contract.revision seed" in text
        assert "verdict not-conformant" in text  # the run's verdict, first in the metadata
        shown_failed = {title.split()[0] for status, title in _leaves(dom) if status == "failed"}
        assert failed <= shown_failed, (failed, _leaves(dom))
        # Property stages with findings are failed test results too: one each, none hidden as a retry.
        stages_failed = sum(1 for stage in summary["stages"] if stage["findings"])
        assert re.search(r"Failed\s+" + str(len(failed) + stages_failed) + r"\b", text), text[:2000]
        # The requirement's page: its verdict, our category, the failing case and how to reproduce it.
        page = _visible_text(browser.dom("#/" + _result_id(faulty_report, "WPATCH-PARTIAL-01")))
        assert "WPATCH-PARTIAL-01 [MUST] Fields absent from the PATCH body keep their values" in page
        assert "Failed" in page and "Category: Contract violation" in page
        assert "[failed]" in page and "changed: was" in page and "reproduce (curl)" in page
        shot = tmp_path / "faulty-report.png"
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        keep = os.environ.get("CEKURA_REPORT_SCREENSHOT")  # to look at it after the run
        if keep:
            shutil.copyfile(shot, keep)
    finally:
        browser.close()

    clean_report = rendered.clean / "allure-report"
    browser = Browser(chromium, clean_report, tmp_path)
    try:
        dom = browser.dom()
        text = _visible_text(dom)
        assert "Cekura widget PATCH conformance" in text and "Passed" in text
        assert 'data-testid="tab-failed"' not in dom and "tree-leaf-status-failed" not in dom
        page = _visible_text(browser.dom("#/" + _result_id(clean_report, "WPATCH-PARTIAL-01")))
        assert "WPATCH-PARTIAL-01 [MUST] Fields absent from the PATCH body keep their values" in page
        assert "Passed" in page and "[passed]" in page
    finally:
        browser.close()
