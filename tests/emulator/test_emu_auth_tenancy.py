"""Authentication comes first; another tenant's objects are invisible (404) and untouched."""

from __future__ import annotations

import httpx
import pytest

from conformance import contract

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
MISSING = {"detail": "Authentication credentials were not provided."}
INVALID = {"detail": "Invalid API key."}


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", W1),
        ("PATCH", W1),
        ("DELETE", W1),
        ("POST", "/dashboards/widgets/"),
        ("POST", "/dashboards/dashboards/"),
        ("GET", "/dashboards/dashboards/1/"),
        ("PATCH", "/dashboards/dashboards/1/"),
        ("DELETE", "/dashboards/dashboards/1/"),
        ("GET", "/test_framework/v1/metrics/"),
        ("PUT", W1),  # auth before the method check
        ("GET", "/dashboards/widgets/999/"),  # before the lookup
        ("GET", "/dashboards/widgets/abc/"),
    ],
)
async def test_missing_and_invalid_key(
    anon: httpx.AsyncClient, client: httpx.AsyncClient, method: str, path: str
) -> None:
    before = (await client.get(W1)).json()
    for headers, expected in [
        ({}, MISSING),
        ({"X-CEKURA-API-KEY": ""}, MISSING),
        ({"X-CEKURA-API-KEY": "nope"}, INVALID),
    ]:
        response = await anon.request(method, path, headers=headers, content=b"{not json")
        assert response.status_code == 401
        assert response.json() == expected
        assert response.headers["www-authenticate"]
        assert response.headers["content-type"] == "application/json"
    assert (await client.get(W1)).json() == before
    assert (await client.get("/dashboards/dashboards/1/")).status_code == 200


async def test_other_tenant_widget_is_404_and_untouched(client: httpx.AsyncClient, client_b: httpx.AsyncClient) -> None:
    before = (await client_b.get("/dashboards/widgets/2/")).json()
    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"name": "stolen"}}), ("DELETE", {})]:
        response = await client.request(method, "/dashboards/widgets/2/", **kwargs)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert (await client_b.get("/dashboards/widgets/2/")).json() == before


async def test_other_tenant_dashboard_is_404_and_untouched(
    client: httpx.AsyncClient, client_b: httpx.AsyncClient
) -> None:
    before = (await client_b.get("/dashboards/dashboards/2/")).json()
    for method, kwargs in [("GET", {}), ("PATCH", {"json": {"filters": {}}}), ("DELETE", {})]:
        response = await client.request(method, "/dashboards/dashboards/2/", **kwargs)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert (await client_b.get("/dashboards/dashboards/2/")).json() == before
    assert (await client_b.get("/dashboards/widgets/2/")).status_code == 200


async def test_metrics_are_per_tenant(client: httpx.AsyncClient, client_b: httpx.AsyncClient) -> None:
    mine = (await client.get("/test_framework/v1/metrics/")).json()
    theirs = (await client_b.get("/test_framework/v1/metrics/")).json()
    assert [(m["id"], m["name"]) for m in mine] == [(1, "Accuracy"), (2, "Latency")]
    assert [(m["id"], m["name"]) for m in theirs] == [(3, "Accuracy"), (4, "Latency")]


async def test_metrics_list_conforms(client: httpx.AsyncClient) -> None:
    response = await client.get("/test_framework/v1/metrics/")
    schema = contract.default().operation("metrics-v1-list").spec["responses"]["200"]["content"]["application/json"]
    assert response.status_code == 200
    assert not contract.default().errors(schema["schema"], response.json())
