"""POST widget, and the dashboard operations (create, retrieve, partial update, cascading delete)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_create_widget_defaults(client: httpx.AsyncClient, conforms: Callable[..., bool]) -> None:
    response = await client.post("/dashboards/widgets/", json={"chart_type": "line"})
    assert response.status_code == 201
    body = response.json()
    assert conforms("Widget", body)
    assert body["field"] == ""
    assert body["dashboard"] is None and body["name"] is None and body["metric"] is None
    assert body["effective_filters"] == {}
    assert (await client.get(f"/dashboards/widgets/{body['id']}/")).json() == body


async def test_create_widget_full(client: httpx.AsyncClient, conforms: Callable[..., bool]) -> None:
    sent = {
        "dashboard": 1,
        "name": "  Calls  ",
        "chart_type": "pie",
        "field": "metric_evaluations.value",
        "metric": "1",
        "data_type": "",
        "time_period": None,
        "aggregation_function": "count",
        "filters": {"field": "success", "op": "eq", "value": False},
        "metadata": {"w": 4},
        "id": 12345,
        "metric_name": "ignored",
    }
    body = (await client.post("/dashboards/widgets/", json=sent)).json()
    assert conforms("Widget", body)
    assert body["id"] != 12345
    assert (body["name"], body["metric"], body["metric_name"]) == ("Calls", 1, "Accuracy")
    assert body["effective_filters"] == {
        "operator": "and",
        "conditions": [{"field": "timestamp", "op": "gte", "value": "now-30d"}, sent["filters"]],
    }
    assert len((await client.get("/dashboards/dashboards/1/")).json()["widgets"]) == 2


@pytest.mark.parametrize(
    "body, errors",
    [
        ({}, {"chart_type": ["This field is required."]}),
        ({"name": "x"}, {"chart_type": ["This field is required."]}),
        ({"chart_type": None}, {"chart_type": ["This field may not be null."]}),
        ({"chart_type": "line", "field": None}, {"field": ["This field may not be null."]}),
    ],
)
async def test_create_widget_rejects(client: httpx.AsyncClient, body: dict[str, object], errors: object) -> None:
    response = await client.post("/dashboards/widgets/", json=body)
    assert response.status_code == 400
    assert response.json() == errors


async def test_create_widget_with_empty_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/dashboards/widgets/")
    assert response.status_code == 400
    assert response.json() == {"chart_type": ["This field is required."]}


async def test_dashboard_lifecycle(client: httpx.AsyncClient, conforms: Callable[..., bool]) -> None:
    empty = await client.post("/dashboards/dashboards/")
    assert empty.status_code == 201
    assert conforms("Dashboard", empty.json())
    assert (empty.json()["name"], empty.json()["project"], empty.json()["filters"]) == (None, None, None)

    created = (await client.post("/dashboards/dashboards/", json={"name": "New", "project": "3"})).json()
    path = f"/dashboards/dashboards/{created['id']}/"
    assert (created["name"], created["project"], created["widgets"], created["widget_count"]) == ("New", 3, [], 0)
    widget = (await client.post("/dashboards/widgets/", json={"chart_type": "bar", "dashboard": created["id"]})).json()

    patched = (await client.patch(path, json={"name": None, "filters": {"field": "x", "op": "eq", "value": 1}})).json()
    assert conforms("Dashboard", patched)
    assert patched["name"] is None and patched["project"] == 3
    assert patched["widget_count"] == 1 and patched["widgets"][0]["id"] == widget["id"]
    assert (await client.get(path)).json() == patched

    assert (await client.delete(path)).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert (await client.get(f"/dashboards/widgets/{widget['id']}/")).status_code == 404  # cascade
    assert (await client.get("/dashboards/widgets/1/")).status_code == 200


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"name": "d" * 256}, {"name": ["Ensure this field has no more than 255 characters."]}),
        ({"project": "x"}, {"project": ["A valid integer is required."]}),
        ({"filters": [1]}, None),
    ],
)
async def test_dashboard_validation(client: httpx.AsyncClient, body: dict[str, object], errors: object) -> None:
    before = (await client.get("/dashboards/dashboards/1/")).json()
    for response in (
        await client.post("/dashboards/dashboards/", json=body),
        await client.patch("/dashboards/dashboards/1/", json=body),
    ):
        assert response.status_code == 400
        assert errors is None or response.json() == errors
        assert list(response.json()) == list(body)
    assert (await client.get("/dashboards/dashboards/1/")).json() == before


async def test_delete_widget(client: httpx.AsyncClient) -> None:
    response = await client.delete("/dashboards/widgets/1/")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get("/dashboards/widgets/1/")).status_code == 404
    assert (await client.delete("/dashboards/widgets/1/")).status_code == 404
    assert (await client.get("/dashboards/dashboards/1/")).json()["widget_count"] == 0


async def test_ids_are_never_reused(client: httpx.AsyncClient) -> None:
    first = (await client.post("/dashboards/widgets/", json={"chart_type": "line"})).json()["id"]
    await client.delete(f"/dashboards/widgets/{first}/")
    second = (await client.post("/dashboards/widgets/", json={"chart_type": "line"})).json()["id"]
    assert second > first
