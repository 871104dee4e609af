"""Concurrent PATCHes of different fields of one widget never lose an update."""

from __future__ import annotations

import asyncio

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"


async def test_concurrent_patches_of_different_fields_all_persist(client: httpx.AsyncClient) -> None:
    patches = [
        {"name": "concurrent"},
        {"chart_type": "line"},
        {"field": "timestamp"},
        {"metric": 2},
        {"time_period": "hour"},
        {"aggregation_function": "avg"},
        {"data_type": "datetime"},
        {"metadata": {"z": 1}},
    ]
    for _ in range(5):
        responses = await asyncio.gather(*(client.patch(W1, json=p) for p in patches))
        assert [r.status_code for r in responses] == [200] * len(patches)
        final = (await client.get(W1)).json()
        for patch in patches:
            assert {k: final[k] for k in patch} == patch
        await client.patch(W1, json={"name": "reset", "chart_type": "bar", "metric": None})


async def test_concurrent_writes_keep_stamps_distinct(client: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(*(client.patch(W1, json={"name": f"n{i}"}) for i in range(20)))
    stamps = [r.json()["updated_at"] for r in responses]
    assert len(set(stamps)) == len(stamps)
