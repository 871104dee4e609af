"""What the property stages report: findings keyed by check, stage results, and the per-key exceptions
that let Hypothesis shrink each kind of failure on its own."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from conformance.engine.outcomes import Exchange


@dataclass
class Finding:
    check: str
    title: str
    message: str
    stage: str
    curl: str
    exchanges: list[Exchange] = field(default_factory=list)
    minimal_example: str | None = None
    shrunk: bool = False


@dataclass
class StageResult:
    name: str
    examples: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: dict[str, Finding] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None
    seed: int | None = None
    target_error: str | None = None  # the target's answer that kept the stage from running, if it did
    digest: str | None = None  # sha256 of the cases generated, ids and tag left out: equal for equal seeds


class FindingRaised(AssertionError):
    """Raised inside a Hypothesis test; one subclass per check key keeps distinct bugs apart."""

    finding: Finding


_RAISED_TYPES: dict[str, type[FindingRaised]] = {}


def raise_finding(finding: Finding) -> None:
    kind = _RAISED_TYPES.get(finding.check)
    if kind is None:
        name = "Finding_" + re.sub(r"\W", "_", finding.check)
        kind = _RAISED_TYPES[finding.check] = type(name, (FindingRaised,), {})
    error = kind(f"{finding.check}: {finding.title}")
    error.finding = finding
    raise error


def collect_raised(exc: BaseException) -> Iterator[FindingRaised]:
    if isinstance(exc, FindingRaised):
        yield exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from collect_raised(inner)
