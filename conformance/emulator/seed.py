"""The initial state: a default two-tenant seed and a YAML/JSON seed-file loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from conformance._types import JSON
from conformance.contract import Contract
from conformance.devkeys import DEV_KEYS
from conformance.emulator.guesses import Guesses, guesses_from_mapping
from conformance.emulator.store import Store

#: Development API keys of the default seed, by tenant name.
DEFAULT_KEYS: Mapping[str, str] = DEV_KEYS


@dataclass(frozen=True)
class TenantSeed:
    """One tenant: its key, its metrics, its dashboards (each with widgets) and widgets on no dashboard."""

    key: str
    name: str
    metrics: list[dict[str, JSON]] = field(default_factory=list)
    dashboards: list[dict[str, JSON]] = field(default_factory=list)
    widgets: list[dict[str, JSON]] = field(default_factory=list)


@dataclass(frozen=True)
class Seed:
    tenants: list[TenantSeed]
    #: Answers to what the docs leave open (``guesses:`` in a seed file); they apply even when a ``--db`` file
    #: already holds data and the tenants are not planted.
    guesses: Guesses = field(default_factory=Guesses)


def _tenant(name: str, key: str, ids: Mapping[str, int]) -> TenantSeed:
    return TenantSeed(
        key=key,
        name=name,
        metrics=[
            {
                "id": ids["accuracy"],
                "name": "Accuracy",
                "type": "llm_judge",
                "eval_type": "binary",
                "description": "Whether the agent answered the caller's question correctly.",
            },
            {
                "id": ids["latency"],
                "name": "Latency",
                "type": "basic",
                "eval_type": "numeric",
                "description": "Seconds between the caller's turn and the agent's reply.",
            },
        ],
        dashboards=[
            {
                "id": ids["dashboard"],
                "name": "Support calls",
                "project": ids["project"],
                "filters": {"field": "timestamp", "op": "gte", "value": "now-30d"},
                "widgets": [
                    {
                        "id": ids["widget"],
                        "name": "Successful calls per day",
                        "filters": {"field": "success", "op": "eq", "value": True},
                        "chart_type": "bar",
                        "data_type": "numeric",
                        "field": "duration",
                        "metric": None,
                        "time_period": "day",
                        "aggregation_function": "count",
                        "metadata": {"x": 0, "y": 0, "w": 6, "h": 4},
                    }
                ],
            }
        ],
    )


def default_seed() -> Seed:
    """Tenant A: dashboard 1, widget 1, metrics 1-2; tenant B: dashboard 2, widget 2, metrics 3-4."""
    return Seed(
        tenants=[
            _tenant(
                "tenant-a",
                DEFAULT_KEYS["tenant-a"],
                {"dashboard": 1, "widget": 1, "accuracy": 1, "latency": 2, "project": 1},
            ),
            _tenant(
                "tenant-b",
                DEFAULT_KEYS["tenant-b"],
                {"dashboard": 2, "widget": 2, "accuracy": 3, "latency": 4, "project": 2},
            ),
        ]
    )


def seed_from_mapping(data: JSON, contract: Contract) -> Seed:
    """Build a seed from parsed YAML/JSON, refusing objects the fragment's schemas refuse."""
    if not isinstance(data, Mapping) or not isinstance(data.get("tenants"), list):
        raise ValueError("a seed is a mapping with a 'tenants' list")
    unknown = sorted(set(data) - {"tenants", "guesses"})
    if unknown:
        raise ValueError(f"unknown seed key {', '.join(map(str, unknown))}; a seed has 'tenants' and 'guesses'")
    tenants = []
    for number, raw in enumerate(data["tenants"], start=1):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("key"), str) or not raw["key"]:
            raise ValueError(f"tenant #{number} needs a non-empty string 'key'")
        tenant = TenantSeed(
            key=raw["key"],
            name=str(raw.get("name", f"tenant-{number}")),
            metrics=[dict(m) for m in raw.get("metrics", [])],
            dashboards=[dict(d) for d in raw.get("dashboards", [])],
            widgets=[dict(w) for w in raw.get("widgets", [])],
        )
        # Ids are optional in a seed; the stand-in 1 only lets schemas that require an id validate.
        _check(contract, "Metric", [{"id": 1, **m} for m in tenant.metrics], tenant.key)
        _check(contract, "Dashboard", [_without(d, "widgets") for d in tenant.dashboards], tenant.key)
        nested = [w for d in tenant.dashboards for w in d.get("widgets", [])]
        _check(contract, "WidgetCreate", nested + tenant.widgets, tenant.key)
        tenants.append(tenant)
    return Seed(tenants=tenants, guesses=guesses_from_mapping(data.get("guesses")))


def _without(obj: Mapping[str, JSON], key: str) -> dict[str, JSON]:
    return {k: v for k, v in obj.items() if k != key}


def _check(contract: Contract, schema: str, objects: list[dict[str, JSON]], key: str) -> None:
    for obj in objects:
        errors = contract.errors({"$ref": f"#/components/schemas/{schema}"}, obj)
        if errors:
            raise ValueError(f"seed {schema} of tenant {key!r} is invalid: {errors[0].message}")


def load_seed(path: Path, contract: Contract) -> Seed:
    """Read a YAML or JSON seed file (JSON is YAML, so one parser reads both)."""
    return seed_from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")), contract)


def plant(store: Store, seed: Seed, now: int) -> None:
    """Write ``seed`` into an empty store (ids as given, else assigned; absent filters as a create leaves them)."""
    empty = {"filters": seed.guesses.default_filters}
    for tenant_seed in seed.tenants:
        tenant = store.add_tenant(tenant_seed.key, tenant_seed.name)
        for metric in tenant_seed.metrics:
            store.add_metric(tenant.id, metric, metric.get("id"))
        for dashboard in tenant_seed.dashboards:
            dashboard_id = store.insert_dashboard(tenant.id, {**empty, **dashboard}, now, dashboard.get("id"))
            for widget in dashboard.get("widgets", []):
                values = {**empty, **widget, "dashboard": dashboard_id}
                store.insert_widget(tenant.id, values, now, widget.get("id"))
        for widget in tenant_seed.widgets:
            store.insert_widget(tenant.id, {**empty, **widget}, now, widget.get("id"))
