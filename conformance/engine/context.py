"""What every check of a run shares: the target, the fixtures ledger, the contract and discovered values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.contract import Contract
from conformance.engine import preflight
from conformance.engine.fixtures import Fixtures
from conformance.engine.target import Target


@dataclass
class RunContext:
    target: Target
    fixtures: Fixtures
    contract: Contract
    seed: int
    metrics: list[dict[str, Any]] = field(default_factory=list)
    metric_note: str = ""
    target_errors: list[str] = field(default_factory=list)  # the target's errors met in preflight
    other_metrics: list[dict[str, Any]] = field(default_factory=list)  # the second tenant's, for isolation cases

    @property
    def tag(self) -> str:
        return self.fixtures.tag

    @property
    def has_other(self) -> bool:
        return bool(self.target.config.other_api_key)

    def missing(self, preconditions: tuple[str, ...] | list[str]) -> str | None:
        """Why the preconditions are not met, or None."""
        for item in preconditions:
            if item == "other_key" and not self.has_other:
                return "needs a second tenant's key (--other-api-key or CEKURA_OTHER_API_KEY)"
            if item == "metric" and not self.metrics:
                return f"needs a metric id of the caller's: {self.metric_note or 'none found'}"
            if item == "two_metrics" and len(self.metrics) < 2:
                return f"needs two metric ids of the caller's: {self.metric_note or 'fewer than two found'}"
            if item == "other_metric" and not self.other_metrics:
                return (
                    f"needs a metric of the second tenant's that the caller cannot see, and the reverse "
                    f"(GET {preflight.METRICS_PATH} with each key)"
                )
        return None

    def variables(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "metric": self.metrics[0] if self.metrics else None,
            "metric2": self.metrics[1] if len(self.metrics) > 1 else None,
            "other_metric": self.other_metrics[0] if self.other_metrics else None,
        }

    def preflight(self) -> None:
        """Check the target answers as the API and takes the keys, and discover metrics (engine/preflight.py):
        ConfigurationError for the user's mistakes, TargetUnavailable if the target is silent."""
        found = preflight.run(self.target)
        self.metrics, self.metric_note, self.target_errors = found.metrics, found.metric_note, found.target_errors
        self.other_metrics = found.other_metrics
