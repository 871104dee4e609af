"""The PATCH-semantics oracle: what a DRF partial update must have done, judged from GET before and after.

The property stages read the widget before and after each PATCH and call ``judge``; every problem it
reports names one aspect of ``ASPECTS``, and the finding's check key is ``oracle:<aspect>``, which the
catalogue maps to the requirements it counts against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from conformance import calibration
from conformance._types import JSON
from conformance.contract import Contract
from conformance.engine.expectations import normalise_filter

CHECK_PREFIX = "oracle:"
_ABSENT = object()

#: Every aspect the oracle judges, with what it means: the one registry the check keys are derived from.
ASPECTS: Mapping[str, str] = MappingProxyType(
    {
        "partial": "writable fields the PATCH did not send keep their values",
        "applied": "writable fields the PATCH sent take the value DRF stores, in the answer and a later GET",
        "read_only": "read-only fields sent in the body are not applied",
        "response": "the 2xx answer is the widget at the path: its id, and the body a GET right after returns",
        "effective_filters": "effective_filters is the and-merge of the dashboard's and the widget's filters",
        "metric_name": "metric_name is the name of the metric the widget plots",
        "metric_name_cleared": "after metric is cleared, metric_name no longer names the old metric",
        "updated_at": "updated_at advances on a successful PATCH",
        "created_at": "created_at never changes",
        "rejected_unchanged": "a rejected PATCH changes no field",
    }
)


def check_key(aspect: str) -> str:
    """The finding key of an aspect; KeyError for an aspect the registry does not hold."""
    if aspect not in ASPECTS:
        raise KeyError(f"unknown oracle aspect {aspect!r}")
    return CHECK_PREFIX + aspect


def check_keys() -> set[str]:
    return {check_key(aspect) for aspect in ASPECTS}


@dataclass
class Observation:
    """What the stage saw around one PATCH: the widget before, the answer, the widget after."""

    before: Mapping[str, JSON]
    after: Mapping[str, JSON] | None
    dashboard_filters: Mapping[int | None, JSON]
    metric_names: Mapping[int, str | None]
    sent: Mapping[str, JSON] = field(default_factory=dict)


def _ts(value: JSON) -> datetime | None:
    # The judge reads timestamps with its own parser, deliberately apart from the engine's (answers.py) and
    # the emulator's (emulator/timestamps.py): a shared defect would otherwise pass what it should fail.
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
        try:
            return int(float(sent))
        except (ValueError, OverflowError):  # not a number DRF could coerce: compare with what was sent
            return sent
    return sent


def judge(contract: Contract, obs: Observation, status: int, body: JSON) -> list[tuple[str, str]]:
    """Every (aspect, message) the PATCH got wrong; each aspect is a key of ``ASPECTS``."""
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
    problems += _response(obs, after, body)
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
    if _known(dashboard) and dashboard in obs.dashboard_filters:
        want_ef = expected_effective(obs.dashboard_filters[dashboard], after.get("filters"))
        if normalise_filter(after.get("effective_filters")) != normalise_filter(want_ef):
            problems.append(
                ("effective_filters", f"effective_filters is {after.get('effective_filters')!r}, expected {want_ef!r}")
            )
    problems += _metric_name(obs, after)
    before_u, after_u = _ts(obs.before.get("updated_at")), _ts(after.get("updated_at"))
    if before_u and after_u and not after_u > before_u:
        problems.append(("updated_at", f"updated_at did not advance ({obs.before.get('updated_at')} -> {after_u})"))
    if obs.before.get("created_at") != after.get("created_at"):
        problems.append(
            ("created_at", f"created_at changed ({obs.before.get('created_at')} -> {after.get('created_at')})")
        )
    return problems


def _response(obs: Observation, after: Mapping[str, JSON], body: JSON) -> list[tuple[str, str]]:
    """The 2xx answer describes the widget at the path, as a GET right after shows it.

    A body that is not a JSON object is the schema checks' to judge, not this aspect's.
    """
    if not isinstance(body, Mapping):
        return []
    if body.get("id") != obs.before.get("id"):
        return [
            ("response", f"the answer's id is {body.get('id')!r}, the widget at the path is {obs.before.get('id')!r}")
        ]
    differing = sorted(key for key in set(body) | set(after) if body.get(key, _ABSENT) != after.get(key, _ABSENT))
    if differing:
        shown = ", ".join(f"{key}: {body.get(key)!r} vs {after.get(key)!r}" for key in differing[:4])
        return [("response", f"the answer differs from a GET right after in {shown}")]
    return []


def _metric_name(obs: Observation, after: Mapping[str, JSON]) -> list[tuple[str, str]]:
    metric = after.get("metric")
    known_name = obs.metric_names.get(metric) if isinstance(metric, int) else None
    if known_name and after.get("metric_name") != known_name:
        return [("metric_name", f"metric_name is {after.get('metric_name')!r}, expected {known_name!r}")]
    old_name = obs.before.get("metric_name")
    cleared = obs.before.get("metric") is not None and metric is None
    if cleared and old_name not in (None, "") and after.get("metric_name") == old_name:
        return [("metric_name_cleared", f"metric is null but metric_name still names the old metric {old_name!r}")]
    return []


def _derived(obs: Observation, after: Mapping[str, JSON], prop: str) -> JSON:
    if prop == "metric_name":
        metric = after.get("metric")
        return obs.metric_names.get(metric) if isinstance(metric, int) else None
    dashboard = after.get("dashboard")
    filters = obs.dashboard_filters.get(dashboard) if _known(dashboard) else None
    return expected_effective(filters, after.get("filters"))


def _known(pk: JSON) -> bool:
    """Whether a value the target answered can name a dashboard at all (a list or an object cannot)."""
    return pk is None or (isinstance(pk, int) and not isinstance(pk, bool))
