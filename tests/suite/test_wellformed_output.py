"""Output is well-formed whatever the target sends: every writer's file parses, curl lines reproduce bodies
byte for byte, and a run against a stateless echo mock ends not conformant with a junit.xml that parses."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.engine import redact, results
from conformance.engine.catalogue import Requirement
from conformance.engine.outcomes import CaseResult, Level, Status
from conformance.engine.properties.findings import Finding, StageResult
from conformance.engine.redact import Scrubber
from conformance.engine.runner import RunResult, verdict
from conformance.engine.target import Target, TargetConfig
from conformance.reporting import certificate, console
from tests.cli import run_cli
from tests.mocks.echo import echo_app
from tests.threaded import serving

# Characters and snippets that break naive writers: NUL and other controls, lone surrogates, the two
# non-characters, an ANSI escape, XML and Markdown specials, quotes and backslashes.
NASTY = ["\x00", "\x01", "\x1b[2J", "\x7f", "\x9b", "\ud800", "\udfff", "\ufffe", "\uffff", "\r", "\n", "\t"]
NASTY += ["|", "<", "&", "]]>", "'", '"', "\\", "${x}", "%s", "é", "\U0001f600"]
TEXTS = st.lists(st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=()))), max_size=8).map(
    "".join
)
BODIES = st.one_of(st.binary(max_size=200), TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")))
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# -- curl reproducers -------------------------------------------------------------------------------------

FAKE_CURL = """#!/bin/sh
# Writes the body a curl command line would send (its --data-binary or --data-raw argument) to $CURL_OUT.
while [ $# -gt 0 ]; do
  case "$1" in
    --data-binary) case "$2" in @*) cat "${2#@}" > "$CURL_OUT" ;; *) printf '%s' "$2" > "$CURL_OUT" ;; esac; shift ;;
    --data-raw) printf '%s' "$2" > "$CURL_OUT"; shift ;;
  esac
  shift
done
"""


@pytest.fixture(scope="module")
def fake_curl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fakebin")
    script = folder / "curl"
    script.write_text(FAKE_CURL)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def _replayed(line: str, fake_curl: Path) -> bytes:
    out = fake_curl / "body.out"
    out.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{fake_curl}:{os.environ['PATH']}", "CURL_OUT": str(out)}
    subprocess.run(["bash", "-c", line], env=env, check=True, timeout=10)
    return out.read_bytes()


@FAST
@given(body=BODIES.filter(bool))
def test_a_curl_line_sends_exactly_the_body_it_reproduces(fake_curl: Path, body: bytes) -> None:
    line = redact.curl("PATCH", "http://127.0.0.1:1/dashboards/widgets/7/", {"X-CEKURA-API-KEY": "k"}, body)
    assert line.isprintable() or "--data-raw" in line  # binary bodies go as escapes, never raw
    assert "\x00" not in line
    assert _replayed(line, fake_curl) == body


def test_plain_bodies_stay_readable(fake_curl: Path) -> None:
    body = b'{"name": "it\'s a \\"widget\\"", "filters": {}}'
    line = redact.curl("PATCH", "http://t/x/", {}, body)
    assert "--data-raw" in line and "printf" not in line
    assert _replayed(line, fake_curl) == body


# -- every writer, fed arbitrary text and bytes -----------------------------------------------------------


@pytest.fixture(scope="module")
def target() -> Any:
    with Target(TargetConfig(api_key="k-1234567")) as embedded:
        yield embedded


def _exchange(target: Target, body: bytes, header: str) -> Any:
    """An exchange recorded by the target's own recorder, as if the target had answered ``body``."""
    request = httpx.Request("PATCH", "http://embedded/dashboards/widgets/7/", headers={"X-CEKURA-API-KEY": "k"})
    response = httpx.Response(200, headers=[(b"X-Weird", header.encode("latin-1"))], content=body, request=request)
    with target.recording() as recorder:
        target._record("PATCH", response, body, 1.0)
    [exchange] = recorder.exchanges
    return exchange


def _run_result(target: Target, texts: list[str], body: bytes, header: str) -> RunResult:
    name, message, reason_text, title = texts
    requirement = Requirement(
        id="WPATCH-X-01", title=f"title {title}", level=Level.MUST, area=f"area {title}", source={"kind": "http"}
    )
    exchange = _exchange(target, body, header)
    cases = [
        CaseResult(requirement.id, f"case {name}", Status.FAILED, message, exchanges=[exchange], curl=exchange.curl),
        CaseResult(requirement.id, f"other {reason_text}", Status.ERRORED, reason_text, target_error=reason_text),
        CaseResult(requirement.id, name, Status.SKIPPED, message),
    ]
    result = RunResult("quick", 1, f"http://t/{title}", "2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")
    result.requirements.append(verdict(requirement, cases))
    finding = Finding("st:x", title, message, "fuzz", exchange.curl, minimal_example=reason_text)
    result.stages.append(StageResult("fuzz", findings={"st:x": finding}, error=message or None))
    result.preflight_errors.append(f"GET /x answered 500 {name}")
    return result


