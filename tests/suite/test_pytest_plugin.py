"""The pytest11 plugin: the suite folded into a user's own pytest run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


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
    result.assert_outcomes(passed=6)
    summary = json.loads((reports / "summary.json").read_text())
    assert sorted(r["id"] for r in summary["requirements"]) == [
        "WPATCH-RO-01",
        "WPATCH-RO-02",
        "WPATCH-TEN-01",
        "WPATCH-TEN-02",
        "WPATCH-TEN-03",
    ]


def test_plugin_is_inert_without_the_flag(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="def test_users_own():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.no_fnmatch_line("*WPATCH*")
