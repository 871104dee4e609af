"""The client's own tests, run against the reference emulator: once through the ``cekura_emulator`` fixture (a
loopback server), once through the in-process transports (no socket). Needs only cekura-widget-conformance installed."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from widget_client import WidgetClient, rename_all

from conformance.emulator import DEFAULT_KEYS, IN_PROCESS_URL, ServedEmulator, async_transport, transport

# With the fixture ------------------------------------------------------------------------------------------


def test_rename_with_the_fixture(cekura_emulator: ServedEmulator) -> None:
    client = WidgetClient(cekura_emulator.base_url, cekura_emulator.api_key)
    assert client.rename(1, "Calls per day")["name"] == "Calls per day"
    assert client.get(1)["name"] == "Calls per day"
    other = WidgetClient(cekura_emulator.base_url, cekura_emulator.other_api_key)
    with pytest.raises(httpx.HTTPStatusError):  # widget 1 is the first tenant's: 404 for the second
        other.get(1)


def test_every_test_starts_from_the_seed_state(cekura_emulator: ServedEmulator) -> None:
    client = WidgetClient(cekura_emulator.base_url, cekura_emulator.api_key)
    assert client.get(1)["name"] != "Calls per day"
    assert cekura_emulator.revision == "seed"
    with pytest.raises(httpx.HTTPStatusError):  # stat is not a chart type of the seed-era API
        client.show_as_stat(1)


@pytest.mark.cekura_emulator(revision="live")
def test_stat_and_group_by_with_the_live_fixture(cekura_emulator: ServedEmulator) -> None:
    client = WidgetClient(cekura_emulator.base_url, cekura_emulator.api_key)
    assert client.show_as_stat(1)["chart_type"] == "stat"
    assert client.group_by_agent(1)["group_by"] == {"type": "field", "field": "agent.id"}
    cekura_emulator.reset()
    assert client.get(1)["group_by"] is None


# With the transports ---------------------------------------------------------------------------------------


def test_with_the_sync_transport() -> None:
    client = WidgetClient(IN_PROCESS_URL, DEFAULT_KEYS["tenant-a"], transport=transport(revision="live"))
    assert client.show_as_stat(1)["chart_type"] == "stat"
    assert client.get(1)["field"] == ""
    client.close()


def test_with_the_async_transport() -> None:
    async def scenario() -> list[str]:
        headers = {"X-CEKURA-API-KEY": DEFAULT_KEYS["tenant-a"]}
        async with httpx.AsyncClient(transport=async_transport(), base_url=IN_PROCESS_URL, headers=headers) as client:
            return await rename_all(client, [1], "Renamed")

    assert asyncio.run(scenario()) == ["Renamed"]
