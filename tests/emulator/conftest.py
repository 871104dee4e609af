"""Fixtures for the emulator tests: an in-process app and clients for each tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance import contract
from conformance.emulator import DEFAULT_KEYS, create_app
from tests.served import Served

KEY_A = DEFAULT_KEYS["tenant-a"]
KEY_B = DEFAULT_KEYS["tenant-b"]
HEADER = "X-CEKURA-API-KEY"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Starlette:
    return create_app()


def _client(app: Starlette, key: str | None) -> httpx.AsyncClient:
    headers = {HEADER: key} if key is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://emulator", headers=headers)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Tenant A (dashboard 1, widget 1, metrics 1 and 2)."""
    async with _client(app, KEY_A) as c:
        yield c


@pytest.fixture
async def client_b(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """Tenant B (dashboard 2, widget 2, metrics 3 and 4)."""
    async with _client(app, KEY_B) as c:
        yield c


@pytest.fixture
async def anon(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, None) as c:
        yield c


@pytest.fixture
def conforms() -> Callable[[str, Any], bool]:
    """``conforms("Widget", body)``: whether ``body`` validates against a fragment schema."""
    fragment = contract.default()

    def check(schema: str, body: Any) -> bool:
        return not fragment.errors({"$ref": f"#/components/schemas/{schema}"}, body)

    return check


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    """``serve("--seed-file", path)``: start an emulator process; every one started is stopped afterwards."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        started.append(Served(*args))
        return started[-1]

    yield start
    for served in started:
        served.stop()
