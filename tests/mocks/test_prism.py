"""Certifying a third-party mock: Prism on the fragment is "not conformant", for reasons a reader can check.

Prism stores nothing (a PATCH is not reflected by a later GET) and answers with the fragment's examples. The
suite must say so through MUST failures, neither crash nor hang, and never file Prism's own validation
answers (400/422 problem+json) as suite errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.prism import run_prism
from benchmarks.procs import free_port
from conformance.npmtool import NpmToolError

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.node,
    pytest.mark.skipif(shutil.which("npm") is None, reason="needs Node.js and npm to install Prism"),
]


@pytest.fixture(scope="module")
def prism_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    reports = tmp_path_factory.mktemp("prism")
    try:
        server_cm = run_prism(ROOT / "openapi" / "widgets.yaml", free_port(), log_path=reports / "prism.log")
        with server_cm as server:
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "conformance",
                    "run",
                    "--base-url",
                    server.base_url,
                    "--api-key",
                    "prism-tenant-a-key",
                    "--other-api-key",
                    "prism-tenant-b-key",
                    "--report-dir",
                    str(reports),
                ],
                capture_output=True,
                text=True,
                timeout=300,  # "neither crashes nor hangs"
            )
    except NpmToolError as exc:
        pytest.fail(f"Prism could not be installed from the npm registry: {exc}")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "NOT CONFORMANT" in proc.stdout
    summary: dict[str, object] = json.loads((reports / "summary.json").read_text())
    return summary


def _by_id(summary: dict[str, object]) -> dict[str, dict[str, str]]:
    return {r["id"]: r for r in summary["requirements"]}  # type: ignore[attr-defined, index]


def test_prism_is_not_conformant_and_nothing_is_filed_as_a_suite_error(prism_summary: dict[str, object]) -> None:
    assert prism_summary["conformant"] is False
    assert prism_summary["fatal"] is None
    totals = prism_summary["totals"]
    assert totals["errored"] == 0  # type: ignore[index]
    assert totals["failed"] >= 10  # type: ignore[index]


def test_the_reasons_show_that_prism_stores_nothing(prism_summary: dict[str, object]) -> None:
    reqs = _by_id(prism_summary)
    # A PATCH is not reflected: the answer is the fragment's example widget, named "Call duration".
    for rid in ("WPATCH-RT-01", "WPATCH-PARTIAL-01", "WPATCH-TS-01"):
        assert reqs[rid]["status"] == "failed", rid
    assert 'is "Call duration", expected' in reqs["WPATCH-RT-01"]["reason"]
    assert "updated_at is" in reqs["WPATCH-TS-01"]["reason"]
    # Prism checks that a key is present, not that it is valid.
    assert reqs["WPATCH-AUTH-01"]["status"] == "failed"
    assert "invalid key" in reqs["WPATCH-AUTH-01"]["reason"]


def test_prism_request_validation_answers_count_as_rejections(prism_summary: dict[str, object]) -> None:
    reqs = _by_id(prism_summary)
    # Prism does reject undocumented enum values and overlong names: those MUSTs pass against it.
    for rid in ("WPATCH-ENUM-02", "WPATCH-ENUM-03", "WPATCH-LEN-02"):
        assert reqs[rid]["status"] == "passed", (rid, reqs[rid]["reason"])
