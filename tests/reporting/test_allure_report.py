"""Allure: the run-level files, ``cekura-conformance report`` with Allure 3, and the HTML a person opens."""

from __future__ import annotations

import csv
import functools
import io
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
from xml.etree import ElementTree as ET

import pytest
from allure_commons import model2

from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.outcomes import CaseResult, Status
from conformance.engine.redact import Scrubber
from conformance.engine.runner import verdict
from conformance.reporting import allure_files, allure_html, allure_view
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.cli import run_cli
from tests.reporting.chromium import Chromium, on_screen

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
        "verdict_line": "NOT CONFORMANT: 2 MUST requirement(s) failed: WPATCH-RO-01, WPATCH-TS-01",
        "must": {
            "judged": 30,
            "failed": ["WPATCH-RO-01", "WPATCH-TS-01"],
            "errored": [],
            "skipped": [{"id": "WPATCH-TEN-01", "reason": "needs a second tenant's key"}],
        },
        "requirements": [
            {"id": "WPATCH-RO-01", "level": "MUST", "tentative": False, "status": "failed"},
            {"id": "WPATCH-RO-02", "level": "SHOULD", "tentative": False, "status": "failed"},
            {"id": "WPATCH-X-09", "level": "MUST", "tentative": True, "status": "failed"},
            {"id": "WPATCH-TS-01", "level": "MUST", "tentative": False, "status": "failed"},
            {"id": "WPATCH-NF-01", "level": "SHOULD", "tentative": False, "status": "passed"},
        ],
        "coverage": {
            "operation": "PATCH /dashboards/widgets/{id}/",
            "percent": 96.5,
            "covered": 56,
            "total": 58,
            "missing": ["aggregation_function=null", "filters op=isnull"],
            "items": [
                {
                    "item": "aggregation_function=null",
                    "kind": "value",
                    "covered": False,
                    "by": [],
                    "more": 0,
                    "answers": {},
                },
                {
                    "item": "name: 256 characters",
                    "kind": "value",
                    "covered": True,
                    "by": ["WPATCH-LEN-02 · 256"],
                    "more": 2,
                    "answers": {"400": 3},
                },
            ],
        },
        "stages": [
            {
                "name": "examples",
                "seed": 7,
                "examples": 4,
                "requests": 9,
                "seconds": 0.1,
                "error": None,
                "findings": [{"check": "oracle:partial", "exchanges": []}],
            }
        ],
        "finished_at": "2026-01-01T00:00:05Z",
        "fixtures": {"tag": f"cwc-20260101T000000-abcdef {SECRET}"},
    }
    data.update(over)
    return data


def _read_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith(("#", "!")))
    return {key: value for key, value in pairs}


# Run-level files ---------------------------------------------------------------------------------------


