"""A diff's reports: ``diff.json`` (the source of truth), the console table and an Allure view of it.

``diff.json``::

    {"format": "cekura-diff", "version": 1, "suite_version", "verdict", "verdict_line", "exit_code",
     "reference", "candidate", "cassette", "contract", "profile", "seed", "started_at", "seconds",
     "steps", "compared", "divergences", "exchanges_diverged",
     "by_path": [{"path", "count", "first": {"step", "unit", "request", "tenant", "path", "reference", "candidate"}}],
     "by_requirement": [{"id": a requirement id or a unit ("stage fuzz-negative", "preflight"),
                         "requirements": the ids it counts for (a stage: those whose checks it feeds),
                         "count", "paths", "first"}],
     "exchanges": [{"step", "unit", "owner", "requirements", "request", "tenant", "divergences": [{"path", ...}]}],
     "ignored": [{"path", "reason", "pattern", "count"}], "ignore_patterns", "rules",
     "passes": {name: {"target", "requests", "error", "leftovers"}}, "error", "interrupted", "notes"}

Whatever a target sent, the file is valid UTF-8 JSON (lone surrogates written visibly).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.differential.compare import by_step
from conformance.differential.normalise import RULES
from conformance.differential.outcome import (
    DiffVerdict,
    Outcome,
    by_path,
    by_requirement,
    example,
    owner_of,
    requirements_of,
    shown_url,
)
from conformance.engine.text import no_surrogates, printable

DIFF = "diff.json"
ALLURE_DIR = "diff-allure-results"  # beside a run's allure-results, never mixed with them
FORMAT = "cekura-diff"
VERSION = 1


def verdict_line(outcome: Outcome) -> str:
    verdict = outcome.verdict
    if verdict is DiffVerdict.INTERRUPTED:
        return f"INTERRUPTED: {outcome.interrupted}; no verdict"
    if verdict is DiffVerdict.NO_VERDICT:
        return f"NO VERDICT: {outcome.error}"
    if verdict is DiffVerdict.DIVERGED:
        paths = len({d.general for d in outcome.divergences})
        return (
            f"DIVERGED: {_count(len(outcome.divergences), 'divergence')} at {_count(paths, 'path')} in "
            f"{outcome.exchanges()} of {_count(outcome.compared, 'exchange')}, beyond the noise"
        )
    return f"NO DIVERGENCE: {outcome.compared} exchanges compared, nothing differs beyond the noise"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def document(
    outcome: Outcome,
    *,
    meta: Mapping[str, Any],
    stage_requirements: Mapping[str, Sequence[str]],
    passes: Mapping[str, Mapping[str, Any]],
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    program = outcome.program
    exchanges = []
    for step_index, found in sorted(by_step(outcome.divergences).items()):
        step = program.steps[step_index]
        exchanges.append(
            {
                "step": step_index,
                "unit": step.unit,
                "owner": owner_of(step),
                "requirements": requirements_of(step, stage_requirements),
                "request": f"{step.method} {shown_url(step)}",
                "tenant": step.tenant,
                "divergences": [d.as_dict() for d in found],
            }
        )
    data = {
        "format": FORMAT,
        "version": VERSION,
        "suite_version": __version__,
        "verdict": str(outcome.verdict),
        "verdict_line": verdict_line(outcome),
        "exit_code": int(outcome.exit_code),
        **meta,
        "steps": len(program.steps),
        "compared": outcome.compared,
        "divergences": len(outcome.divergences),
        "exchanges_diverged": outcome.exchanges(),
        "by_path": by_path(outcome),
        "by_requirement": by_requirement(outcome, stage_requirements),
        "exchanges": exchanges,
        "ignored": [
            {"path": i.path, "reason": i.reason, "pattern": i.pattern, "count": i.count}
            for i in sorted(outcome.ignored.values(), key=lambda i: (i.reason, -i.count, i.path))
        ],
        "ignore_patterns": list(outcome.ignores),
        "rules": list(RULES),
        "passes": {name: dict(facts) for name, facts in passes.items()},
        "error": outcome.error,
        "interrupted": outcome.interrupted,
        "notes": list(notes),
    }
    safe: dict[str, Any] = _safe(data)
    return safe


def _safe(value: Any) -> Any:
    """Every text encodable as UTF-8 (a target's lone surrogates written visibly)."""
    if isinstance(value, str):
        return no_surrogates(value)
    if isinstance(value, dict):
        return {no_surrogates(str(k)): _safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_safe(v) for v in value]
    return value


def write(data: Mapping[str, Any], report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / DIFF
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    write_allure(data, report_dir / ALLURE_DIR)
    return path


# Console ---------------------------------------------------------------------------------------------------


def console(data: Mapping[str, Any], width: int = 118, limit: int = 40) -> str:
    lines = []
    rows = [("path", "count", "first divergence (reference → candidate)")]
    for item in data["by_path"][:limit]:
        first = item["first"]
        said = f"step {first['step']} {first['request']}: {first['reference']} → {first['candidate']}"
        rows.append((item["path"], str(item["count"]), said))
    if len(rows) > 1:
        w0 = min(60, max(len(r[0]) for r in rows))
        w1 = max(len(r[1]) for r in rows)
        room = max(20, width - w0 - w1 - 4)
        for index, (path, count, said) in enumerate(rows):
            path, said = printable(path), printable(" ".join(said.split()))
            path = path if len(path) <= w0 else path[: w0 - 1] + "…"
            said = said if len(said) <= room else said[: room - 1] + "…"
            lines.append(f"{path:<{w0}}  {count:>{w1}}  {said}")
            if index == 0:
                lines.append("-" * min(width, w0 + w1 + 4 + room))
        if len(data["by_path"]) > limit:
            lines.append(f"... and {len(data['by_path']) - limit} more paths (diff.json)")
        lines.append("")
        owners = ", ".join(f"{r['id']} ({r['count']})" for r in data["by_requirement"][:12])
        lines.append(printable(f"by requirement: {owners}{' ...' if len(data['by_requirement']) > 12 else ''}"))
    learned = sum(i["count"] for i in data["ignored"] if i["reason"] == "learned noise")
    user = [i for i in data["ignored"] if i["reason"] != "learned noise"]
    if learned:
        lines.append(f"set aside as noise (differed between the reference's two passes): {learned}")
    for item in user:
        lines.append(printable(f"ignored by --ignore {item['pattern']}: {item['path']} ({item['count']})"))
    lines.append(
        printable(
            f"reference {data['reference']} · candidate {data['candidate']} · profile {data['profile']} · "
            f"seed {data['seed']} · {data['steps']} steps in {data.get('seconds', 0):.1f} s"
        )
    )
    lines.append(printable(data["verdict_line"]))
    return "\n".join(lines)


# Allure ----------------------------------------------------------------------------------------------------


def write_allure(data: Mapping[str, Any], results_dir: Path) -> list[Path]:
    """One Allure result per requirement (or unit) that diverged, a step per diverged exchange; a passed result
    says the exchanges compared the same. A view of ``diff.json``, nothing more."""
    results_dir.mkdir(parents=True, exist_ok=True)
    for old in results_dir.glob("*-result.json"):
        old.unlink()
    written = []
    owners: dict[str, list[Mapping[str, Any]]] = {}
    for exchange in data["exchanges"]:
        owners.setdefault(exchange["owner"], []).append(exchange)
    if not owners:
        owners["differential"] = []
    for owner, exchanges in sorted(owners.items()):
        steps = [
            {
                "name": f"step {e['step']}: {e['request']} ({e['unit']})",
                "status": "failed",
                "steps": [
                    {"name": f"{d['path']}: {d['reference']} → {d['candidate']}", "status": "failed"}
                    for d in e["divergences"][:50]
                ],
            }
            for e in exchanges[:200]
        ]
        result = {
            "uuid": str(uuid.uuid4()),
            "historyId": f"diff:{owner}",
            "name": f"{owner}: reference and candidate",
            "fullName": f"differential.{owner}",
            "status": "failed" if exchanges else "passed",
            "statusDetails": {"message": data["verdict_line"] if exchanges else "no divergence beyond the noise"},
            "steps": steps,
            "labels": [
                {"name": "suite", "value": "differential"},
                {"name": "feature", "value": "differential conformance"},
                {"name": "story", "value": owner},
            ],
            "parameters": [
                {"name": "reference", "value": str(data["reference"])},
                {"name": "candidate", "value": str(data["candidate"])},
                {"name": "seed", "value": str(data["seed"])},
            ],
        }
        path = results_dir / f"{result['uuid']}-result.json"
        path.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
        written.append(path)
    return written


__all__ = ["DIFF", "console", "document", "example", "write", "write_allure"]
