"""created_at never changes; updated_at strictly advances on every successful write."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import httpx
import pytest

from conformance.emulator import Behaviour, create_app

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
D1 = "/dashboards/dashboards/1/"
DRF_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_format_is_microsecond_utc(client: httpx.AsyncClient) -> None:
    body = (await client.get(W1)).json()
    assert DRF_UTC.match(body["created_at"]) and DRF_UTC.match(body["updated_at"])


@pytest.mark.parametrize("path", [W1, D1])
async def test_updated_at_strictly_advances_created_at_fixed(client: httpx.AsyncClient, path: str) -> None:
    first = (await client.get(path)).json()
    stamps = [first["updated_at"]]
    for number in range(20):
        body = (await client.patch(path, json={"name": f"n{number}"})).json()
        assert body["created_at"] == first["created_at"]
        stamps.append(body["updated_at"])
    assert all(parse(a) < parse(b) for a, b in itertools.pairwise(stamps))
    assert (await client.get(path)).json()["updated_at"] == stamps[-1]


async def test_frozen_clock_still_advances() -> None:
    class FrozenClock(Behaviour):
        def now(self) -> int:
            return 1_700_000_000_000_000

    app = create_app(behaviour=FrozenClock)
    transport = httpx.ASGITransport(app=app)
    headers = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=headers) as client:
        one = (await client.patch(W1, json={"name": "a"})).json()["updated_at"]
        two = (await client.patch(W1, json={"name": "b"})).json()["updated_at"]
    assert parse(two) > parse(one)
    assert (parse(two) - parse(one)).microseconds == 1


async def test_failed_write_does_not_bump(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()["updated_at"]
    assert (await client.patch(W1, json={"chart_type": "donut"})).status_code == 400
    assert (await client.get(W1)).json()["updated_at"] == before


async def test_dashboard_change_does_not_touch_widget_stamp(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()["updated_at"]
    await client.patch(D1, json={"filters": {}})
    assert (await client.get(W1)).json()["updated_at"] == before


async def test_created_objects_have_equal_stamps(client: httpx.AsyncClient) -> None:
    body = (await client.post("/dashboards/widgets/", json={"chart_type": "line"})).json()
    assert body["created_at"] == body["updated_at"]
    assert DRF_UTC.match(body["created_at"])
