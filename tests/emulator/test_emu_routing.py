"""URL resolution (Django's), lookups (404), methods (405 and DRF's Allow on every answer), HEAD and OPTIONS."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio
DJANGO_404 = (
    '\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n'
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n"
)
DETAIL_ALLOW = "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
LIST_ALLOW = "GET, POST, HEAD, OPTIONS"


@pytest.mark.parametrize("raw", ["999", "abc", "-1", "0", "99999999999999999999999999", "1e3", "%20"])
@pytest.mark.parametrize("kind", ["widgets", "dashboards"])
async def test_unknown_ids_are_404(client: httpx.AsyncClient, raw: str, kind: str) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = await client.request(method, f"/dashboards/{kind}/{raw}/", json={"name": "x"})
        assert response.status_code == 404, (method, raw)
        assert response.json() == {"detail": "Not found."}
        assert response.headers["allow"] == DETAIL_ALLOW


async def test_lookup_comes_before_body_parsing(client: httpx.AsyncClient) -> None:
    response = await client.patch("/dashboards/widgets/999/", content=b"{bad", headers={"content-type": "text/plain"})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/nope/",
        "/dashboards/widgets/1/data/",
        "/dashboards/widgets/1.5/",
        "/dashboards/widgets//",
        "/",
        "/dashboards/widgets/1/%0A",
    ],
)
async def test_a_path_no_route_matches_gets_djangos_404_page(anon: httpx.AsyncClient, path: str) -> None:
    # The router's lookup is [^/.]+ (an id with a dot reaches no view); Django answers before DRF: no key needed.
    response = await anon.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html"
    assert response.text == DJANGO_404
    assert "allow" not in response.headers


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@pytest.mark.parametrize(
    "path, target",
    [
        ("/dashboards/widgets/1", "/dashboards/widgets/1/"),
        ("/dashboards/widgets", "/dashboards/widgets/"),
        ("/dashboards/dashboards/abc", "/dashboards/dashboards/abc/"),
        ("/test_framework/v1/metrics?agent_id=5", "/test_framework/v1/metrics/?agent_id=5"),
        ("/dashboards/widgets/a%0Ab", "/dashboards/widgets/a%0Ab/"),
    ],
)
async def test_a_missing_slash_is_a_301_to_the_slash_path(
    anon: httpx.AsyncClient, method: str, path: str, target: str
) -> None:
    # CommonMiddleware with APPEND_SLASH and DEBUG off: every method, before authentication, query kept.
    response = await anon.request(method, path)
    assert response.status_code == 301
    assert response.headers["location"] == target
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == b""


async def test_no_redirect_when_the_slash_path_matches_nothing(anon: httpx.AsyncClient) -> None:
    for path in ("/dashboards/widgets/1.5", "/dashboards/widgets/1/data", "/nope"):
        response = await anon.get(path)
        assert response.status_code == 404 and response.headers["content-type"] == "text/html"


@pytest.mark.parametrize(
    "path, method, allow",
    [
        ("/dashboards/widgets/1/", "POST", DETAIL_ALLOW),
        ("/dashboards/widgets/1/", "TRACE", DETAIL_ALLOW),
        ("/dashboards/widgets/999/", "POST", DETAIL_ALLOW),  # method check before lookup
        ("/dashboards/widgets/", "DELETE", LIST_ALLOW),
        ("/dashboards/widgets/", "PATCH", LIST_ALLOW),
        ("/dashboards/dashboards/", "PUT", LIST_ALLOW),
        ("/dashboards/dashboards/1/", "POST", DETAIL_ALLOW),
        ("/test_framework/v1/metrics/", "POST", "GET, HEAD, OPTIONS"),
        ("/test_framework/v1/metrics/", "BREW", "GET, HEAD, OPTIONS"),
    ],
)
async def test_unsupported_method_is_405_with_drfs_allow(
    client: httpx.AsyncClient, path: str, method: str, allow: str
) -> None:
    before = (await client.get("/dashboards/widgets/1/")).json()
    response = await client.request(method, path, json={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["allow"] == allow
    assert (await client.get("/dashboards/widgets/1/")).json() == before


async def test_authentication_comes_before_the_method_check(anon: httpx.AsyncClient) -> None:
    response = await anon.post("/dashboards/widgets/1/", json={})
    assert response.status_code == 401
    assert response.headers["allow"] == DETAIL_ALLOW


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/dashboards/widgets/1/", 200),
        ("GET", "/dashboards/widgets/", 200),
        ("PATCH", "/dashboards/widgets/1/", 200),
        ("GET", "/dashboards/widgets/2/", 404),
        ("PATCH", "/dashboards/widgets/1/", 400),
    ],
)
async def test_every_drf_answer_carries_allow(client: httpx.AsyncClient, method: str, path: str, status: int) -> None:
    body = {"chart_type": "donut"} if status == 400 else {}
    response = await client.request(method, path, json=body)
    assert response.status_code == status
    assert response.headers["allow"] == (LIST_ALLOW if path.endswith("widgets/") else DETAIL_ALLOW)
    assert "vary" not in response.headers  # one renderer: DRF adds Vary: Accept only with several


@pytest.mark.parametrize("path", ["/dashboards/widgets/1/", "/dashboards/widgets/", "/dashboards/dashboards/1/"])
async def test_head_is_get_without_the_body(client: httpx.AsyncClient, path: str) -> None:
    get = await client.get(path)
    head = await client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == "application/json"
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["allow"] == get.headers["allow"]


async def test_head_of_an_unknown_widget_is_404_without_body(client: httpx.AsyncClient) -> None:
    head = await client.head("/dashboards/widgets/999/")
    assert (head.status_code, head.content) == (404, b"")
    assert head.headers["content-length"] == str(len(b'{"detail":"Not found."}'))


async def test_options_is_drfs_simple_metadata(client: httpx.AsyncClient) -> None:
    response = await client.options("/dashboards/widgets/1/")
    assert response.status_code == 200
    assert response.headers["allow"] == DETAIL_ALLOW
    body = response.json()
    assert (body["name"], body["description"]) == ("Widget Instance", "")
    assert body["renders"] == ["application/json"]
    assert body["parses"] == ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
    put = body["actions"]["PUT"]
    assert list(body["actions"]) == ["PUT"]
    assert put["id"] == {"type": "integer", "required": False, "read_only": True, "label": "ID"}
    assert put["name"] == {"type": "string", "required": False, "read_only": False, "label": "Name", "max_length": 255}
    assert put["chart_type"]["type"] == "choice" and put["chart_type"]["required"] is True
    assert put["chart_type"]["choices"] == [
        {"value": "line", "display_name": "Line"},
        {"value": "bar", "display_name": "Bar"},
        {"value": "pie", "display_name": "Pie"},
    ]
    assert {c["value"] for c in put["data_type"]["choices"]} == {"numeric", "boolean", "string", "datetime", "dynamic"}
    assert put["aggregation_function"]["choices"][2] == {"value": "avg", "display_name": "Average"}
    assert put["dashboard"] == {"type": "field", "required": False, "read_only": False, "label": "Dashboard"}
    assert put["filters"]["type"] == "field" and put["effective_filters"]["read_only"] is True
    assert put["created_at"] == {"type": "datetime", "required": False, "read_only": True, "label": "Created at"}


async def test_options_lists_post_on_collections_and_nests_widgets(client: httpx.AsyncClient) -> None:
    widgets = (await client.options("/dashboards/widgets/")).json()
    assert (widgets["name"], list(widgets["actions"])) == ("Widget List", ["POST"])
    dashboard = (await client.options("/dashboards/dashboards/1/")).json()
    nested = dashboard["actions"]["PUT"]["widgets"]
    assert nested["type"] == "field" and nested["read_only"] is True
    assert nested["child"]["type"] == "nested object"
    assert nested["child"]["children"]["chart_type"]["type"] == "choice"
    metrics = await client.options("/test_framework/v1/metrics/")
    assert metrics.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "actions" not in metrics.json()


async def test_options_without_the_object_has_no_put_action(client: httpx.AsyncClient) -> None:
    # DRF tries get_object() for PUT and leaves the action out on a 404; the answer is still 200.
    for path in ("/dashboards/widgets/999/", "/dashboards/widgets/2/"):
        response = await client.options(path)
        assert response.status_code == 200
        assert "actions" not in response.json()


async def test_options_needs_authentication(anon: httpx.AsyncClient) -> None:
    assert (await anon.options("/dashboards/widgets/1/")).status_code == 401


async def test_mounted_under_a_prefix_it_resolves_below_the_mount_and_redirects_within_it() -> None:
    # As Django resolves PATH_INFO below SCRIPT_NAME: the ASGI root_path is the mount point.
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from conformance.emulator import create_app

    app = Starlette(routes=[Mount("/api", app=create_app())])
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/api/dashboards/widgets/1/", headers=headers)).status_code == 200
        moved = await client.get("/api/dashboards/widgets/1?x=1", headers=headers)
        assert moved.status_code == 301 and moved.headers["location"] == "/api/dashboards/widgets/1/?x=1"