@FAST
@given(texts=st.lists(TEXTS, min_size=4, max_size=4), body=BODIES, header=st.text(st.characters(max_codepoint=0xFF)))
def test_every_writer_writes_a_file_that_parses(
    target: Target, tmp_path_factory: pytest.TempPathFactory, texts: list[str], body: bytes, header: str
) -> None:
    report_dir = tmp_path_factory.mktemp("writers")
    result = _run_result(target, texts, body, header.replace("\r", "").replace("\n", ""))
    data = results.summary(result, contract_version="v", contract_sha256="0" * 64, catalogue_sha256="1" * 64)
    scrub = Scrubber(["k-1234567"])
    written = results.write_summary(data, report_dir, scrub)
    loaded = json.loads(written.read_bytes())
    message = scrub(data["requirements"][0]["cases"][0]["message"])
    assert loaded["requirements"][0]["cases"][0]["message"] == json.loads(json.dumps(message))  # as JSON holds it
    junit = ET.parse(results.write_junit(data, report_dir, scrub)).getroot()
    assert junit.find("testsuite/testcase/failure") is not None
    assert [p.get("name") for p in junit.iter("property")][:1] == ["verdict"]
    for line in (console.table(loaded), console.verdict(loaded), console.target_errors(loaded)):
        line.encode("utf-8")  # printable: no lone surrogate left
        assert "\x00" not in line and "\x1b" not in line
    (report_dir / "allure-results").mkdir()
    cert = certificate.build(report_dir, {"vendor": texts[0] or "v", "name": texts[1] or "n", "version": "1"})
    json_path, md_path = certificate.write(report_dir, cert)
    assert json.loads(json_path.read_bytes())["digest"] == cert["digest"]
    markdown = md_path.read_bytes().decode("utf-8")
    table = [row for row in markdown.splitlines() if row.startswith("| WPATCH-X-01 ")]
    assert len(table) == 1 and table[0].count(" | ") == 3  # the row's cells stayed cells
    assert certificate.verify(json_path).ok


def test_allure_results_parse_whatever_the_texts(pytester: pytest.Pytester, tmp_path: Path) -> None:
    """allure-pytest's own writers (result JSON, attachments) fed through allure_view's step/attachment path."""
    pytester.makepyfile(
        test_inner=f"""
from hypothesis import given, settings, strategies as st
from conformance.engine.outcomes import CaseResult, Exchange, Status
from conformance.reporting import allure_view

NASTY = {NASTY!r}
TEXTS = st.lists(st.one_of(st.sampled_from(NASTY), st.text(st.characters(exclude_categories=()))), max_size=6).map(
    "".join
)

@settings(max_examples=25, deadline=None)
@given(texts=st.lists(TEXTS, min_size=3, max_size=3), status=st.sampled_from(list(Status)))
def test_record(texts, status):
    name, message, body = texts
    exchange = Exchange("PATCH", "http://t/x/", {{"A": "b"}}, body, 200, {{}}, body, 1.0, "curl " + body)
    result = CaseResult("WPATCH-X-01", name, status, message, exchanges=[exchange], curl=message, minimal_example=body)
    allure_view.record_cases([result])
"""
    )
    alluredir = tmp_path / "allure-results"
    outcome = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--alluredir", str(alluredir))
    outcome.assert_outcomes(passed=1)
    files = list(alluredir.iterdir())
    results_json = [f for f in files if f.name.endswith("-result.json")]
    assert results_json
    for path in results_json:
        assert json.loads(path.read_bytes())["status"] == "passed"
    attachments = [f for f in files if "-attachment" in f.name]
    assert len(attachments) > 25
    for path in attachments:
        path.read_bytes().decode("utf-8")


# -- a run against a stateless, auth-less echo mock ---------------------------------------------------------


def test_a_run_against_an_echo_mock_is_not_conformant_with_reports_that_parse(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    with serving(echo_app) as url:
        proc = run_cli(
            *("run", "--base-url", url, "--api-key", "k-123456", "--other-api-key", "k-654321"),
            *("--seed", "3", "--report-dir", str(reports)),
        )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "NOT CONFORMANT" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
    summary = json.loads((reports / "summary.json").read_bytes())
    assert summary["verdict"] == "not-conformant" and "WPATCH-AUTH-01" in summary["must"]["failed"]
    junit = ET.parse(reports / "junit.xml").getroot()
    assert len(list(junit.iter("testcase"))) == len(summary["requirements"])
    binary = [c["curl"] for r in summary["requirements"] for c in r["cases"] if c["curl"] and "printf" in c["curl"]]
    binary += [f["curl"] for s in summary["stages"] for f in s["findings"] if "printf" in f["curl"]]
    assert binary, "the echo mock answered fuzzed binary bodies: their reproducers go through printf"
    for path in (reports / "allure-results").glob("*.json"):
        json.loads(path.read_bytes())
