"""Runs on either contract revision: the live revision passes the live emulator and fails the seed-era one for
exactly what the live API added; a live target still passes the seed revision (the later values are additions)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conformance import contract
from conformance.emulator import create_app
from conformance.engine.catalogue import default as catalogue
from conformance.engine.errors import ConfigurationError
from conformance.engine.outcomes import Status
from conformance.engine.profiles import get
from conformance.engine.runner import Engine, RunResult
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY, RunOptions, build
from tests.cli import run_cli

LIVE_ONLY = sorted(r.id for r in catalogue().requirements if r.revisions == ("live",))


def _run(judged: str, served: str) -> RunResult:
    """The suite holding the target to revision ``judged``, against the emulator serving revision ``served``."""
    config = TargetConfig(
        api_key=EMBEDDED_KEY,
        other_api_key=EMBEDDED_OTHER_KEY,
        app_factory=lambda: create_app(revision=served),
    )
    with Engine(config, get("quick"), seed=5, contract=contract.get(judged)) as engine:
        return engine.run_all()


def _failed_musts(result: RunResult) -> list[str]:
    return sorted(
        r.requirement.id
        for r in result.requirements
        if r.status is Status.FAILED and r.requirement.counts_for_conformance
    )


def test_the_live_revision_passes_the_live_emulator() -> None:
    result = _run("live", "live")
    assert [r.requirement.id for r in result.requirements] == [
        r.id for r in catalogue().for_revision("live").requirements
    ]
    assert {r.requirement.id: r.reason for r in result.requirements if r.status is not Status.PASSED} == {}
    assert result.conformant and result.exit_code == 0


def test_the_live_revision_fails_the_seed_era_emulator_for_exactly_the_later_values() -> None:
    result = _run("live", "seed")
    assert not result.conformant and result.exit_code == 1
    # The live-only MUSTs, and RT-01 through the property stages' oracle: group_by is a writable field of the live
    # revision, and the seed-era emulator drops it. Nothing else fails.
    assert _failed_musts(result) == sorted([*LIVE_ONLY, "WPATCH-RT-01"])
    round_trip = next(r for r in result.requirements if r.requirement.id == "WPATCH-RT-01")
    failures = [c.message for c in round_trip.cases if c.status is Status.FAILED]
    assert failures and all("group_by sent as" in message for message in failures)
    reasons = {r.requirement.id: r.reason for r in result.requirements if r.requirement.id in LIVE_ONLY}
    assert 'stat\\" is not a valid choice' in reasons["WPATCH-STAT-01"]
    assert 'p50\\" is not a valid choice' in reasons["WPATCH-PCT-01"]
    assert "group_by" in reasons["WPATCH-GRP-01"] and "group_by" in reasons["WPATCH-GRP-03"]


def test_a_live_target_passes_the_seed_revision() -> None:
    """The later values are additions, not breaks: nothing of the seed revision fails on the live API."""
    result = _run("seed", "live")
    assert [r.requirement.id for r in result.requirements] == [
        r.id for r in catalogue().for_revision("seed").requirements
    ]
    assert {r.requirement.id: r.reason for r in result.requirements if r.status is not Status.PASSED} == {}
    assert result.conformant


def test_an_unknown_revision_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="--revision: unknown contract revision 'staging'"):
        build(RunOptions(revision="staging", report_dir=tmp_path))
    settings = build(RunOptions(revision="live", report_dir=tmp_path))
    assert settings.contract is contract.get("live")
    assert settings.target.app_factory is not None
    assert settings.target.app_factory().state.contract is contract.get("live")  # the embedded emulator follows it
    assert "--cekura-revision" in RunOptions(revision="live").pytest_args()


def test_the_reports_name_the_revision_and_its_sha256(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    proc = run_cli("run", "--revision", "live", "--seed", "3", "--report-dir", str(reports), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    live = contract.get("live")
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["contract"] == {"version": live.version, "sha256": live.sha256, "revision": "live"}
    assert [r["id"] for r in summary["requirements"]] == [r.id for r in catalogue().for_revision("live").requirements]
    for suite in ET.parse(reports / "junit.xml").getroot().iter("testsuite"):
        properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
        assert properties["contract.revision"] == "live" and properties["contract.sha256"] == live.sha256
    environment = (reports / "allure-results" / "environment.properties").read_text()
    assert (
        f"contract=revision live, version {live.version}" in environment
        and f"contract.sha256={live.sha256}" in environment
    )
    assert run_cli("run", "--revision", "staging", "--report-dir", str(tmp_path / "x")).returncode == 2