def test_run_level_files_are_written_scrubbed(tmp_path: Path) -> None:
    paths = allure_files.write(_summary(), tmp_path, Scrubber([SECRET, OTHER_SECRET]))
    assert sorted(p.name for p in paths) == sorted(
        [
            "categories.json",
            "environment.properties",
            "executor.json",
            "cekura-globals.json",
            "cekura-coverage-attachment.csv",
            "cekura-stages-attachment.json",
        ]
    )
    for path in paths:
        assert SECRET not in path.read_text(encoding="utf-8")
    assert (tmp_path / "environment.properties").read_text(encoding="ascii")  # Allure 2 reads it as ISO-8859-1

    env = _read_properties((tmp_path / "environment.properties").read_text())
    # The verdict first, as the run's own verdict line says it, then the MUSTs behind it, the contract, the
    # target (user:password dropped, not only scrubbed) and the coverage figure; then how to reproduce the run.
    assert list(env.items()) == [
        ("verdict", "NOT CONFORMANT"),
        ("MUST\\ failed", "2: WPATCH-RO-01, WPATCH-TS-01"),
        ("MUST\\ skipped", "1: WPATCH-TEN-01 (needs a second tenant's key)"),
        ("contract", "revision live, version 1.0.0"),
        ("target", "https://widgets.example.test/api"),
        ("contract\\ coverage", "96.5% (56 of 58 documented values sent)"),
        ("profile", "quick"),
        ("seed", "7"),
        ("suite.version", "0.1.0"),
        ("contract.sha256", "a" * 64),
        ("catalogue.sha256", "b" * 64),
    ]

    categories = json.loads((tmp_path / "categories.json").read_text())
    assert [c["name"] for c in categories] == ["Contract violation", "Target error", "Suite error"]
    assert [c["matchedStatuses"] for c in categories] == [["failed"], ["broken"], ["broken"]]
    assert "messageRegex" not in categories[0] and "messageRegex" not in categories[2]
    assert all(set(c) <= {"name", "description", "matchedStatuses", "messageRegex", "traceRegex"} for c in categories)

    executor = json.loads((tmp_path / "executor.json").read_text())
    assert executor["name"] == "cekura-conformance" and executor["type"] == "local"
    assert executor["buildName"] == "cwc-20260101T000000-abcdef [REDACTED]"
    assert executor["reportName"] == allure_files.REPORT_NAME

    # Global attachments: the coverage map as a table, and what each property stage did.
    globals_ = json.loads((tmp_path / "cekura-globals.json").read_text())
    assert [(a["name"], a["source"], a["type"]) for a in globals_["attachments"]] == [
        ("contract coverage", "cekura-coverage-attachment.csv", "text/csv"),
        ("property stages", "cekura-stages-attachment.json", "application/json"),
    ]
    rows = list(csv.reader(io.StringIO((tmp_path / "cekura-coverage-attachment.csv").read_text())))
    assert rows == [
        ["item", "kind", "exercised", "by", "answers"],
        ["aggregation_function=null", "value", "NO", "", ""],
        ["name: 256 characters", "value", "yes", "WPATCH-LEN-02 · 256; and 2 more", "400 x3"],
    ]
    stages = json.loads((tmp_path / "cekura-stages-attachment.json").read_text())
    assert stages == [
        {
            "name": "examples",
            "seed": 7,
            "examples": 4,
            "requests": 9,
            "seconds": 0.1,
            "error": None,
            "findings": ["oracle:partial"],
        }
    ]


def test_a_certify_run_shows_its_level_and_the_revision_when_there_is_one() -> None:
    summary = _summary(profile="certify", contract={"version": "1.1.0", "revision": "live", "sha256": "c" * 64})
    env = allure_files.environment(summary)
    assert env["level"] == "none" and env["contract"] == "revision live, version 1.1.0"
    assert allure_files.report_name(summary) == "NOT CONFORMANT, level none · Cekura widget PATCH conformance"
    assert list(env)[:4] == ["verdict", "MUST failed", "MUST skipped", "level"]
    passed = [{**r, "status": "passed"} for r in summary["requirements"]]
    certified = _summary(profile="certify", verdict="conformant", verdict_line="CONFORMANT: all", requirements=passed)
    rc = allure_html.config(Path("r"), Path("r/out"), certified)
    assert rc["defaultLabels"] == {"conformance": "MUST requirements: CONFORMANT, level full"}
    assert rc["name"] == "CONFORMANT, level full · Cekura widget PATCH conformance"


def test_build_name_falls_back_to_the_seed_and_embedded_target_is_kept() -> None:
    summary = _summary(fixtures={}, target={"base_url": "embedded"})
    assert allure_files.executor(summary)["buildName"] == "seed 7"
    assert allure_files.environment(summary)["target"] == "embedded"


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("conformance.engine.errors.TargetUnavailable: http://t did not answer GET /x/: ConnectError", "Target error"),
        ("conformance.engine.errors.SuiteError: the run cannot go on: TargetUnavailable: ...\nmore", "Target error"),
        ("the run cannot go on: TargetUnavailable: http://t did not answer GET /x/: ConnectError", "Target error"),
        # A fixture's POST answered 5xx (issue 8): the target kept the requirement from being judged.
        (
            "WPATCH-RO-01: not judged: POST /dashboards/widgets/ answered 500 (the target's error)",
            "Target error",
        ),
        ("WPATCH-X-01: suite error KeyError: 'id'\nTraceback ...", "Suite error"),
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


