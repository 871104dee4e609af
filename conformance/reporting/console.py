"""The table every run ends with: requirement id, level, status, a one-line reason; then the verdict."""

from __future__ import annotations

from typing import Any

from conformance.engine.coverage import figure as percent
from conformance.engine.text import printable

_MARK = {"passed": "PASS", "failed": "FAIL", "errored": "ERROR", "skipped": "SKIP"}


def table(summary: dict[str, Any], width: int = 118) -> str:
    rows = [("requirement", "level", "status", "reason")]
    for req in summary["requirements"]:
        level = req["level"] + ("?" if req.get("tentative") else "")
        rows.append((req["id"], level, _MARK[req["status"]], printable(" ".join(req["reason"].split()))))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    w2 = max(len(r[2]) for r in rows)
    room = max(20, width - w0 - w1 - w2 - 6)
    lines = []
    for i, (rid, level, status, reason) in enumerate(rows):
        short = reason if len(reason) <= room else reason[: room - 1] + "…"
        lines.append(f"{rid:<{w0}}  {level:<{w1}}  {status:<{w2}}  {short}")
        if i == 0:
            lines.append("-" * min(width, w0 + w1 + w2 + 6 + room))
    return "\n".join(lines)


def target_errors(summary: dict[str, Any]) -> str:
    """The target's errors on supporting requests, one line each, said once before the table."""
    return "\n".join(f"target error: {printable(line)}" for line in summary.get("target_errors") or ())


def verdict(summary: dict[str, Any]) -> str:
    """Target, counts, then the verdict line the run computed (``summary["verdict_line"]``), never recomputed."""
    totals = summary["totals"]
    counts = ", ".join(f"{totals[k]} {k}" for k in ("passed", "failed", "errored", "skipped"))
    head = printable(f"target {summary['target']['base_url']} · profile {summary['profile']} · seed {summary['seed']}")
    stats = f"{summary.get('requests', 0)} requests in {summary.get('seconds', 0):.1f} s"
    return f"{head}\n{counts} · {stats}\n{printable(summary['verdict_line'])}"


def coverage(summary: dict[str, Any]) -> str:
    """One line with the contract coverage figure, then each documented value the run never sent, then the
    documented answers the target never gave (the target's choice, not in the figure)."""
    cov = summary.get("coverage") or {}
    if not cov.get("total"):
        return ""
    missing = [printable(str(m)) for m in cov.get("missing") or []]
    figure = percent(cov)
    what = f"{cov['covered']} of {cov['total']} documented values of {cov.get('operation', 'the operation')} sent"
    cut_short = (
        "the run ended early" if summary.get("fatal") else "only a selection ran" if summary.get("partial") else ""
    )
    if missing and cut_short:  # what it never sent says nothing of the catalogue's reach
        return f"contract coverage {figure}: {what} ({cut_short})"
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        lines = [f"contract coverage {figure}: never sent {shown} ({what})"]
        lines += [f"  never sent: {m}" for m in missing]
    else:
        lines = [f"contract coverage {figure}: {what}"]
    never = (cov.get("statuses") or {}).get("never_answered") or []
    if never:
        lines.append(f"  documented answers the target never gave to PATCH: {', '.join(map(str, never))}")
    return "\n".join(lines)
