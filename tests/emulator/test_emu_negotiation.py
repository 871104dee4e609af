"""Content negotiation: DRF picks a renderer from Accept (and ?format=) before anything else, or answers 406."""

from __future__ import annotations

import json

import httpx
import pytest

from conformance.emulator.negotiation import JSON_RENDERER, MediaType, select_parser, select_renderer

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
NOT_ACCEPTABLE = {"detail": "Could not satisfy the request Accept header."}


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "text/plain", "image/*", "application/xml; q=1"])
async def test_no_renderer_for_the_accept_header_is_406_in_json(client: httpx.AsyncClient, accept: str) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"name": "never"}, headers={"accept": accept})
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json"
    assert response.json() == NOT_ACCEPTABLE
    assert (await client.get(W1)).json() == before


async def test_negotiation_comes_before_authentication(anon: httpx.AsyncClient) -> None:
    response = await anon.get(W1, headers={"accept": "application/xml"})
    assert (response.status_code, response.json()) == (406, NOT_ACCEPTABLE)


@pytest.mark.parametrize(
    "accept",
    [
        "application/json",
        "*/*",
        "application/*",
        "application/json; q=0",  # DRF ignores q values
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser's
        "application/xml, application/json",
    ],
)
async def test_json_for_any_accept_that_json_satisfies(client: httpx.AsyncClient, accept: str) -> None:
    response = await client.get(W1, headers={"accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False).encode()


async def test_an_indent_parameter_indents(client: httpx.AsyncClient) -> None:
    response = await client.get(W1, headers={"accept": "application/json; indent=2"})
    assert response.headers["content-type"] == "application/json"
    assert response.text == json.dumps(response.json(), indent=2, ensure_ascii=False)
    capped = await client.get(W1, headers={"accept": "application/json; indent=20"})
    assert capped.text == json.dumps(capped.json(), indent=8, ensure_ascii=False)


@pytest.mark.parametrize("format_, status", [("json", 200), ("api", 406), ("xml", 406)])
async def test_the_format_query_parameter(client: httpx.AsyncClient, format_: str, status: int) -> None:
    response = await client.get(W1, params={"format": format_})
    assert response.status_code == status
    if status == 406:
        assert response.json() == {"detail": "Could not satisfy the request format suffix or query."}


async def test_line_separators_are_escaped_as_drf_does(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, json={"name": "a\u2028b\u2029c"})
    assert b"a\\u2028b\\u2029c" in response.content
    assert response.json()["name"] == "a\u2028b\u2029c"


def test_media_type_matching_is_drfs() -> None:
    assert MediaType("application/json").match(MediaType("*/*"))
    assert MediaType("*/*").match(MediaType("application/json"))
    assert not MediaType("application/json").match(MediaType("application/xml"))
    assert MediaType("APPLICATION/JSON; Charset=UTF-8").params == {"charset": "UTF-8"}
    assert [MediaType(t).precedence for t in ("*/*", "text/*", "text/html", "text/html; level=1")] == [0, 1, 2, 3]
    assert select_renderer(None, None, (JSON_RENDERER,)).renderer is JSON_RENDERER
    assert select_parser("multipart/*") == "multipart/form-data"
    assert select_parser("") is None
