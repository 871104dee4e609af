"""Outcome records: the three ways a check ends besides passing, kept apart everywhere."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the target broke a requirement
    ERRORED = "errored"  # the suite, the network or the configuration broke
    SKIPPED = "skipped"  # a precondition is missing

    @property
    def rank(self) -> int:
        """Worse outcomes rank higher when one requirement collects several."""
        return {"passed": 0, "skipped": 1, "failed": 3, "errored": 2}[self.value]


class Level(enum.StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"
    MAY = "MAY"


@dataclass
class Exchange:
    """One HTTP request and its response, redacted, for reports and reproducers."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_headers: dict[str, str]
    response_body: str | None
    elapsed_ms: float
    curl: str


@dataclass
class CaseResult:
    """The outcome of one hand-written case or one property finding."""

    requirement_id: str
    name: str
    status: Status
    message: str = ""
    exchanges: list[Exchange] = field(default_factory=list)
    curl: str | None = None
    seed: int | None = None
    minimal_example: str | None = None
    kind: str = "case"  # "case" or "property"
    stage: str | None = None
    check: str | None = None  # the property check that fired (``st:...``, ``oracle:...``), for a finding
    # Which of ``exchanges`` broke the rule (the answer the failed expectation judged), when one did.
    failed_exchange: int | None = None
    # For an errored case: the target's answer that stopped it ("POST /dashboards/widgets/ answered 500"),
    # when the target, not the suite, kept it from being judged.
    target_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "requirement_id": self.requirement_id,
            "name": self.name,
            "status": self.status.value,
            "message": self.message,
            "kind": self.kind,
            "stage": self.stage,
            "check": self.check,
            "curl": self.curl,
            "seed": self.seed,
            "minimal_example": self.minimal_example,
            "target_error": self.target_error,
            "exchanges": [e.__dict__ for e in self.exchanges],
            "failed_exchange": self.failed_exchange,
        }


def worst(statuses: list[Status]) -> Status:
    """The requirement's status from its parts: any failure fails it; nothing run means skipped."""
    if not statuses:
        return Status.SKIPPED
    return max(statuses, key=lambda s: s.rank)
