"""A ``db`` file survives a restart and is not reseeded; a seed file replaces the default seed."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from conformance import contract
from conformance.emulator import create_app, default_seed, load_seed, seed_from_mapping

pytestmark = pytest.mark.anyio
KEY = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}

SEED_YAML = """
tenants:
  - key: seeded-key
    name: only-tenant
    metrics:
      - {id: 40, name: Sentiment, type: llm_judge, eval_type: enum, enum_values: [positive, negative]}
    dashboards:
      - id: 30
        name: Seeded
        filters: {field: duration, op: gt, value: 10}
        widgets:
          - {id: 20, chart_type: pie, field: call_ended_reason, metric: 40}
    widgets:
      - {id: 21, chart_type: line}
"""


def client(app: Starlette, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers)


async def test_db_file_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    async with client(create_app(db=db), KEY) as first:
        patched = (await first.patch("/dashboards/widgets/1/", json={"name": "kept", "metric": 2})).json()
        created = (await first.post("/dashboards/widgets/", json={"chart_type": "pie", "dashboard": 1})).json()
        assert (await first.delete("/dashboards/dashboards/2/", headers={"X-CEKURA-API-KEY": "x"})).status_code == 401
    async with client(create_app(db=db), KEY) as second:
        assert (await second.get("/dashboards/widgets/1/")).json() == patched
        assert (await second.get(f"/dashboards/widgets/{created['id']}/")).json() == created
        again = (await second.post("/dashboards/widgets/", json={"chart_type": "pie"})).json()
        assert again["id"] > created["id"]


async def test_db_file_is_not_reseeded(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    async with client(create_app(db=db), KEY) as first:
        assert (await first.delete("/dashboards/widgets/1/")).status_code == 204
    other_seed = seed_from_mapping({"tenants": [{"key": "k2"}]}, contract.default())
    async with client(create_app(db=db, seed=other_seed), KEY) as second:
        assert (await second.get("/dashboards/widgets/1/")).status_code == 404
        assert (await second.get("/dashboards/dashboards/1/")).status_code == 200
    async with client(create_app(db=db), {"X-CEKURA-API-KEY": "k2"}) as third:
        assert (await third.get("/test_framework/v1/metrics/")).status_code == 401


async def test_in_memory_apps_are_independent() -> None:
    async with client(create_app(), KEY) as one, client(create_app(), KEY) as two:
        await one.delete("/dashboards/widgets/1/")
        assert (await two.get("/dashboards/widgets/1/")).status_code == 200


@pytest.mark.parametrize("suffix", ["yaml", "json"])
async def test_seed_file_replaces_the_default(tmp_path: Path, suffix: str) -> None:
    import yaml

    data = yaml.safe_load(SEED_YAML)
    path = tmp_path / f"seed.{suffix}"
    path.write_text(SEED_YAML if suffix == "yaml" else json.dumps(data), encoding="utf-8")
    app = create_app(seed=load_seed(path, contract.default()))
    async with client(app, KEY) as old:
        assert (await old.get("/dashboards/widgets/1/")).status_code == 401  # default keys are gone
    async with client(app, {"X-CEKURA-API-KEY": "seeded-key"}) as new:
        widget = (await new.get("/dashboards/widgets/20/")).json()
        assert (widget["dashboard"], widget["metric"], widget["metric_name"]) == (30, 40, "Sentiment")
        assert widget["effective_filters"] == {"field": "duration", "op": "gt", "value": 10}
        assert (await new.get("/dashboards/widgets/21/")).json()["dashboard"] is None
        assert (await new.get("/dashboards/widgets/1/")).status_code == 404
        metrics = (await new.get("/test_framework/v1/metrics/")).json()
        assert metrics == [
            {
                "id": 40,
                "name": "Sentiment",
                "description": "",
                "type": "llm_judge",
                "eval_type": "enum",
                "enum_values": ["positive", "negative"],
            }
        ]


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"tenants": "x"},
        {"tenants": [{"name": "no key"}]},
        {"tenants": [{"key": "k", "dashboards": [{"name": "n" * 256}]}]},
        {"tenants": [{"key": "k", "widgets": [{"chart_type": "donut"}]}]},
        {"tenants": [{"key": "k", "widgets": [{"field": "no chart type"}]}]},
        {"tenants": [{"key": "k", "metrics": [{"id": 1}]}]},
        {"tenants": [], "guesses": {"auth_failure_status": 418}},
        {"tenants": [], "guesses": {"no_such_guess": 1}},
        {"tenants": [], "unknown": 1},
    ],
)
def test_invalid_seed_is_refused(data: object) -> None:
    with pytest.raises(ValueError):
        seed_from_mapping(data, contract.default())


def test_default_seed_ids() -> None:
    seed = default_seed()
    assert [t.key for t in seed.tenants] == ["cekura-dev-key-tenant-a", "cekura-dev-key-tenant-b"]
    assert [[d["id"] for d in t.dashboards] for t in seed.tenants] == [[1], [2]]
    assert [[m["id"] for m in t.metrics] for t in seed.tenants] == [[1, 2], [3, 4]]


async def test_seed_file_guesses_apply_even_to_an_existing_db(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    async with client(create_app(db=db), {}) as first:
        assert (await first.get("/dashboards/widgets/1/")).status_code == 401
    seed = seed_from_mapping({"tenants": [], "guesses": {"auth_failure_status": 403}}, contract.default())
    async with client(create_app(db=db, seed=seed), {}) as second:
        response = await second.get("/dashboards/widgets/1/")
        assert response.status_code == 403
        assert "www-authenticate" not in response.headers


def test_a_db_from_before_the_metric_columns_is_migrated(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant INTEGER NOT NULL, name TEXT NOT NULL,"
            " type TEXT NOT NULL, eval_type TEXT NOT NULL)"
        )
        conn.execute("INSERT INTO metrics VALUES (9, 1, 'Old', 'basic', 'numeric')")
    app = create_app(db=db)
    row = app.state.store.metric(9)
    assert (row.name, row.description, row.enum_values) == ("Old", "", None)


async def test_store_query_shows_the_state() -> None:
    app = create_app()
    async with client(app, KEY) as c:
        await c.patch("/dashboards/widgets/1/", json={"name": "seen"})
    assert app.state.store.query("SELECT id, name FROM widgets ORDER BY id") == [
        (1, "seen"),
        (2, "Successful calls per day"),
    ]
