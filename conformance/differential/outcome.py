"""A diff's outcome: the divergences beyond the noise, what was set aside and why, and the exit code.

Exit codes (``engine.verdict.ExitCode``): 0 nothing diverged beyond the noise, 1 something did, 3 a target
stopped answering or the diff was interrupted (no verdict: the passes are incomplete), 2 a configuration mistake
(raised before anything is sent, never an outcome).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.differential.compare import Divergence, differences, matches
from conformance.differential.noise import Noise, covers
from conformance.differential.program import Answer, Program, Step
from conformance.engine.verdict import ExitCode


class DiffVerdict(enum.StrEnum):
    SAME = "no-divergence"
    DIVERGED = "diverged"
    NO_VERDICT = "no-verdict"
    INTERRUPTED = "interrupted"


LEARNED = "learned noise"
USER = "user --ignore"


@dataclass
class Ignored:
    path: str  # the general path (array indices as [*])
    reason: str  # LEARNED or USER
    pattern: str | None = None  # the --ignore pattern that covered it
    count: int = 0


@dataclass
class Outcome:
    program: Program
    divergences: list[Divergence] = field(default_factory=list)
    ignored: dict[tuple[str, str], Ignored] = field(default_factory=dict)
    ignores: tuple[str, ...] = ()  # the user's --ignore patterns
    compared: int = 0  # steps both sides answered
    error: str | None = None  # which target stopped answering, and where
    interrupted: str | None = None

    @property
    def verdict(self) -> DiffVerdict:
        if self.interrupted:
            return DiffVerdict.INTERRUPTED
        if self.error:
            return DiffVerdict.NO_VERDICT
        return DiffVerdict.DIVERGED if self.divergences else DiffVerdict.SAME

    @property
    def exit_code(self) -> ExitCode:
        if self.verdict in (DiffVerdict.INTERRUPTED, DiffVerdict.NO_VERDICT):
            return ExitCode.NO_VERDICT
        return ExitCode.NOT_CONFORMANT if self.divergences else ExitCode.CONFORMANT

    def exchanges(self) -> int:
        return len({d.step for d in self.divergences})


def judge(
    program: Program,
    reference: Sequence[Answer],
    candidate: Sequence[Answer],
    noise: Noise,
    ignores: Sequence[str] = (),
) -> Outcome:
    """Every divergence between the reference's and the candidate's answers, less the noise and the user's."""
    outcome = Outcome(program, ignores=tuple(ignores))
    for index, (ref, cand) in enumerate(zip(reference, candidate, strict=False)):
        outcome.compared += 1
        for divergence in differences(index, ref, cand):
            pattern = matches(divergence.path, ignores) if ignores else None
            if pattern is not None:
                _set_aside(outcome, divergence, USER, pattern)
            elif covers(noise, index, divergence.path):
                _set_aside(outcome, divergence, LEARNED, None)
            else:
                outcome.divergences.append(divergence)
    return outcome


def _set_aside(outcome: Outcome, divergence: Divergence, reason: str, pattern: str | None) -> None:
    key = (divergence.general, reason)
    ignored = outcome.ignored.setdefault(key, Ignored(divergence.general, reason, pattern))
    ignored.count += 1


def requirements_of(step: Step, stage_requirements: Mapping[str, Sequence[str]]) -> list[str]:
    """A case's requirement id; for a stage's step, the requirements whose checks the stages feed."""
    if step.requirement:
        return [step.requirement]
    if step.stage is not None:
        return list(stage_requirements.get(step.stage, ()))
    return []


def by_path(outcome: Outcome) -> list[dict[str, Any]]:
    counts: Counter[str] = Counter()
    first: dict[str, Divergence] = {}
    for divergence in outcome.divergences:
        counts[divergence.general] += 1
        first.setdefault(divergence.general, divergence)
    return [
        {"path": path, "count": count, "first": example(outcome.program, first[path])}
        for path, count in counts.most_common()
    ]


def owner_of(step: Step) -> str:
    """Who a step's divergences are counted for: its case's requirement id, else its unit ("stage coverage",
    "preflight", "property stages": the stages' ground)."""
    return step.requirement or step.unit


def by_requirement(outcome: Outcome, stage_requirements: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
    """Divergences by requirement id; a stage's are counted once, for the stage, with the requirements whose
    checks it feeds (counting them for each would multiply one divergence by forty)."""
    counts: Counter[str] = Counter()
    paths: dict[str, Counter[str]] = {}
    first: dict[str, Divergence] = {}
    for divergence in outcome.divergences:
        owner = owner_of(outcome.program.steps[divergence.step])
        counts[owner] += 1
        paths.setdefault(owner, Counter())[divergence.general] += 1
        first.setdefault(owner, divergence)
    return [
        {
            "id": owner,
            "requirements": requirements_of(outcome.program.steps[first[owner].step], stage_requirements),
            "count": count,
            "paths": [p for p, _ in paths[owner].most_common()],
            "first": example(outcome.program, first[owner]),
        }
        for owner, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def shown_url(step: Step) -> str:
    """The step's URL with its symbols shown (``/dashboards/widgets/{widget#3}/``)."""
    url, _ = step.render({ref.symbol: f"{{{ref.symbol}}}" for ref in step.refs})
    return url


def example(program: Program, divergence: Divergence) -> dict[str, Any]:
    step = program.steps[divergence.step]
    return {
        "step": divergence.step,
        "unit": step.unit,
        "request": f"{step.method} {shown_url(step)}",
        "tenant": step.tenant,
        **divergence.as_dict(),
    }


def is_ignored(path: str, patterns: Sequence[str]) -> bool:
    return matches(path, patterns) is not None