def test_a_requirement_the_target_kept_from_being_judged_is_a_target_error() -> None:
    """A fixture's POST answered 500 (issue 8): the item's message, as the plugin raises it, is a target error."""
    requirement = default_catalogue().requirements[0]
    case = CaseResult(requirement.id, "a case", Status.ERRORED, "the fixture ...", target_error="POST /x/ answered 500")
    message = allure_view.readable(
        f"conformance.engine.errors.SuiteError: {requirement.id}: {verdict(requirement, [case]).reason}"
    )
    matched = [
        rule["name"]
        for rule in allure_files.CATEGORY_RULES
        if "broken" in rule["matchedStatuses"] and re.search(rule.get("messageRegex", ""), message)
    ]
    assert matched[0] == "Target error", message


def test_properties_escape_what_java_would_misread() -> None:
    text = allure_files.properties({"a key=x": "line1\nline2 \\ é 𝄞", "k": " leading"})
    assert text == "a\\ key\\=x=line1\\nline2 \\\\ \\u00e9 \\ud834\\udd1e\nk=\\ leading\n"


def test_session_files_go_where_allure_pytest_records(tmp_path: Path) -> None:
    assert allure_files.write_for_session(_summary(), Scrubber([SECRET]), None) == []
    written = allure_files.write_for_session(_summary(), Scrubber([SECRET]), tmp_path / "results")
    assert {p.parent for p in written} == {tmp_path / "results"} and len(written) == 6


def test_messages_read_as_sentences_without_module_paths() -> None:
    text = "conformance.engine.errors.ConformanceFailure: WPATCH-RO-01 [MUST]: id sent: step 2: id changed"
    assert allure_view.readable(text) == "WPATCH-RO-01 [MUST]: id sent: step 2: id changed"
    assert allure_view.readable("conformance.engine.errors.SuiteError: WPATCH-X: no") == "WPATCH-X: no"
    assert allure_view.readable("json.decoder.JSONDecodeError: Expecting value") == "JSONDecodeError: Expecting value"
    assert allure_view.readable("KeyError: 'id'") == "KeyError: 'id'"
    assert allure_view.readable("step 2 (PATCH /x/): a.b: c") == "step 2 (PATCH /x/): a.b: c"

    step = model2.TestStepResult(
        name="s", statusDetails=model2.StatusDetails(message="conformance.engine.errors.X: inner")
    )
    result = model2.TestResult(
        name="r",
        labels=[model2.Label(name="requirement", value="WPATCH-RO-01")],
        statusDetails=model2.StatusDetails(message="conformance.engine.errors.ConformanceFailure: outer"),
        steps=[step],
    )
    users = model2.TestResult(name="u", statusDetails=model2.StatusDetails(message="conformance.x.Y: mine"))
    rewriter = allure_view.ReadableMessages()
    rewriter.report_result(result)
    rewriter.report_result(users)
    assert result.statusDetails.message == "outer" and step.statusDetails.message == "inner"
    assert users.statusDetails.message == "conformance.x.Y: mine"  # a user's own test in the same session


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
    rc = allure_html.config(tmp_path, tmp_path / "out", _summary())
    assert rc["name"] == "NOT CONFORMANT · Cekura widget PATCH conformance"
    assert rc["historyPath"] == str(tmp_path / "history" / "history.jsonl") and rc["appendHistory"] is True
    assert rc["output"] == str(tmp_path / "out")
    assert set(rc["plugins"]) == {"awesome", "agent"} and rc["plugins"]["agent"] == {"enabled": False}
    awesome = rc["plugins"]["awesome"]["options"]
    assert awesome["reportName"] == rc["name"] and awesome["singleFile"] is False
    # Grouped by whether a requirement decides conformance, then by outcome; the MUST group carries the verdict.
    assert awesome["groupBy"] == ["conformance", "outcome"] and awesome["defaultSortBy"] == "name,asc"
    assert rc["defaultLabels"] == {"conformance": "MUST requirements: NOT CONFORMANT"}
    assert sorted([rc["defaultLabels"]["conformance"], allure_view.NOT_COUNTED_GROUP]) == [
        rc["defaultLabels"]["conformance"],
        allure_view.NOT_COUNTED_GROUP,
    ]
    assert sorted(allure_view.OUTCOME_GROUPS.values())[0] == "failed"
    # A failed SHOULD (or tentative MUST) is "accepted": out of the pass rate, as out of the verdict.
    assert rc["resolutions"]["knownIssuesPath"] == str(tmp_path / "history" / "known-issues.json")
    assert rc["resolutions"]["rules"] == [
        {
            "resolution": "accepted",
            "testCaseId": ["WPATCH-RO-02", "WPATCH-X-09"],
            "comment": allure_html.TOLERATED_COMMENT,
        }
    ]
    assert [c["name"] for c in rc["categories"]] == ["Contract violation", "Target error", "Suite error"]
    assert json.loads(json.dumps(rc)) == rc
    single = allure_html.config(tmp_path, tmp_path / "one", _summary(), single_file=True)
    assert single["plugins"]["awesome"]["options"]["singleFile"] is True and single["appendHistory"] is False
    bare = allure_html.config(tmp_path, tmp_path / "out")
    assert bare["name"] == allure_files.REPORT_NAME and "resolutions" not in bare


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


