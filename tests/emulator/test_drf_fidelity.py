"""The emulator answers as Django REST framework does: the table in data/drf-fidelity.yaml, row by row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance.emulator import DEFAULT_KEYS, create_app

pytestmark = pytest.mark.anyio
TABLE = yaml.safe_load((Path(__file__).parent / "data" / "drf-fidelity.yaml").read_text(encoding="utf-8"))
KEYS: dict[str, str | None] = {
    "a": DEFAULT_KEYS["tenant-a"],
    "b": DEFAULT_KEYS["tenant-b"],
    "none": None,
    "wrong": "not-a-key",
}
#: The behaviours issue 15 lists; every one must have rows.
ITEMS = {
    "put",
    "list",
    "head",
    "allow",
    "options",
    "form",
    "multipart",
    "slash",
    "pk-blank",
    "pk-float",
    "body-limit",
    "nesting",
    "accept",
    "metrics",
    "errors",
}


def build(request: dict[str, Any]) -> dict[str, Any]:
    """httpx keyword arguments for a table request."""
    headers = dict(request.get("headers", {}))
    key = KEYS[request.get("key", "a")]
    if key is not None:
        headers["X-CEKURA-API-KEY"] = key
    kwargs: dict[str, Any] = {"method": request["method"], "url": request["path"], "headers": headers}
    if "json" in request:
        kwargs["json"] = request["json"]
    elif "raw" in request:
        kwargs["content"] = request["raw"].encode()
        headers["content-type"] = request["content_type"]
    elif "form" in request:
        kwargs["data"] = request["form"]
    elif "multipart" in request:
        parts = request["multipart"]
        kwargs["data"] = parts.get("fields", {})
        kwargs["files"] = {name: (filename, b"file content") for name, filename in parts.get("files", {}).items()}
    elif "size" in request:
        prefix, suffix = b'{"metadata": "', b'"}'
        kwargs["content"] = prefix + b"x" * (request["size"] - len(prefix) - len(suffix)) + suffix
        headers["content-type"] = "application/json"
    return kwargs


def check(response: httpx.Response, expect: dict[str, Any], row: str) -> None:
    assert response.status_code == expect["status"], (row, response.status_code, response.text[:300])
    if "content_type" in expect:
        assert response.headers.get("content-type") == expect["content_type"], row
    for name, value in expect.get("headers", {}).items():
        assert response.headers.get(name) == value, (row, name)
    if expect.get("empty"):
        assert response.content == b"", row
    body = response.json() if expect.keys() & {"keys", "item_keys", "body"} else None
    if "keys" in expect:
        assert sorted(body) == sorted(expect["keys"]), row
    if "item_keys" in expect:
        assert body and all(sorted(item) == sorted(expect["item_keys"]) for item in body), row
    for name, value in expect.get("body", {}).items():
        assert body[name] == value, (row, name, body[name])


@pytest.mark.parametrize("row", TABLE["rows"], ids=[row["id"] for row in TABLE["rows"]])
async def test_row(row: dict[str, Any]) -> None:
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        check(await client.request(**build(row["request"])), row["expect"], row["id"])
        if "then" in row:
            check(await client.request(**build(row["then"]["request"])), row["then"]["expect"], row["id"] + " then")


def test_the_table_covers_every_listed_behaviour_and_names_its_sources() -> None:
    rows = TABLE["rows"]
    assert {row["item"] for row in rows} == ITEMS
    assert all(row["source"] in TABLE["sources"] for row in rows)
    assert len({row["id"] for row in rows}) == len(rows)
    assert all(json.dumps(row) for row in rows)  # plain data
