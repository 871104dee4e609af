"""The verdict: computed once, here, from the requirement statuses; every report and the exit code read it.

A run is **conformant** only if it reached its end, judged at least one counted MUST (passed or failed),
and no counted MUST failed or could not be judged. Anything less is never reported as conformance:

* ``interrupted``: the run was stopped (Ctrl-C, SIGTERM, SIGHUP) before its end;
* ``not-conformant``: a counted MUST failed (the target broke a documented requirement);
* ``no-verdict``: the run ended early (the target stopped answering, the suite broke), only part of the
  catalogue was run (a pytest selection), a counted MUST errored, or no counted MUST was judged at all
  (every one skipped).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.engine.outcomes import Level, Status


class Verdict(enum.StrEnum):
    CONFORMANT = "conformant"
    NOT_CONFORMANT = "not-conformant"
    NO_VERDICT = "no-verdict"
    INTERRUPTED = "interrupted"


class ExitCode(enum.IntEnum):
    """The process exit codes of the ``cekura-conformance`` commands (``selftest`` has its own table)."""

    CONFORMANT = 0
    NOT_CONFORMANT = 1  # a MUST requirement failed
    USAGE = 2  # a usage or configuration error: nothing was judged
    NO_VERDICT = 3  # interrupted, the target did not answer, or the suite broke
    # The same numbers, named for the commands that judge nothing (report, cleanup):
    OK = 0
    LEFT_OVER = 1  # cleanup: objects of the run are still on the target
    BROKEN = 3  # a tool the command runs failed


EXIT_CODES = {
    Verdict.CONFORMANT: ExitCode.CONFORMANT,
    Verdict.NOT_CONFORMANT: ExitCode.NOT_CONFORMANT,
    Verdict.NO_VERDICT: ExitCode.NO_VERDICT,
    Verdict.INTERRUPTED: ExitCode.NO_VERDICT,
}


@dataclass(frozen=True)
class Outcome:
    """One requirement's outcome as the verdict sees it."""

    id: str
    counted: bool  # an untentative MUST: it decides conformance
    status: Status
    reason: str = ""


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    judged: tuple[str, ...]  # counted MUSTs that passed or failed
    failed: tuple[str, ...]
    errored: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (id, reason)
    why: str = ""  # for no-verdict and interrupted: what stopped the run

    @property
    def conformant(self) -> bool:
        return self.verdict is Verdict.CONFORMANT

    @property
    def exit_code(self) -> ExitCode:
        return EXIT_CODES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        return {
            "judged": len(self.judged),
            "failed": list(self.failed),
            "errored": list(self.errored),
            "skipped": [{"id": rid, "reason": reason} for rid, reason in self.skipped],
        }

    def line(self) -> str:
        """The one-line verdict the console prints last."""
        skipped = ""
        if self.skipped:
            skipped = f"; {len(self.skipped)} MUST skipped: " + ", ".join(
                f"{rid} ({reason})" for rid, reason in self.skipped
            )
        if self.verdict is Verdict.INTERRUPTED:
            return f"INTERRUPTED: {self.why or 'the run was stopped before its end'}; no verdict"
        if self.verdict is Verdict.NOT_CONFORMANT:
            return f"NOT CONFORMANT: {len(self.failed)} MUST requirement(s) failed: {', '.join(self.failed)}{skipped}"
        if self.verdict is Verdict.NO_VERDICT:
            return f"NO VERDICT: {self.why}{skipped}"
        return f"CONFORMANT: all {len(self.judged)} judged MUST requirements passed{skipped}"


def decide(
    outcomes: Iterable[Outcome],
    *,
    fatal: str | None = None,
    interrupted: str | None = None,
    partial: str | None = None,
    target_errors: Sequence[str] = (),
) -> Judgement:
    """The verdict of a run from its requirement outcomes, ``fatal`` (why it ended early), ``interrupted``
    (what stopped it) and ``partial`` (why only part of the catalogue ran); ``target_errors`` (the target's
    errors on supporting requests) say why MUSTs could not be judged."""
    counted = [o for o in outcomes if o.counted]
    judged = tuple(o.id for o in counted if o.status in (Status.PASSED, Status.FAILED))
    failed = tuple(o.id for o in counted if o.status is Status.FAILED)
    errored = tuple(o.id for o in counted if o.status is Status.ERRORED)
    skipped = tuple((o.id, o.reason) for o in counted if o.status is Status.SKIPPED)

    def judgement(verdict: Verdict, why: str = "") -> Judgement:
        return Judgement(verdict, judged, failed, errored, skipped, why)

    if interrupted is not None:
        return judgement(Verdict.INTERRUPTED, interrupted)
    if failed:
        return judgement(Verdict.NOT_CONFORMANT)
    if fatal is not None:
        return judgement(Verdict.NO_VERDICT, fatal)
    if partial is not None:
        return judgement(Verdict.NO_VERDICT, partial)
    if errored:
        why = f"{len(errored)} MUST requirement(s) could not be judged: {', '.join(errored)}"
        if target_errors:
            why = f"the target answered errors to supporting requests ({'; '.join(target_errors)}); {why}"
        return judgement(Verdict.NO_VERDICT, why)
    if not judged:
        return judgement(Verdict.NO_VERDICT, "no MUST requirement was judged")
    return judgement(Verdict.CONFORMANT)


def counts_for_conformance(level: Level | str, tentative: bool) -> bool:
    """Only untentative MUSTs decide conformance."""
    return Level(level) is Level.MUST and not tentative


def from_summary(summary: dict[str, Any]) -> Judgement:
    """The judgement recomputed from a ``summary.json`` (for views that must agree with the run's own)."""
    outcomes = [
        Outcome(
            r["id"],
            counts_for_conformance(r["level"], bool(r.get("tentative"))),
            Status(r["status"]),
            str(r.get("reason", "")),
        )
        for r in summary.get("requirements", [])
    ]
    interrupted = summary.get("interrupted")
    return decide(
        outcomes,
        fatal=summary.get("fatal"),
        interrupted=interrupted if interrupted else None,
        partial=summary.get("partial") or None,
        target_errors=summary.get("target_errors") or (),
    )