SINGLE_FILE_LIMIT = 15_000_000  # bytes: one CI artifact; a certify run's is measured in benchmarks/report_size.py


def _summary_of(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "summary.json").read_text())
    return data


@pytest.mark.slow
@pytest.mark.node
def test_report_renders_both_runs_and_keeps_history(rendered: Rendered) -> None:
    for report_dir in (rendered.clean, rendered.faulty):
        results = report_dir / "allure-results"
        assert {"environment.properties", "categories.json", "executor.json"} <= {p.name for p in results.iterdir()}
        assert (report_dir / "allure-report" / "index.html").is_file()
        assert (report_dir / "allurerc.json").is_file()
        # The single file beside the multi-file report: its data inside, nothing fetched.
        single = report_dir / "allure-report.html"
        assert 1_000_000 < single.stat().st_size < SINGLE_FILE_LIMIT
        assert re.search(r'<script\s+src="data:text/javascript;base64,', single.read_text(encoding="utf-8"))
        # Nothing outside the report is fetched when it opens (Allure's analytics tag is removed).
        for page in (single, report_dir / "allure-report" / "index.html"):
            text = page.read_text(encoding="utf-8")
            assert "googletagmanager" not in text and "gtag(" not in text and "window.allureReportOptions" in text
        for path in report_dir.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                assert EMBEDDED_KEY.encode() not in data and EMBEDDED_OTHER_KEY.encode() not in data, path
    assert not (Path.cwd() / "known-issues.json").exists()  # Allure's default place: nothing left in the cwd
    stdout = rendered.outputs["render faulty"].stdout
    assert f"Allure report: {rendered.faulty / 'allure-report' / 'index.html'}" in stdout
    assert f"opens from file://, one CI artifact): {rendered.faulty / 'allure-report.html'}" in stdout
    # Two clean runs, the first rendered twice, each rendering writing two reports: two points, not three or six.
    points = (rendered.clean / "history" / "history.jsonl").read_text().splitlines()
    assert len(points) == 2
    assert all(json.loads(p)["name"] == "CONFORMANT · Cekura widget PATCH conformance" for p in points)
    faulty_points = (rendered.faulty / "history" / "history.jsonl").read_text().splitlines()
    assert [json.loads(p)["name"] for p in faulty_points] == ["NOT CONFORMANT · Cekura widget PATCH conformance"]
    # The second clean report's trend has the first run and itself.
    charts = json.loads((rendered.clean / "allure-report" / "widgets" / "charts.json").read_text())["general"]
    dynamics = [c["data"] for c in charts.values() if c.get("type") == "statusDynamics"]
    assert [len(points) for points in dynamics] == [2], dynamics


@pytest.mark.slow
@pytest.mark.node
def test_console_junit_summary_and_allure_count_the_same_requirements(rendered: Rendered) -> None:
    for report_dir in (rendered.clean, rendered.faulty):
        summary = _summary_of(report_dir)
        totals = summary["totals"]
        junit = ET.parse(report_dir / "junit.xml").getroot()
        tests = sum(int(s.get("tests", 0)) for s in junit.iter("testsuite"))
        failures = sum(int(s.get("failures", 0)) for s in junit.iter("testsuite"))
        statistic = json.loads((report_dir / "allure-report" / "widgets" / "statistic.json").read_text())
        assert statistic["total"] == tests == len(summary["requirements"]) == sum(totals.values())
        assert statistic.get("failed", 0) == failures == totals["failed"]
        assert statistic.get("passed", 0) == totals["passed"]
        # The console's counts line says the same.
        label = "faulty run" if report_dir == rendered.faulty else "clean run 2"
        counts = f"{totals['passed']} passed, {totals['failed']} failed, {totals['errored']} errored"
        assert counts in rendered.outputs[label].stdout


