"""PUT on a widget and a dashboard: DRF's update (partial=False)."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
D1 = "/dashboards/dashboards/1/"


async def test_put_needs_the_required_fields(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    response = await client.put(W1, json={"name": "no chart type"})
    assert response.status_code == 400
    assert response.json() == {"chart_type": ["This field is required."]}
    assert (await client.get(W1)).json() == before


async def test_put_writes_what_it_sends_and_keeps_the_rest(client: httpx.AsyncClient) -> None:
    # DRF's update() sets the validated fields only: an optional field PUT leaves out keeps its value.
    before = (await client.get(W1)).json()
    response = await client.put(W1, json={"chart_type": "pie", "name": "Put", "id": 99, "unknown": 1})
    assert response.status_code == 200
    after = response.json()
    assert (after["id"], after["chart_type"], after["name"]) == (1, "pie", "Put")
    for key in ("filters", "field", "time_period", "aggregation_function", "metadata", "dashboard", "created_at"):
        assert after[key] == before[key], key
    assert after["updated_at"] > before["updated_at"]
    assert (await client.get(W1)).json() == after


async def test_put_validates_like_patch(client: httpx.AsyncClient) -> None:
    response = await client.put(W1, json={"chart_type": "donut", "dashboard": 2, "name": "x" * 256})
    assert response.status_code == 400
    assert set(response.json()) == {"chart_type", "dashboard", "name"}


async def test_put_of_another_tenants_widget_is_404(client: httpx.AsyncClient) -> None:
    response = await client.put("/dashboards/widgets/2/", json={"chart_type": "line"})
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


async def test_put_a_dashboard(client: httpx.AsyncClient) -> None:
    before = (await client.get(D1)).json()
    response = await client.put(D1, json={"name": "Renamed"})  # the Dashboard schema requires nothing
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["filters"] == before["filters"]
    assert (await client.put("/dashboards/dashboards/2/", json={})).status_code == 404


async def test_put_with_an_empty_body(client: httpx.AsyncClient) -> None:
    assert (await client.put(W1, content=b"")).json() == {"chart_type": ["This field is required."]}
    assert (await client.put(D1, content=b"")).status_code == 200
