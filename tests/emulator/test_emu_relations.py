"""Foreign keys: the caller's own dashboards and metrics only; metric_name follows metric."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"


async def test_metric_name_follows_metric(client: httpx.AsyncClient) -> None:
    body = (await client.patch(W1, json={"metric": 1})).json()
    assert (body["metric"], body["metric_name"]) == (1, "Accuracy")
    body = (await client.patch(W1, json={"metric": 2})).json()
    assert (body["metric"], body["metric_name"]) == (2, "Latency")
    assert (await client.get(W1)).json()["metric_name"] == "Latency"
    body = (await client.patch(W1, json={"metric": None})).json()
    assert (body["metric"], body["metric_name"]) == (None, None)
    assert (await client.get(W1)).json()["metric_name"] is None


@pytest.mark.parametrize("metric", [999, 3])  # 3 is tenant B's
async def test_unknown_or_foreign_metric_rejected(client: httpx.AsyncClient, metric: int) -> None:
    await client.patch(W1, json={"metric": 1})
    response = await client.patch(W1, json={"metric": metric})
    assert response.status_code == 400
    assert response.json() == {"metric": [f'Invalid pk "{metric}" - object does not exist.']}
    assert (await client.get(W1)).json()["metric"] == 1


@pytest.mark.parametrize("dashboard", [999, 2])  # 2 is tenant B's
async def test_unknown_or_foreign_dashboard_rejected(client: httpx.AsyncClient, dashboard: int) -> None:
    response = await client.patch(W1, json={"dashboard": dashboard})
    assert response.status_code == 400
    assert response.json() == {"dashboard": [f'Invalid pk "{dashboard}" - object does not exist.']}
    assert (await client.get(W1)).json()["dashboard"] == 1


async def test_foreign_ids_rejected_on_create(client: httpx.AsyncClient) -> None:
    response = await client.post("/dashboards/widgets/", json={"chart_type": "pie", "dashboard": 2, "metric": 4})
    assert response.status_code == 400
    assert response.json() == {
        "dashboard": ['Invalid pk "2" - object does not exist.'],
        "metric": ['Invalid pk "4" - object does not exist.'],
    }


async def test_moving_to_another_own_dashboard(client: httpx.AsyncClient) -> None:
    new = (await client.post("/dashboards/dashboards/", json={"name": "Second"})).json()
    body = (await client.patch(W1, json={"dashboard": new["id"]})).json()
    assert body["dashboard"] == new["id"]
    assert [w["id"] for w in (await client.get(f"/dashboards/dashboards/{new['id']}/")).json()["widgets"]] == [1]
    assert (await client.get("/dashboards/dashboards/1/")).json()["widgets"] == []