def _chromium() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return found or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class Served:
    """A rendered report over a loopback HTTP server (its data is fetched, which file:// blocks)."""

    def __init__(self, directory: Path) -> None:
        handler = functools.partial(_Quiet, directory=str(directory))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/index.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

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


TREE_READY = "document.querySelector('[data-testid=\"tree-section-title\"]')"
FIRST_SCREEN = (1280, 800)  # a laptop's browser window: the smallest first screen the report is read on

# The tree's leaves as rendered: title and status of each.
LEAVES = """Array.from(document.querySelectorAll('[data-testid="tree-leaf"]')).map(e => [
  e.querySelector('[data-testid="tree-leaf-title"]').innerText,
  (e.querySelector('[data-testid^="tree-leaf-status-"]') || {getAttribute: () => ''}).getAttribute('data-testid')
      .replace('tree-leaf-status-', ''),
  !!e.querySelector('[data-testid="tree-leaf-resolution-accepted"]')])"""
# The steps of a test result as rendered: title and status of each, nested steps included.
STEPS = """Array.from(document.querySelectorAll('[data-testid="test-result-step"]')).map(e => {
  const header = e.querySelector('[data-testid="test-result-step-header"]');
  const status = header.querySelector('[data-testid^="tree-leaf-status-"]');
  return [header.querySelector('[data-testid="test-result-step-title"]').innerText,
          status ? status.getAttribute('data-testid').replace('tree-leaf-status-', '') : ''];
})"""
# The metadata block: key -> value.
METADATA = """Object.fromEntries(Array.from(document.querySelectorAll('[data-testid="metadata-item"]')).map(e => [
  e.querySelector('[data-testid="metadata-item-key"]').innerText,
  e.querySelector('[data-testid="metadata-item-value"]').innerText]))"""


