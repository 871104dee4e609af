"""Each undocumented choice: the emulator's pick, and the alternative its switch offers."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from conformance.emulator import create_app
from conformance.emulator.guesses import ALTERNATIVES, Guesses, guesses_from_mapping, guesses_from_options

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
KEY = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}


def client(headers: dict[str, str] | None = None, **guesses: Any) -> httpx.AsyncClient:
    app = create_app(guesses=Guesses(**guesses))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://e", headers=headers or {})


def test_every_guess_has_one_alternative_and_the_defaults_are_documented_picks() -> None:
    fields = {f.name for f in dataclasses.fields(Guesses)}
    assert set(ALTERNATIVES) == fields - {"page_size", "max_page_size"}
    for name, other in ALTERNATIVES.items():
        assert getattr(Guesses(), name) != other, name
        assert getattr(Guesses(**{name: other}), name) == other


@pytest.mark.parametrize(
    "options, expected",
    [
        (["auth_failure_status=403"], {"auth_failure_status": 403}),
        (["browsable_api=true", "filters_default={}"], {"browsable_api": True, "filters_default": "{}"}),
        (["filter_value_types = checked", "page_size=5"], {"filter_value_types": "checked", "page_size": 5}),
    ],
)
def test_cli_options(options: list[str], expected: dict[str, Any]) -> None:
    assert guesses_from_options(options) == Guesses(**expected)


@pytest.mark.parametrize(
    "bad", [["auth_failure_status=500"], ["browsable_api=maybe"], ["nope=1"], ["page_size=0"], ["no equals sign"]]
)
def test_bad_options_are_refused(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        guesses_from_options(bad)


def test_seed_mapping_values() -> None:
    assert guesses_from_mapping({"filters_default": {}, "browsable_api": True}) == Guesses(
        filters_default="{}", browsable_api=True
    )
    assert guesses_from_mapping({"filters_default": None}).default_filters is None


@pytest.mark.parametrize("status", [401, 403])
async def test_auth_failure_status(status: int) -> None:
    async with client(auth_failure_status=status) as c:
        for headers in ({}, {"X-CEKURA-API-KEY": "wrong"}):
            response = await c.patch(W1, json={"name": "x"}, headers=headers)
            assert response.status_code == status
            assert ("www-authenticate" in response.headers) is (status == 401)
            assert set(response.json()) == {"detail"}


@pytest.mark.parametrize("mode", ["any", "checked"])
async def test_filter_value_types(mode: str) -> None:
    async with client(KEY, filter_value_types=mode) as c:
        loose_in = await c.patch(W1, json={"filters": {"field": "topic", "op": "in", "value": "US"}})
        loose_isnull = await c.patch(
            W1, json={"filters": {"operator": "and", "conditions": [{"field": "topic", "op": "isnull", "value": 1}]}}
        )
        proper = await c.patch(W1, json={"filters": {"field": "topic", "op": "in", "value": ["US", "EU"]}})
    assert proper.status_code == 200
    if mode == "any":
        assert (loose_in.status_code, loose_isnull.status_code) == (200, 200)
    else:
        assert loose_in.json() == {"filters": ["Invalid filter at value: 'in' takes a list of values."]}
        assert loose_isnull.json() == {
            "filters": ["Invalid filter at conditions/0/value: 'isnull' takes true or false."]
        }


@pytest.mark.parametrize("default, stored", [("null", None), ("{}", {})])
async def test_filters_default(default: str, stored: Any) -> None:
    async with client(KEY, filters_default=default) as c:
        widget = (await c.post("/dashboards/widgets/", json={"chart_type": "line"})).json()
        dashboard = (await c.post("/dashboards/dashboards/", json={})).json()
        assert (widget["filters"], dashboard["filters"]) == (stored, stored)
        assert widget["effective_filters"] == {}  # neither side filters: the same either way
        on_filtered = (await c.post("/dashboards/widgets/", json={"chart_type": "line", "dashboard": 1})).json()
        assert on_filtered["effective_filters"] == (await c.get("/dashboards/dashboards/1/")).json()["filters"]


async def test_browsable_api() -> None:
    async with client(KEY) as off, client(KEY, browsable_api=True) as on:
        assert (await off.get(W1, headers={"accept": "text/html"})).status_code == 406
        page = await on.get(W1, headers={"accept": "text/html"})
        assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")
        assert "<title>Widget Instance – Django REST framework</title>" in page.text
        assert "&quot;chart_type&quot;: &quot;bar&quot;" in page.text
        json_answer = await on.get(W1)
        assert json_answer.headers["content-type"] == "application/json"
        assert json_answer.headers["vary"] == "Accept"  # DRF adds it when a view has several renderers
        assert (await on.get(W1, params={"format": "api"})).headers["content-type"].startswith("text/html")
        options = (await on.options(W1)).json()
        assert options["renders"] == ["application/json", "text/html"]
        missing = await on.get("/dashboards/widgets/999/", headers={"accept": "text/html"})
        assert missing.status_code == 404 and "Not found." in missing.text


@pytest.mark.parametrize("size", [1, 3])
async def test_page_size(size: int) -> None:
    async with client(KEY, page_size=size) as c:
        for _ in range(3):
            await c.post("/dashboards/widgets/", json={"chart_type": "line"})
        assert len((await c.get("/dashboards/widgets/")).json()["results"]) == size
