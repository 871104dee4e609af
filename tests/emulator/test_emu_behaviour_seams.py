"""Faulty variants are one-method subclasses of Behaviour; the last-resort handler answers JSON 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.emulator import Behaviour, create_app, timestamps

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
KEY = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}


class FrozenUpdatedAt(Behaviour):
    def next_timestamp(self, previous: int) -> int:
        return previous


class IgnoresDashboard(Behaviour):
    def effective_filters(self, dashboard_filters: Any, widget_filters: Any) -> Any:
        return super().effective_filters(None, widget_filters)


class CrashesOnBadJson(Behaviour):
    def decode_json(self, raw: bytes) -> Any:
        import json

        return json.loads(raw)


async def test_one_method_overrides_change_one_behaviour() -> None:
    transport = httpx.ASGITransport(app=create_app(behaviour=FrozenUpdatedAt))
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=KEY) as c:
        before = (await c.get(W1)).json()["updated_at"]
        assert (await c.patch(W1, json={"name": "x"})).json()["updated_at"] == before
    transport = httpx.ASGITransport(app=create_app(behaviour=IgnoresDashboard))
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=KEY) as c:
        assert (await c.get(W1)).json()["effective_filters"] == {"field": "success", "op": "eq", "value": True}


async def test_last_resort_handler_answers_json_500() -> None:
    transport = httpx.ASGITransport(app=create_app(behaviour=CrashesOnBadJson), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=KEY) as c:
        response = await c.patch(W1, content=b"{", headers={"content-type": "application/json"})
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}


class AppliesCreatedAt(Behaviour):
    def validate_widget(self, tenant: Any, data: Any, *, partial: bool) -> dict[str, Any]:
        values = super().validate_widget(tenant, data, partial=partial)
        if isinstance(data.get("created_at"), str):
            values["created_at"] = timestamps.parse(data["created_at"])
        return values


class IgnoresAuth(Behaviour):
    def authenticate(self, key: str | None) -> Any:
        return self.store.tenant_by_key(key or "") or self.store.tenants()[0]


async def test_seams_for_read_only_and_auth_faults() -> None:
    transport = httpx.ASGITransport(app=create_app(behaviour=AppliesCreatedAt))
    async with httpx.AsyncClient(transport=transport, base_url="http://e", headers=KEY) as c:
        body = (await c.patch(W1, json={"created_at": "2001-02-03T04:05:06.000007Z"})).json()
        assert body["created_at"] == "2001-02-03T04:05:06.000007Z"
    transport = httpx.ASGITransport(app=create_app(behaviour=IgnoresAuth))
    async with httpx.AsyncClient(transport=transport, base_url="http://e") as c:
        assert (await c.get(W1)).status_code == 200
