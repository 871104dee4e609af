"""effective_filters: the documented AND merge, computed on read, so it is always current."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
D1 = "/dashboards/dashboards/1/"
DASH = {"field": "timestamp", "op": "gte", "value": "now-30d"}
WIDGET = {"field": "success", "op": "eq", "value": True}
OTHER = {"operator": "or", "conditions": [{"field": "duration", "op": "gt", "value": 60}]}


async def effective(client: httpx.AsyncClient) -> Any:
    return (await client.get(W1)).json()["effective_filters"]


@pytest.mark.parametrize("dash_empty", [None, {}])
@pytest.mark.parametrize("widget_empty", [None, {}])
async def test_both_empty_gives_empty_object(client: httpx.AsyncClient, dash_empty: Any, widget_empty: Any) -> None:
    await client.patch(D1, json={"filters": dash_empty})
    body = (await client.patch(W1, json={"filters": widget_empty})).json()
    assert body["filters"] == widget_empty
    assert body["effective_filters"] == {}
    assert await effective(client) == {}


@pytest.mark.parametrize("dash_empty", [None, {}])
async def test_dashboard_empty_gives_widget(client: httpx.AsyncClient, dash_empty: Any) -> None:
    await client.patch(D1, json={"filters": dash_empty})
    assert (await client.patch(W1, json={"filters": OTHER})).json()["effective_filters"] == OTHER
    assert await effective(client) == OTHER


@pytest.mark.parametrize("widget_empty", [None, {}])
async def test_widget_empty_gives_dashboard(client: httpx.AsyncClient, widget_empty: Any) -> None:
    assert (await client.patch(W1, json={"filters": widget_empty})).json()["effective_filters"] == DASH
    assert await effective(client) == DASH


async def test_both_set_gives_and_dashboard_first(client: httpx.AsyncClient) -> None:
    assert await effective(client) == {"operator": "and", "conditions": [DASH, WIDGET]}
    body = (await client.patch(W1, json={"filters": OTHER})).json()
    assert body["effective_filters"] == {"operator": "and", "conditions": [DASH, OTHER]}
    assert await effective(client) == {"operator": "and", "conditions": [DASH, OTHER]}


async def test_follows_dashboard_filter_changes(client: httpx.AsyncClient) -> None:
    new_dash = {"field": "agent.id", "op": "eq", "value": 123}
    await client.patch(D1, json={"filters": new_dash})
    assert await effective(client) == {"operator": "and", "conditions": [new_dash, WIDGET]}
    dashboard = (await client.get(D1)).json()
    assert dashboard["widgets"][0]["effective_filters"] == {"operator": "and", "conditions": [new_dash, WIDGET]}


async def test_follows_a_move_to_another_dashboard(client: httpx.AsyncClient) -> None:
    other = {"field": "topic", "op": "in", "value": ["billing"]}
    created = (await client.post("/dashboards/dashboards/", json={"filters": other})).json()
    body = (await client.patch(W1, json={"dashboard": created["id"]})).json()
    assert body["effective_filters"] == {"operator": "and", "conditions": [other, WIDGET]}
    assert await effective(client) == {"operator": "and", "conditions": [other, WIDGET]}


async def test_follows_leaving_the_dashboard(client: httpx.AsyncClient) -> None:
    body = (await client.patch(W1, json={"dashboard": None})).json()
    assert body["dashboard"] is None
    assert body["effective_filters"] == WIDGET
    assert await effective(client) == WIDGET
    await client.patch(W1, json={"filters": None})
    assert await effective(client) == {}


async def test_widget_filters_and_dashboard_in_one_patch(client: httpx.AsyncClient) -> None:
    created = (await client.post("/dashboards/dashboards/", json={"filters": {}})).json()
    body = (await client.patch(W1, json={"dashboard": created["id"], "filters": OTHER})).json()
    assert body["effective_filters"] == OTHER