def _first_screen(browser: Chromium, url: str, verdict: str) -> list[str]:
    """Open a report and check what its first screen shows: the MUST group named with the verdict, first;
    return the titles of the leaves on that screen."""
    browser.open(url, TREE_READY)
    assert browser.evaluate("document.title").startswith(verdict + " · Cekura widget PATCH conformance")
    sections = on_screen(browser, '[data-testid="tree-section-title"]')
    assert sections and sections[0] == f"MUST requirements: {verdict}", sections
    return on_screen(browser, '[data-testid="tree-leaf-title"]')


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.browser
def test_the_failing_run_reads_as_a_verdict(rendered: Rendered, chromium: str, tmp_path: Path) -> None:
    summary = _summary_of(rendered.faulty)
    failed_musts = summary["must"]["failed"]
    failed_others = [r["id"] for r in summary["requirements"] if r["status"] == "failed" and r["level"] != "MUST"]
    assert "WPATCH-PARTIAL-01" in failed_musts and failed_others  # the variant breaks a SHOULD too
    report = rendered.faulty / "allure-report"
    served = Served(report)
    browser = Chromium(chromium, tmp_path / "profile", width=FIRST_SCREEN[0], height=FIRST_SCREEN[1])
    try:
        for url in (served.url, (rendered.faulty / "allure-report.html").as_uri()):  # over HTTP, and from file://
            # First screen: "MUST requirements: NOT CONFORMANT", then the failed MUSTs by id, failed first.
            seen = _first_screen(browser, url, "NOT CONFORMANT")
            assert len(seen) >= 4 and [t.split()[0] for t in seen] == sorted(failed_musts)[: len(seen)], seen
            leaves = browser.evaluate(LEAVES)
            assert {t.split()[0] for t, status, _ in leaves if status == "failed"} == {*failed_musts, *failed_others}
            # A SHOULD failure is red too, but marked accepted: out of the pass ring, as out of the verdict.
            assert {t.split()[0] for t, _, accepted in leaves if accepted} == set(failed_others)
            assert all(f"[{'MUST' if t.split()[0] in failed_musts else 'SHOULD'}]" in t for t, s, _ in leaves)
            # The metadata block: the verdict word, the failed MUSTs, the coverage figure.
            meta = browser.evaluate(METADATA)
            assert meta["verdict"] == "NOT CONFORMANT"
            assert meta["contract"].startswith("revision seed, version")  # what the target was held to
            assert meta["MUST failed"] == f"{len(failed_musts)}: {', '.join(failed_musts)}"
            cov = summary["coverage"]
            assert meta["contract coverage"] == f"100% ({cov['covered']} of {cov['total']} documented values sent)"
            # One count: the tree's total is the requirements'; the pass ring counts only what decides conformance.
            text = browser.evaluate("document.body.innerText")
            assert re.search(rf"Total\s+{len(summary['requirements'])}\b", text)
            passed = summary["totals"]["passed"]
            ring = browser.evaluate(
                "Array.from(document.querySelectorAll('[aria-label]')).map(e => e.getAttribute('aria-label'))"
            )
            shown = [re.match(rf"{passed} passed \(([\d.]+)%", a) for a in ring]
            [percent] = [float(m[1]) for m in shown if m]
            assert abs(percent - 100 * passed / (passed + len(failed_musts))) < 0.01, ring  # SHOULDs left out
        shot = tmp_path / "faulty-first-screen.png"
        browser.screenshot(shot)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
        keep = os.environ.get("CEKURA_REPORT_SCREENSHOT")  # to look at it after the run
        if keep:
            shutil.copyfile(shot, keep)

        # A finding is a failed step with its exchange (failed too), the check, the minimal example, the seed.
        browser.open(
            f"{served.url}#/{_result_id(report, 'WPATCH-PARTIAL-01')}", "document.body.innerText.includes('Test body')"
        )
        page = browser.evaluate("document.body.innerText")
        assert "WPATCH-PARTIAL-01 [MUST] Fields absent from the PATCH body keep their values" in page
        assert "Category: Contract violation" in page and "conformance.engine" not in page
        steps = browser.evaluate(STEPS)
        findings = [(title, status) for title, status in steps if title.startswith("[failed] oracle:partial (")]
        assert findings and all(status == "failed" for _, status in findings), steps
        broke = [(title, status) for title, status in steps if title.endswith("(broke the rule)")]
        assert broke and all(status == "failed" for _, status in broke), steps
        for label in ("request", "response", "finding: check, stage, seed", "minimal example (shrunk)", "curl"):
            assert label in page, label
        assert "reproduce (curl)" in page

        # The coverage map is a global attachment.
        browser.open(served.url, TREE_READY)
        browser.evaluate("document.querySelector('[data-testid=\"nav-tab-globalAttachments\"]').click()")
        browser.wait_for("document.body.innerText.includes('contract coverage')")
        assert "property stages" in browser.evaluate("document.body.innerText")
    finally:
        browser.close()
        served.close()


@pytest.mark.slow
@pytest.mark.node
@pytest.mark.browser
def test_the_clean_run_reads_as_a_verdict(rendered: Rendered, chromium: str, tmp_path: Path) -> None:
    summary = _summary_of(rendered.clean)
    report = rendered.clean / "allure-report"
    served = Served(report)
    browser = Chromium(chromium, tmp_path / "profile", width=FIRST_SCREEN[0], height=FIRST_SCREEN[1])
    try:
        for url in (served.url, (rendered.clean / "allure-report.html").as_uri()):
            _first_screen(browser, url, "CONFORMANT")
            assert not [leaf for leaf in browser.evaluate(LEAVES) if leaf[1] == "failed"]
            meta = browser.evaluate(METADATA)
            assert meta["verdict"] == "CONFORMANT" and meta["MUST failed"] == "none"
            assert meta["contract coverage"].startswith(f"100% ({summary['coverage']['total']} of ")
        browser.open(
            f"{served.url}#/{_result_id(report, 'WPATCH-PARTIAL-01')}", "document.body.innerText.includes('Test body')"
        )
        page = browser.evaluate("document.body.innerText")
        assert "WPATCH-PARTIAL-01 [MUST] Fields absent from the PATCH body keep their values" in page
        assert "[passed]" in page and "[failed]" not in page
    finally:
        browser.close()
        served.close()
