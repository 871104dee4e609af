"""The one verdict function: conformance needs a judged MUST, no MUST failed or errored, and a run that ended."""

from __future__ import annotations

import pytest

from conformance.engine.outcomes import Status
from conformance.engine.verdict import ExitCode, Outcome, Verdict, decide, from_summary

PASS = Outcome("M-01", True, Status.PASSED)
FAIL = Outcome("M-02", True, Status.FAILED, "status 500")
ERROR = Outcome("M-03", True, Status.ERRORED, "suite bug")
SKIP = Outcome("M-04", True, Status.SKIPPED, "needs a second tenant's key")
SHOULD_FAIL = Outcome("S-01", False, Status.FAILED, "no Allow")


@pytest.mark.parametrize(
    ("outcomes", "fatal", "interrupted", "expected"),
    [
        ([PASS], None, None, Verdict.CONFORMANT),
        ([PASS, SKIP, SHOULD_FAIL], None, None, Verdict.CONFORMANT),
        ([PASS, FAIL], None, None, Verdict.NOT_CONFORMANT),
        ([PASS, FAIL], "TargetUnavailable: gone", None, Verdict.NOT_CONFORMANT),
        ([PASS, ERROR], None, None, Verdict.NO_VERDICT),
        ([PASS], "TargetUnavailable: gone", None, Verdict.NO_VERDICT),
        ([], None, None, Verdict.NO_VERDICT),  # nothing judged: an empty run is never conformant
        ([SKIP, SHOULD_FAIL], None, None, Verdict.NO_VERDICT),  # only skipped MUSTs
        ([PASS], None, "SIGTERM", Verdict.INTERRUPTED),
        ([PASS, FAIL], None, "SIGINT", Verdict.INTERRUPTED),
    ],
)
def test_decide(outcomes: list[Outcome], fatal: str | None, interrupted: str | None, expected: Verdict) -> None:
    judgement = decide(outcomes, fatal=fatal, interrupted=interrupted)
    assert judgement.verdict is expected
    assert judgement.conformant is (expected is Verdict.CONFORMANT)
    exit_codes = {
        Verdict.CONFORMANT: ExitCode.CONFORMANT,
        Verdict.NOT_CONFORMANT: ExitCode.NOT_CONFORMANT,
        Verdict.NO_VERDICT: ExitCode.NO_VERDICT,
        Verdict.INTERRUPTED: ExitCode.NO_VERDICT,
    }
    assert judgement.exit_code is exit_codes[expected]


def test_the_verdict_line_names_failed_and_skipped_musts() -> None:
    judgement = decide([PASS, FAIL, SKIP, SHOULD_FAIL])
    line = judgement.line()
    assert line.startswith("NOT CONFORMANT: 1 MUST requirement(s) failed: M-02")
    assert "M-04 (needs a second tenant's key)" in line and "S-01" not in line
    assert decide([PASS, SKIP]).line().startswith("CONFORMANT: all 1 judged MUST requirements passed; 1 MUST skipped")
    assert "CONFORMANT" not in decide([PASS], interrupted="SIGTERM").line().replace("INTERRUPTED", "")
    assert decide([]).line() == "NO VERDICT: no MUST requirement was judged"


def test_the_counts_name_each_kind() -> None:
    assert decide([PASS, FAIL, ERROR, SKIP, SHOULD_FAIL]).as_dict() == {
        "judged": 2,
        "failed": ["M-02"],
        "errored": ["M-03"],
        "skipped": [{"id": "M-04", "reason": "needs a second tenant's key"}],
    }


def test_from_summary_agrees_with_decide() -> None:
    summary = {
        "fatal": None,
        "interrupted": None,
        "requirements": [
            {"id": "M-01", "level": "MUST", "status": "passed", "reason": ""},
            {"id": "M-02", "level": "MUST", "status": "failed", "reason": "x", "tentative": True},  # not counted
            {"id": "S-01", "level": "SHOULD", "status": "failed", "reason": "y"},
        ],
    }
    assert from_summary(summary).verdict is Verdict.CONFORMANT
    summary["interrupted"] = "SIGINT"
    assert from_summary(summary).verdict is Verdict.INTERRUPTED
