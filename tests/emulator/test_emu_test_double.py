"""The emulator as a test double: transports (in-process, sync and async), reset, the cekura_emulator fixture."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from conformance import contract
from conformance.emulator import DEFAULT_KEYS, IN_PROCESS_URL, Emulator, ServedEmulator, async_transport, transport

HEADERS = {"X-CEKURA-API-KEY": DEFAULT_KEYS["tenant-a"]}


def test_the_sync_transport_serves_the_revision_asked() -> None:
    with httpx.Client(transport=transport(revision="live"), base_url=IN_PROCESS_URL, headers=HEADERS) as client:
        assert client.patch("/dashboards/widgets/1/", json={"chart_type": "stat", "field": ""}).status_code == 200
    with httpx.Client(transport=transport(), base_url=IN_PROCESS_URL, headers=HEADERS) as client:
        assert client.patch("/dashboards/widgets/1/", json={"chart_type": "stat"}).status_code == 400


def test_the_async_transport() -> None:
    async def patch() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=async_transport(revision="live"), base_url=IN_PROCESS_URL, headers=HEADERS
        ) as client:
            return await client.patch("/dashboards/widgets/1/", json={"group_by": None, "name": "async"})

    answer = asyncio.run(patch())
    assert answer.status_code == 200 and answer.json()["name"] == "async" and "group_by" in answer.json()


def test_reset_puts_the_seed_back_behind_the_same_transports() -> None:
    emulator = Emulator("live")
    with emulator.client() as client:
        created = client.post("/dashboards/widgets/", json={"chart_type": "line", "field": "duration"})
        assert created.status_code == 201
        emulator.reset()
        assert client.get(f"/dashboards/widgets/{created.json()['id']}/").status_code == 404
        assert client.get("/dashboards/widgets/1/").json()["group_by"] is None
    assert (emulator.api_key, emulator.other_api_key) == (DEFAULT_KEYS["tenant-a"], DEFAULT_KEYS["tenant-b"])
    with pytest.raises(contract.UnknownRevision):
        Emulator("staging")


def test_the_served_emulator_answers_over_loopback_and_stops() -> None:
    served = ServedEmulator("live")
    try:
        assert served.base_url.startswith("http://127.0.0.1:")
        answer = httpx.get(f"{served.base_url}/dashboards/widgets/1/", headers=served.headers, timeout=5)
        assert answer.status_code == 200 and answer.json()["group_by"] is None
    finally:
        served.close()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{served.base_url}/dashboards/widgets/1/", timeout=2)


FIXTURE_TESTS = """
import httpx
import pytest


def test_seed(cekura_emulator):
    assert cekura_emulator.revision == "{default}"
    answer = httpx.patch(f"{{cekura_emulator.base_url}}/dashboards/widgets/1/", json={{"name": "changed"}},
                         headers={{"X-CEKURA-API-KEY": cekura_emulator.api_key}})
    assert answer.status_code == 200


def test_reset_between_tests(cekura_emulator):
    widget = httpx.get(f"{{cekura_emulator.base_url}}/dashboards/widgets/1/",
                       headers={{"X-CEKURA-API-KEY": cekura_emulator.api_key}}).json()
    assert widget["name"] != "changed"


@pytest.mark.cekura_emulator(revision="live")
def test_live(cekura_emulator):
    assert cekura_emulator.revision == "live"
"""


@pytest.mark.parametrize("ini", [None, "live"])
def test_the_fixture_in_a_users_session(pytester: pytest.Pytester, ini: str | None) -> None:
    pytester.makepyfile(test_user=FIXTURE_TESTS.format(default=ini or "seed"))
    if ini:
        pytester.makeini(f"[pytest]\ncekura_emulator_revision = {ini}\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--strict-markers")
    result.assert_outcomes(passed=3)


def test_the_fixture_is_inert_unless_requested(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user="import sys\n\ndef test_x():\n    assert 'conformance.emulator' not in sys.modules\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
