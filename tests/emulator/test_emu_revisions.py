"""The emulator serves either revision of the contract: the seed era refuses what the live API added, live takes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from conformance import contract
from conformance.emulator import DEFAULT_KEYS, create_app

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
HEADERS = {"X-CEKURA-API-KEY": DEFAULT_KEYS["tenant-a"]}
BUCKET = {"type": "bucket", "interval": 3600000}
BY_AGENT = {"type": "field", "field": "agent.id"}


@pytest.fixture
async def seed() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(revision="seed")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=HEADERS) as c:
        yield c


@pytest.fixture
async def live() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(revision="live")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=HEADERS) as c:
        yield c


@pytest.mark.parametrize(
    ("prop", "value"), [("chart_type", "stat"), *(("aggregation_function", p) for p in ("p50", "p95", "p99"))]
)
async def test_the_later_members_are_refused_by_the_seed_revision_and_taken_by_the_live_one(
    seed: httpx.AsyncClient, live: httpx.AsyncClient, prop: str, value: str
) -> None:
    refused = await seed.patch(W1, json={prop: value})
    assert refused.status_code == 400 and refused.json() == {prop: [f'"{value}" is not a valid choice.']}
    taken = await live.patch(W1, json={prop: value})
    assert taken.status_code == 200 and taken.json()[prop] == value
    assert (await live.get(W1)).json()[prop] == value


async def test_group_by_is_an_unknown_key_to_the_seed_revision(seed: httpx.AsyncClient) -> None:
    answer = await seed.patch(W1, json={"group_by": BUCKET, "name": "kept"})
    assert answer.status_code == 200 and answer.json()["name"] == "kept"
    assert "group_by" not in answer.json() and "group_by" not in (await seed.get(W1)).json()


async def test_group_by_in_the_live_revision(live: httpx.AsyncClient) -> None:
    assert (await live.get(W1)).json()["group_by"] is None  # in every answer, null until set
    for value in (BY_AGENT, BUCKET, None, BY_AGENT):
        answer = await live.patch(W1, json={"group_by": value})
        assert answer.status_code == 200 and answer.json()["group_by"] == value
    kept = await live.patch(W1, json={"name": "renamed", "chart_type": "bar"})
    assert kept.json()["group_by"] == BY_AGENT
    listed = (await live.get("/dashboards/widgets/", params={"dashboard_id": 1})).json()["results"]
    nested = (await live.get("/dashboards/dashboards/1/")).json()["widgets"]
    assert [w["group_by"] for w in listed] == [w["group_by"] for w in nested] == [BY_AGENT]
    created = await live.post("/dashboards/widgets/", json={"chart_type": "line", "field": "duration"})
    assert created.status_code == 201 and created.json()["group_by"] is None
    for body in (kept.json(), created.json(), *listed, *nested):
        assert not contract.get("live").errors({"$ref": "#/components/schemas/Widget"}, body)


async def test_a_stat_widget_created_without_field_gets_the_documented_default(live: httpx.AsyncClient) -> None:
    created = await live.post("/dashboards/widgets/", json={"chart_type": "stat"})
    assert created.status_code == 201 and (created.json()["chart_type"], created.json()["field"]) == ("stat", "")


async def test_options_describe_group_by_only_in_the_live_revision(
    seed: httpx.AsyncClient, live: httpx.AsyncClient
) -> None:
    seed_fields = (await seed.options(W1)).json()["actions"]["PUT"]
    live_fields = (await live.options(W1)).json()["actions"]["PUT"]
    assert "group_by" not in seed_fields and live_fields["group_by"]["required"] is False
    assert [c["value"] for c in live_fields["chart_type"]["choices"]] == ["line", "bar", "pie", "stat"]
    assert {c["value"]: c["display_name"] for c in live_fields["aggregation_function"]["choices"]}["p50"] == (
        "50th Percentile (Median)"
    )


def test_create_app_follows_the_contract_or_the_revision_given() -> None:
    assert create_app().state.contract is contract.get("seed")
    assert create_app(revision="live").state.contract is contract.get("live")
    assert create_app(contract=contract.get("live")).state.behaviour.serves_group_by
    with pytest.raises(ValueError, match="revision"):
        create_app(contract=contract.get("live"), revision="seed")
    with pytest.raises(contract.UnknownRevision):
        create_app(revision="staging")


def test_a_db_file_from_before_group_by_gets_the_column(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite3"
    create_app(db=db).state.store.close()
    with sqlite3.connect(db) as conn:  # as a file written before the live revision was served
        conn.execute("ALTER TABLE widgets DROP COLUMN group_by")
    app = create_app(db=db, revision="live")
    assert app.state.store.widget(1).group_by is None
