"""Lookups (404), undeclared methods (405 with Allow) and OPTIONS."""

from __future__ import annotations

import httpx
import pytest

from conformance import contract

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("raw", ["999", "abc", "-1", "0", "1.5", "99999999999999999999999999", "1e3", "%20"])
@pytest.mark.parametrize("kind", ["widgets", "dashboards"])
async def test_unknown_ids_are_404(client: httpx.AsyncClient, raw: str, kind: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(method, f"/dashboards/{kind}/{raw}/", json={"name": "x"})
        assert response.status_code == 404, (method, raw)
        assert response.json() == {"detail": "Not found."}


async def test_lookup_comes_before_body_parsing(client: httpx.AsyncClient) -> None:
    response = await client.patch("/dashboards/widgets/999/", content=b"{bad", headers={"content-type": "text/plain"})
    assert response.status_code == 404


async def test_unknown_path_is_404(client: httpx.AsyncClient) -> None:
    for path in ("/nope/", "/dashboards/widgets/1", "/dashboards/widgets/1/data/"):
        response = await client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    "path, concrete, method",
    [
        ("/dashboards/widgets/{id}/", "/dashboards/widgets/1/", "PUT"),
        ("/dashboards/widgets/{id}/", "/dashboards/widgets/1/", "POST"),
        ("/dashboards/widgets/{id}/", "/dashboards/widgets/1/", "TRACE"),
        ("/dashboards/widgets/", "/dashboards/widgets/", "GET"),
        ("/dashboards/widgets/", "/dashboards/widgets/", "DELETE"),
        ("/dashboards/dashboards/", "/dashboards/dashboards/", "PATCH"),
        ("/dashboards/dashboards/{id}/", "/dashboards/dashboards/1/", "POST"),
        ("/test_framework/v1/metrics/", "/test_framework/v1/metrics/", "POST"),
        ("/dashboards/widgets/{id}/", "/dashboards/widgets/999/", "PUT"),  # method check before lookup
    ],
)
async def test_undeclared_method_is_405_with_allow(
    client: httpx.AsyncClient, path: str, concrete: str, method: str
) -> None:
    before = (await client.get("/dashboards/widgets/1/")).json()
    response = await client.request(method, concrete, json={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    allowed = [m.strip() for m in response.headers["allow"].split(",")]
    assert allowed == [*contract.default().allowed_methods(path), "OPTIONS"]
    assert (await client.get("/dashboards/widgets/1/")).json() == before


async def test_options_answers_allow(client: httpx.AsyncClient) -> None:
    response = await client.options("/dashboards/widgets/1/")
    assert response.status_code == 200
    assert response.headers["allow"] == "PATCH, GET, DELETE, OPTIONS"
    assert response.json()["parses"] == ["application/json"]
    assert (await client.options("/test_framework/v1/metrics/")).headers["allow"] == "GET, OPTIONS"
