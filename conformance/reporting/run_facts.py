"""What a ``summary.json`` says, read tolerantly: the verdict word and the MUST outcome, for every view of it.

Newer summaries carry ``verdict`` and ``must``; older ones do not. A missing verdict is never guessed from the
other keys: it reads as ``no-verdict``. The MUST lists fall back to the requirements themselves (untentative
MUSTs), the same rule the console uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERDICTS = ("conformant", "not-conformant", "no-verdict", "interrupted")
NO_VERDICT = "no-verdict"


def verdict(summary: Mapping[str, Any]) -> str:
    """The verdict word; ``no-verdict`` when the summary has none (or an unknown one)."""
    word = summary.get("verdict")
    return word if word in VERDICTS else NO_VERDICT


def has_verdict(summary: Mapping[str, Any]) -> bool:
    return summary.get("verdict") in VERDICTS


@dataclass(frozen=True)
class MustOutcome:
    failed: tuple[str, ...]
    errored: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (id, reason)
    judged: int | None = None  # only newer summaries count it


def _counted_must(req: Mapping[str, Any]) -> bool:
    return req.get("level") == "MUST" and not req.get("tentative")


def must(summary: Mapping[str, Any]) -> MustOutcome:
    """Failed, errored and skipped MUST requirements: from ``summary["must"]`` if present, else the requirements."""
    given = summary.get("must")
    if isinstance(given, Mapping):
        skipped = tuple(
            (str(s.get("id", "")), str(s.get("reason", ""))) if isinstance(s, Mapping) else (str(s), "")
            for s in given.get("skipped") or ()
        )
        judged = given.get("judged")
        return MustOutcome(
            tuple(str(i) for i in given.get("failed") or ()),
            tuple(str(i) for i in given.get("errored") or ()),
            skipped,
            judged if isinstance(judged, int) else None,
        )
    counted = [r for r in requirements(summary) if _counted_must(r)]
    return MustOutcome(
        tuple(r["id"] for r in counted if r.get("status") == "failed"),
        tuple(r["id"] for r in counted if r.get("status") == "errored"),
        tuple((r["id"], str(r.get("reason", ""))) for r in counted if r.get("status") == "skipped"),
    )


def requirements(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    reqs = summary.get("requirements")
    return [r for r in reqs if isinstance(r, Mapping) and "id" in r] if isinstance(reqs, list) else []


def not_counted_failures(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Failed requirements that do not decide conformance: SHOULD, MAY and tentative MUSTs."""
    return [r for r in requirements(summary) if r.get("status") == "failed" and not _counted_must(r)]
