"""The pytest11 plugin: the suite folded into a user's own pytest run, agreeing with the CLI."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conformance.engine.catalogue import default as default_catalogue

# A conftest that makes the embedded target a variant breaking only a SHOULD (no Allow header on 405).
CONVENTION_TARGET = """
import conformance.emulator as emulator
from conformance.emulator.faults import get

_create_app = emulator.create_app
emulator.create_app = lambda **options: _create_app(behaviour=get("no_allow_on_405"), **options)
"""


def _summary(reports: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reports / "summary.json").read_text())
    return data


def test_plugin_runs_selected_requirements_and_writes_the_summary(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_user="def test_users_own():\n    assert 1 + 1 == 2\n")
    reports = tmp_path / "r"
    result = pytester.runpytest_subprocess(
        "--cekura",
        "--cekura-report-dir",
        str(reports),
        "-k",
        "users_own or WPATCH-RO or WPATCH-TEN",
        "-p",
        "no:cacheprovider",
    )
    selected = sorted(r.id for r in default_catalogue().requirements if r.id.startswith(("WPATCH-RO-", "WPATCH-TEN-")))
    assert len(selected) >= 4
    result.assert_outcomes(passed=len(selected) + 1)
    assert result.ret == 0  # a selection's status is its items'
    summary = _summary(reports)
    assert sorted(r["id"] for r in summary["requirements"]) == selected
    # A selection judges part of the catalogue: it never claims conformance.
    assert summary["verdict"] == "no-verdict" and summary["conformant"] is False
    assert f"only a selection ran ({len(selected)} of" in summary["verdict_line"]
    result.stdout.fnmatch_lines(["*cekura-conformance*", "NO VERDICT: only a selection ran*"])


def test_plugin_is_inert_without_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_users_own():\n    assert True\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*WPATCH*")


def test_suite_options_without_the_flag_are_a_usage_error(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_user="def test_users_own():\n    assert True\n")
    result = pytester.runpytest_inprocess("--cekura-base-url", "http://127.0.0.1:9", "--cekura-strict")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--cekura-base-url, --cekura-strict given without --cekura*"])
    assert not (pytester.path / "reports").exists()  # a run that never started writes nothing


@pytest.mark.parametrize("strict", [False, True])
def test_a_should_failure_is_xfail_unless_strict(pytester: pytest.Pytester, tmp_path: Path, strict: bool) -> None:
    pytester.makeconftest(CONVENTION_TARGET)
    reports = tmp_path / "r"
    args = ["--cekura", "--cekura-report-dir", str(reports), "-k", "WPATCH-METHOD-01 or WPATCH-RO-01"]
    result = pytester.runpytest_subprocess(*args, *(["--cekura-strict"] if strict else []), "-p", "no:cacheprovider")
    if strict:
        result.assert_outcomes(passed=1, failed=1)
        assert result.ret == pytest.ExitCode.TESTS_FAILED
    else:
        result.assert_outcomes(passed=1, xfailed=1)
        assert result.ret == pytest.ExitCode.OK
    # Whatever pytest shows, the results file, JUnit and Allure say failed.
    [method] = [r for r in _summary(reports)["requirements"] if r["id"] == "WPATCH-METHOD-01"]
    assert method["status"] == "failed" and method["level"] == "SHOULD"
    [case] = [c for c in ET.parse(reports / "junit.xml").iter("testcase") if c.get("name", "").startswith(method["id"])]
    assert case.find("failure") is not None
    statuses = {
        (data := json.loads(path.read_text()))["name"]: data["status"]
        for path in (reports / "allure-results").glob("*-result.json")
    }
    assert statuses["WPATCH-METHOD-01 [SHOULD] " + method["title"]] == "failed"


def test_a_run_without_a_verdict_fails_the_session_and_writes_the_cli_reports(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    reports = tmp_path / "r"
    result = pytester.runpytest_subprocess(
        "--cekura",
        "--cekura-base-url",
        f"http://127.0.0.1:{port}",
        "--cekura-api-key",
        "k-123456",
        "--cekura-report-dir",
        str(reports),
        "-p",
        "no:cacheprovider",
    )
    summary = _summary(reports)
    assert summary["verdict"] == "no-verdict" and summary["exit_code"] == 3
    assert result.ret == 3  # the CLI's exit code for the same run
    # Allure results where the CLI writes them, with the run-level files and the verdict.
    allure = reports / "allure-results"
    assert list(allure.glob("*-result.json")) and (allure / "categories.json").is_file()
    assert "verdict=NO VERDICT" in (allure / "environment.properties").read_text().splitlines()


def test_the_revision_option_selects_the_contract_and_its_requirements(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    reports = tmp_path / "r"
    args = ["--cekura", "--cekura-revision", "live", "--cekura-report-dir", str(reports), "-k", "WPATCH-GRP"]
    result = pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["cekura-conformance: target embedded, revision live, profile quick, *"])
    summary = _summary(reports)
    assert summary["contract"]["revision"] == "live"
    assert sorted(r["id"] for r in summary["requirements"]) == ["WPATCH-GRP-01", "WPATCH-GRP-02", "WPATCH-GRP-03"]
    live_total = len(default_catalogue().for_revision("live").requirements)
    assert f"only a selection ran (3 of {live_total} requirements" in summary["verdict_line"]
    # On the seed revision the live requirements are not collected at all.
    seed = pytester.runpytest_inprocess(
        "--cekura", "--collect-only", "-q", "-k", "WPATCH-GRP", "-p", "no:cacheprovider"
    )
    seed.stdout.no_fnmatch_line("*WPATCH-GRP*")
    unknown = pytester.runpytest_inprocess(
        "--cekura", "--cekura-revision", "staging", "--cekura-report-dir", str(reports)
    )
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR
    unknown.stderr.fnmatch_lines(["*--revision: unknown contract revision 'staging'*"])
