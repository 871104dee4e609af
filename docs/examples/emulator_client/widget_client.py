"""A small client of the Cekura widget API, as a team that calls it might write one (the code under test)."""

from __future__ import annotations

from typing import Any

import httpx


class WidgetClient:
    """Reads and updates dashboard widgets with an API key."""

    def __init__(self, base_url: str, api_key: str, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"X-CEKURA-API-KEY": api_key}
        self._http = httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=10)

    def get(self, widget_id: int) -> dict[str, Any]:
        return self._call("GET", widget_id)

    def rename(self, widget_id: int, name: str) -> dict[str, Any]:
        return self._call("PATCH", widget_id, {"name": name})

    def show_as_stat(self, widget_id: int) -> dict[str, Any]:
        """A stat tile leaves field empty (the API's key rules)."""
        return self._call("PATCH", widget_id, {"chart_type": "stat", "field": ""})

    def group_by_agent(self, widget_id: int) -> dict[str, Any]:
        return self._call("PATCH", widget_id, {"group_by": {"type": "field", "field": "agent.id"}})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, widget_id: int, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._http.request(method, f"/dashboards/widgets/{widget_id}/", json=body)
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


async def rename_all(client: httpx.AsyncClient, widget_ids: list[int], name: str) -> list[str]:
    """The async flavour: rename several widgets, return their new names."""
    names = []
    for widget_id in widget_ids:
        response = await client.patch(f"/dashboards/widgets/{widget_id}/", json={"name": name})
        response.raise_for_status()
        names.append(response.json()["name"])
    return names
