"""Body parsing: media types, strict JSON, non-object bodies, Django's size limit, filter validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.emulator import create_app

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
JSON_TYPE = {"content-type": "application/json"}
FORM = "application/x-www-form-urlencoded"


async def assert_unchanged(client: httpx.AsyncClient, before: dict[str, Any]) -> None:
    assert (await client.get(W1)).json() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "text/json", "application/json-patch+json"])
async def test_unsupported_media_type(client: httpx.AsyncClient, content_type: str) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, content=b'{"name": "x"}', headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.json() == {"detail": f'Unsupported media type "{content_type}" in request.'}
    await assert_unchanged(client, before)


async def test_json_with_charset_is_json(client: httpx.AsyncClient) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    response = await client.patch(W1, content=b'{"name": "x"}', headers=headers)
    assert response.status_code == 200


async def test_non_empty_body_without_content_type_is_415(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, content=b'{"name": "x"}', headers={"content-type": ""})
    assert response.status_code == 415


@pytest.mark.parametrize("content_type", ["*/*", "application/*", "APPLICATION/JSON", "application/json; foo=bar"])
async def test_the_json_parser_takes_what_drfs_media_type_match_lets_through(
    client: httpx.AsyncClient, content_type: str
) -> None:
    # media_type_matches(parser, request): a wildcard on either side matches, case and extra parameters aside.
    response = await client.patch(W1, content=b'{"name": "wild"}', headers={"content-type": content_type})
    assert response.status_code == 200
    assert response.json()["name"] == "wild"


async def test_an_empty_body_is_never_415(client: httpx.AsyncClient) -> None:
    # DRF reads no stream when Content-Length is 0, so no parser is chosen.
    response = await client.patch(W1, content=b"", headers={"content-type": "text/plain"})
    assert response.status_code == 200


async def test_json_in_a_declared_charset(client: httpx.AsyncClient) -> None:
    body = '{"name": "caf\u00e9 \u00e0"}'.encode("utf-16")
    response = await client.patch(W1, content=body, headers={"content-type": "application/json; charset=utf-16"})
    assert response.status_code == 200
    assert response.json()["name"] == "caf\u00e9 \u00e0"


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"name": }', b"{'name': 'x'}", b"\xff\xfe", b'{"name": "\xc3"}', b"NaN", b'{"metadata": Infinity}',
     b'{"metadata": -Infinity}', b'{"metadata": 1e999}', b"[" * 100_000, b" "],
)  # fmt: skip
async def test_malformed_json_is_400_detail(client: httpx.AsyncClient, raw: bytes) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, content=raw, headers=JSON_TYPE)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    await assert_unchanged(client, before)


@pytest.mark.parametrize(
    "raw, problem",
    [
        (b"[]", "Invalid data. Expected a dictionary, but got list."),
        (b'"name"', "Invalid data. Expected a dictionary, but got str."),
        (b"5", "Invalid data. Expected a dictionary, but got int."),
        (b"true", "Invalid data. Expected a dictionary, but got bool."),
        (b"null", "No data provided"),
    ],
)
async def test_non_object_body(client: httpx.AsyncClient, raw: bytes, problem: str) -> None:
    response = await client.patch(W1, content=raw, headers=JSON_TYPE)
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [problem]}


async def test_deep_metadata_is_stored_or_refused_never_crashing(client: httpx.AsyncClient) -> None:
    for depth in (50, 500, 5000):
        raw = b'{"metadata": ' + b"[" * depth + b"]" * depth + b"}"
        response = await client.patch(W1, content=raw, headers=JSON_TYPE)
        assert response.status_code in (200, 400)


BAD_REQUEST = (
    b'\n<!doctype html>\n<html lang="en">\n<head>\n  <title>Bad Request (400)</title>\n</head>\n<body>\n'
    b"  <h1>Bad Request (400)</h1><p></p>\n</body>\n</html>\n"
)


async def test_over_django_data_upload_max_memory_size_is_its_400_page() -> None:
    # DRF 3.17.2+ parses JSON and form bodies through request.body, which raises RequestDataTooBig past
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); DRF does not handle it, so Django answers with its 400 page.
    app = create_app()
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a", **JSON_TYPE}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers) as c:
        before = (await c.get(W1)).json()
        limit = 2_621_440
        big = b'{"name": "' + b"x" * limit + b'"}'
        response = await c.patch(W1, content=big)
        assert response.status_code == 400
        assert response.headers["content-type"] == "text/html"
        assert response.content == BAD_REQUEST
        assert "allow" not in response.headers  # Django's answer, not DRF's
        assert (await c.get(W1)).json() == before

        async def chunks() -> Any:  # no Content-Length: the emulator bounds what it reads all the same
            for _ in range(41):
                yield b" " * 65536

        response = await c.patch(W1, content=chunks())
        assert response.status_code == 400 and response.content == BAD_REQUEST
        fits = b'{"metadata": "' + b"x" * (limit - 20) + b'"}'
        assert (await c.patch(W1, content=fits)).status_code == 200
        form = await c.patch(W1, content=b"name=" + b"x" * limit, headers={"content-type": FORM})
        assert form.status_code == 400 and form.content == BAD_REQUEST


async def test_the_media_type_is_checked_before_the_size() -> None:
    app = create_app(max_body_bytes=64)
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers) as c:
        response = await c.patch(W1, content=b"x" * 100, headers={"content-type": "text/plain"})
        assert response.status_code == 415


async def test_limit_is_configurable() -> None:
    app = create_app(max_body_bytes=64)
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a", **JSON_TYPE}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers) as c:
        assert (await c.patch(W1, json={"name": "x" * 100})).status_code == 400
        assert (await c.patch(W1, json={"name": "x"})).status_code == 200


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "duration", "op": "gte", "value": 1}
    for level in range(depth):
        node = {"operator": "and" if level % 2 else "or", "conditions": [node]}
    return node


@pytest.mark.parametrize("depth", [16, 17, 120, 450])
async def test_filters_nest_as_deep_as_json_can_carry(client: httpx.AsyncClient, depth: int) -> None:
    # DRF has no nesting limit; the emulator checks the filter one node at a time, so depth costs no recursion.
    response = await client.patch(W1, json={"filters": nested(depth)})
    assert response.status_code == 200
    assert (await client.get(W1)).json()["filters"] == nested(depth)


async def test_an_invalid_node_deep_inside_is_found(client: httpx.AsyncClient) -> None:
    tree = nested(300)
    leaf = tree
    for _ in range(300):
        leaf = leaf["conditions"][0]
    leaf["op"] = "between"
    response = await client.patch(W1, json={"filters": tree})
    assert response.status_code == 400
    (problem,) = response.json()["filters"]
    assert problem.startswith("Invalid filter at " + "conditions/0/" * 300 + "op: 'between' is not one of")


async def test_json_deeper_than_the_parser_takes_is_a_parse_error(client: httpx.AsyncClient) -> None:
    # Python's JSON parser stops near 1000 levels; DRF would let that RecursionError through (a 500).
    raw = b'{"filters": ' + b'{"operator": "and", "conditions": [' * 600 + b"{}" + b"]}" * 600 + b"}"
    response = await client.patch(W1, content=raw, headers=JSON_TYPE)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


@pytest.mark.parametrize(
    "filters",
    [
        {"field": "duration", "op": "between", "value": 1},
        {"field": "duration", "value": 1},
        {"field": "", "op": "eq", "value": 1},
        {"operator": "xor", "conditions": []},
        {"operator": "and", "conditions": "x"},
        {"operator": "and", "conditions": [{"field": "duration"}]},
        [],
        "timestamp > now",
        5,
    ],
)
async def test_invalid_filters_are_400_keyed_by_filters(client: httpx.AsyncClient, filters: Any) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"filters": filters})
    assert response.status_code == 400
    assert list(response.json()) == ["filters"]
    assert len(response.json()["filters"]) == 1
    await assert_unchanged(client, before)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        None,
        {"field": "success", "op": "eq", "value": True, "note": "extra keys are allowed"},
        {"operator": "same_row", "conditions": [], "label": 1},
        {"field": "metadata.region", "op": "in", "value": ["US", "EU"]},
    ],
)
async def test_valid_filters_round_trip(client: httpx.AsyncClient, filters: Any) -> None:
    response = await client.patch(W1, json={"filters": filters})
    assert response.status_code == 200
    assert (await client.get(W1)).json()["filters"] == filters
