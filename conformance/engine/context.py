"""What every check of a run shares: the target, the fixtures ledger, the contract and discovered values."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.contract import Contract
from conformance.engine.errors import ConfigurationError
from conformance.engine.fixtures import Fixtures
from conformance.engine.target import Target

METRICS_PATH = "/test_framework/v1/metrics/"


@dataclass
class RunContext:
    target: Target
    fixtures: Fixtures
    contract: Contract
    seed: int
    metrics: list[dict[str, Any]] = field(default_factory=list)
    metric_note: str = ""

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
        return None

    def variables(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "metric": self.metrics[0] if self.metrics else None,
            "metric2": self.metrics[1] if len(self.metrics) > 1 else None,
        }

    def preflight(self) -> None:
        """Check the target answers and takes the keys, and discover metrics (TargetUnavailable if silent)."""
        response = self.target.request("GET", METRICS_PATH)
        if response.status_code in (401, 403):
            raise ConfigurationError(f"the target refused the API key ({response.status_code} on GET {METRICS_PATH})")
        listed: list[dict[str, Any]] = []
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, list):
                listed = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), int)]
        wanted = self.target.config.metric_id
        if wanted is not None:
            named = [m for m in listed if m["id"] == wanted]
            self.metrics = named or [{"id": wanted, "name": None}]
            self.metrics += [m for m in listed if m["id"] != wanted][:1]
            self.metric_note = "from --metric-id"
        elif listed:
            self.metrics = [{"id": m["id"], "name": m.get("name")} for m in listed[:2]]
            self.metric_note = f"discovered through GET {METRICS_PATH}"
        else:
            self.metric_note = (
                f"--metric-id not given and GET {METRICS_PATH} answered {response.status_code} with no metric"
            )
        if self.has_other:
            other = self.target.request("GET", METRICS_PATH, auth="other")
            if other.status_code in (401, 403):
                raise ConfigurationError(f"the target refused the other API key ({other.status_code})")
