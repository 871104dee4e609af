"""Body parsing: media types, strict JSON, non-object bodies, the size limit, filter validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance import contract
from conformance.emulator import create_app

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
JSON_TYPE = {"content-type": "application/json"}


async def assert_unchanged(client: httpx.AsyncClient, before: dict[str, Any]) -> None:
    assert (await client.get(W1)).json() == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
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


async def test_over_the_limit_is_413() -> None:
    app = create_app()
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a", **JSON_TYPE}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers) as c:
        before = (await c.get(W1)).json()
        big = b'{"name": "' + b"x" * (1 << 20) + b'"}'
        response = await c.patch(W1, content=big)
        assert response.status_code == 413
        assert "detail" in response.json()
        assert (await c.get(W1)).json() == before

        async def chunks() -> Any:  # no Content-Length: the limit applies while reading
            for _ in range(40):
                yield b" " * 65536

        response = await c.patch(W1, content=chunks())
        assert response.status_code == 413
        fits = b'{"metadata": "' + b"x" * ((1 << 20) - 20) + b'"}'
        assert (await c.patch(W1, content=fits)).status_code == 200


async def test_limit_is_configurable() -> None:
    app = create_app(max_body_bytes=64)
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a", **JSON_TYPE}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers) as c:
        assert (await c.patch(W1, json={"name": "x" * 100})).status_code == 413
        assert (await c.patch(W1, json={"name": "x"})).status_code == 200


def nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"field": "duration", "op": "gte", "value": 1}
    for level in range(depth):
        node = {"operator": "and" if level % 2 else "or", "conditions": [node]}
    return node


async def test_filter_depth_limit_from_the_fragment(client: httpx.AsyncClient) -> None:
    limit = contract.default().schema("Filter")["x-cekura-max-depth"]
    ok = nested(limit)
    response = await client.patch(W1, json={"filters": ok})
    assert response.status_code == 200
    assert (await client.get(W1)).json()["filters"] == ok
    too_deep = await client.patch(W1, json={"filters": nested(limit + 1)})
    assert too_deep.status_code == 400
    assert too_deep.json() == {"filters": [f"Filter groups may not be nested more than {limit} levels deep."]}
    assert (await client.get(W1)).json()["filters"] == ok
    hostile = await client.patch(W1, json={"filters": nested(400)})
    assert hostile.status_code == 400


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
