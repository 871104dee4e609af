"""PATCH is DRF's partial update: absent fields kept, unknown and read-only keys ignored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"


async def test_absent_fields_keep_their_values(client: httpx.AsyncClient, conforms: Callable[..., bool]) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"name": "Renamed"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert conforms("Widget", body)
    assert body["name"] == "Renamed"
    unchanged = {k: v for k, v in before.items() if k not in {"name", "updated_at"}}
    assert {k: body[k] for k in unchanged} == unchanged
    assert (await client.get(W1)).json() == body


async def test_every_writable_field_at_once(client: httpx.AsyncClient, conforms: Callable[..., bool]) -> None:
    patch = {
        "name": "All",
        "chart_type": "line",
        "data_type": "datetime",
        "field": "timestamp",
        "metric": 2,
        "time_period": "week",
        "aggregation_function": "max",
        "filters": {"field": "duration", "op": "gt", "value": 5},
        "metadata": {"x": 1, "nested": [1, {"a": None}]},
        "dashboard": None,
    }
    body = (await client.patch(W1, json=patch)).json()
    assert conforms("Widget", body)
    assert {k: body[k] for k in patch} == patch
    assert (await client.get(W1)).json() == body


async def test_unknown_keys_are_ignored(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"colour": "red", "group_by": {"type": "field"}, "name": "N"})
    assert response.status_code == 200
    body = response.json()
    assert "colour" not in body and "group_by" not in body
    assert body["name"] == "N"
    assert body["chart_type"] == before["chart_type"]


@pytest.mark.parametrize(
    "key, value",
    [
        ("id", 999),
        ("effective_filters", {"field": "x", "op": "eq", "value": 1}),
        ("metric_name", "Hacked"),
        ("created_at", "2000-01-01T00:00:00Z"),
        ("updated_at", "2000-01-01T00:00:00Z"),
    ],
)
async def test_read_only_keys_are_ignored(client: httpx.AsyncClient, key: str, value: Any) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={key: value})
    assert response.status_code == 200
    after = (await client.get(W1)).json()
    assert after["id"] == 1
    assert after == response.json()
    if key != "updated_at":
        assert after[key] == before[key]
    assert after["updated_at"] != value


async def test_empty_body_without_content_type_is_an_empty_patch(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, content=b"")
    assert response.status_code == 200
    after = response.json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


async def test_empty_json_object_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    after = (await client.patch(W1, json={})).json()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


async def test_a_rejected_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"name": "Fine", "chart_type": "donut"})
    assert response.status_code == 400
    assert response.json() == {"chart_type": ['"donut" is not a valid choice.']}
    assert (await client.get(W1)).json() == before


async def test_all_field_errors_come_at_once(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, json={"chart_type": "", "field": None, "metric": "abc", "name": "x" * 256})
    assert response.status_code == 400
    assert response.json() == {
        "chart_type": ['"" is not a valid choice.'],
        "field": ["This field may not be null."],
        "metric": ["Incorrect type. Expected pk value, received str."],
        "name": ["Ensure this field has no more than 255 characters."],
    }
