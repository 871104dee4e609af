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
                    f"(GET {METRICS_PATH} with each key)"
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
            self.other_metrics = _only_theirs(_listed_metrics(other), listed, self.metrics)


def _listed_metrics(response: Any) -> list[dict[str, Any]]:
    """The metrics a 200 answer of the metrics list names (id and name); none for anything else."""
    try:
        data = response.json() if response.status_code == 200 else None
    except ValueError:
        data = None
    listed = data if isinstance(data, list) else []
    return [
        {"id": m["id"], "name": m.get("name")} for m in listed if isinstance(m, dict) and isinstance(m.get("id"), int)
    ]


def _only_theirs(
    theirs: list[dict[str, Any]], listed: list[dict[str, Any]], mine: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The second tenant's metrics the caller cannot see, if the caller's own first metric is not theirs too.

    Keys of one organisation may share metrics; a shared metric is no isolation probe either way, so without
    both lists to tell them apart the cross-tenant metric cases are skipped rather than risk a false failure.
    """
    their_ids = {m["id"] for m in theirs}
    my_ids = {m["id"] for m in listed}
    if not listed or not mine or mine[0]["id"] in their_ids:
        return []
    return [m for m in theirs if m["id"] not in my_ids]
