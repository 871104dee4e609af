"""The PATCH-semantics oracle: what a DRF partial update must have done, judged from GET before and after.

Registered with schemathesis as the ``patch_semantics`` check; it reads the "before" state the property
stage recorded for the case, so it is silent in runs that recorded none (a bare ``schemathesis run``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from conformance import calibration
from conformance.contract import Contract
from conformance.engine.expectations import normalise_filter

JSON = Any


class OracleFailure(Failure):
    """A PATCH did not have the effect of a DRF partial update."""

    code = "ST901"
    checks = ("patch_semantics",)
    kind_title = "PATCH semantics"
    __slots__ = ("aspect",)

    def __init__(self, *, aspect: str, message: str, operation: str | None = None) -> None:
        super().__init__(operation=operation, title=f"PATCH semantics: {aspect}", message=message)
        self.aspect = aspect


@dataclass
class Observation:
    """What the stage saw around one PATCH: the widget before, the answer, the widget after."""

    before: Mapping[str, JSON]
    after: Mapping[str, JSON] | None
    dashboard_filters: Mapping[int | None, JSON]
    metric_names: Mapping[int, str | None]
    sent: Mapping[str, JSON] = field(default_factory=dict)


#: Every aspect the oracle judges; each is a check key ``oracle:<aspect>`` the catalogue maps to requirements.
ASPECTS = (
    "partial",
    "applied",
    "read_only",
    "effective_filters",
    "metric_name",
    "updated_at",
    "created_at",
    "rejected_unchanged",
)

# case.id -> Observation, filled by the property stage just before validation.
OBSERVATIONS: dict[str, Observation] = {}


def _ts(value: JSON) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def expected_effective(dashboard_filters: JSON, widget_filters: JSON) -> JSON:
    """The documented AND merge (dashboard first); one side empty gives the other."""
    empty: tuple[JSON, ...] = ({}, None)
    if dashboard_filters in empty:
        return widget_filters if widget_filters not in empty else {}
    if widget_filters in empty:
        return dashboard_filters
    return {"operator": "and", "conditions": [dashboard_filters, widget_filters]}


def expected_value(contract: Contract, prop: str, sent: JSON) -> JSON:
    """The value DRF stores for a sent writable property (CharFields trimmed, pks coerced)."""
    if prop in calibration.CHAR_FIELDS and sent is not None:
        return calibration.drf_char_value(sent)
    if prop in calibration.FOREIGN_KEYS and sent == "":
        return None  # DRF's RelatedField.run_validation: "" means null for a relation
    if prop in calibration.FOREIGN_KEYS and isinstance(sent, str | float) and not isinstance(sent, bool):
        return int(float(sent))
    return sent


def judge(contract: Contract, obs: Observation, status: int, body: JSON) -> list[tuple[str, str]]:
    """Every (aspect, message) the PATCH got wrong."""
    problems: list[tuple[str, str]] = []
    after = obs.after
    if after is None:
        return problems
    writable = contract.writable("Widget")
    sent = obs.sent
    if 400 <= status < 500:
        changed = sorted(k for k in writable if obs.before.get(k) != after.get(k))
        if changed:
            problems.append(("rejected_unchanged", f"a rejected PATCH ({status}) still changed {', '.join(changed)}"))
        return problems
    if not 200 <= status < 300:
        return problems
    for prop in writable:
        if prop in sent:
            want = expected_value(contract, prop, sent[prop])
            got_after = after.get(prop)
            got_body = body.get(prop) if isinstance(body, Mapping) else None
            if got_after != want or got_body != want:
                problems.append(
                    ("applied", f"{prop} sent as {sent[prop]!r}: response has {got_body!r}, a later GET {got_after!r}")
                )
        elif obs.before.get(prop) != after.get(prop):
            problems.append(
                ("partial", f"{prop} was not sent but changed from {obs.before.get(prop)!r} to {after.get(prop)!r}")
            )
    for prop in ("id", "created_at"):
        if prop in sent and after.get(prop) != obs.before.get(prop):
            problems.append(("read_only", f"read-only {prop} sent as {sent[prop]!r} changed to {after.get(prop)!r}"))
    if "updated_at" in sent and sent["updated_at"] == after.get("updated_at") != obs.before.get("updated_at"):
        problems.append(("read_only", f"read-only updated_at took the sent value {sent['updated_at']!r}"))
    for prop in ("effective_filters", "metric_name"):
        if prop in sent and sent[prop] == after.get(prop) and sent[prop] != obs.before.get(prop):
            derived = _derived(obs, after, prop)
            if derived != sent[prop]:
                problems.append(("read_only", f"read-only {prop} took the sent value {sent[prop]!r}"))
    dashboard = after.get("dashboard")
    if dashboard in obs.dashboard_filters:
        want_ef = expected_effective(obs.dashboard_filters[dashboard], after.get("filters"))
        if normalise_filter(after.get("effective_filters")) != normalise_filter(want_ef):
            problems.append(
                ("effective_filters", f"effective_filters is {after.get('effective_filters')!r}, expected {want_ef!r}")
            )
    metric = after.get("metric")
    known_name = obs.metric_names.get(metric) if isinstance(metric, int) else None
    if known_name and after.get("metric_name") != known_name:
        problems.append(("metric_name", f"metric_name is {after.get('metric_name')!r}, expected {known_name!r}"))
    before_u, after_u = _ts(obs.before.get("updated_at")), _ts(after.get("updated_at"))
    if before_u and after_u and not after_u > before_u:
        problems.append(("updated_at", f"updated_at did not advance ({obs.before.get('updated_at')} -> {after_u})"))
    if obs.before.get("created_at") != after.get("created_at"):
        problems.append(
            ("created_at", f"created_at changed ({obs.before.get('created_at')} -> {after.get('created_at')})")
        )
    return problems


def _derived(obs: Observation, after: Mapping[str, JSON], prop: str) -> JSON:
    if prop == "metric_name":
        metric = after.get("metric")
        return obs.metric_names.get(metric) if isinstance(metric, int) else None
    dashboard = after.get("dashboard")
    return expected_effective(obs.dashboard_filters.get(dashboard), after.get("filters"))


@schemathesis.check
def patch_semantics(ctx: Any, response: Any, case: Any) -> bool | None:
    """Raise OracleFailure for the first aspect of PATCH semantics the response and later GET break."""
    obs = OBSERVATIONS.get(case.id)
    if obs is None:
        return None
    from conformance.contract import default

    try:
        body = response.json()
    except ValueError:
        body = None
    problems = judge(default(), obs, response.status_code, body)
    if problems:
        aspect, message = problems[0]
        raise OracleFailure(aspect=aspect, message=message, operation=case.operation.label)
    return True
