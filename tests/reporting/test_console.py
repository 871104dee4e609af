"""reporting/console.py: the terminal table and verdict."""

from __future__ import annotations

from conformance.engine import verdict
from conformance.reporting import console


def test_console_table_and_verdict_name_failed_musts() -> None:
    summary = {
        "target": {"base_url": "embedded"},
        "profile": "quick",
        "seed": 1,
        "totals": {"passed": 1, "failed": 1, "errored": 0, "skipped": 0},
        "requirements": [
            {"id": "WPATCH-A-01", "level": "MUST", "status": "failed", "reason": "status 500"},
            {"id": "WPATCH-B-01", "level": "SHOULD", "status": "passed", "reason": "2 checks passed"},
        ],
    }
    summary["verdict_line"] = verdict.from_summary(summary).line()
    text = console.table(summary)
    assert "WPATCH-A-01  MUST    FAIL" in text
    assert "NOT CONFORMANT: 1 MUST requirement(s) failed: WPATCH-A-01" in console.verdict(summary)
