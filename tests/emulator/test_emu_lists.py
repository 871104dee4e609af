"""The widget and dashboard lists: DRF's PageNumberPagination, the documented filters, tenant scoping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance import contract
from conformance.emulator import create_app, seed_from_mapping
from conformance.emulator.guesses import Guesses

pytestmark = pytest.mark.anyio
WIDGETS = "/dashboards/widgets/"
DASHBOARDS = "/dashboards/dashboards/"
KEY_A = {"X-CEKURA-API-KEY": "key-a"}
KEY_B = {"X-CEKURA-API-KEY": "key-b"}


def seeded(widgets_a: int = 25, widgets_b: int = 3, **guesses: Any) -> Starlette:
    """Tenant A: dashboards 1 (project 7) and 2 (project 8), widgets alternating between them; tenant B: dashboard 3."""
    data = {
        "tenants": [
            {
                "key": "key-a",
                "dashboards": [
                    {"id": 1, "name": "one", "project": 7, "widgets": []},
                    {"id": 2, "name": "two", "project": 8, "widgets": []},
                ],
                "widgets": [{"chart_type": "line", "dashboard": 1 + i % 2, "name": f"a{i}"} for i in range(widgets_a)],
            },
            {
                "key": "key-b",
                "dashboards": [{"id": 3, "name": "three", "project": 7}],
                "widgets": [{"chart_type": "pie", "dashboard": 3, "name": f"b{i}"} for i in range(widgets_b)],
            },
        ]
    }
    return create_app(seed=seed_from_mapping(data, contract.default()), guesses=Guesses(**guesses))


def client(app: Starlette, headers: dict[str, str]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=headers)


async def test_first_page_envelope() -> None:
    async with client(seeded(), KEY_A) as c:
        response = await c.get(WIDGETS)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["count", "next", "previous", "results"]
    assert body["count"] == 25
    assert body["next"] == "http://testserver/dashboards/widgets/?page=2"
    assert body["previous"] is None
    assert [w["name"] for w in body["results"]] == [f"a{i}" for i in range(10)]
    assert not contract.default().errors({"$ref": "#/components/schemas/PaginatedWidgetList"}, body)


async def test_middle_and_last_pages_and_their_links() -> None:
    async with client(seeded(), KEY_A) as c:
        second = (await c.get(WIDGETS, params={"page": 2})).json()
        third = (await c.get(WIDGETS, params={"page": "last"})).json()
    assert second["next"] == "http://testserver/dashboards/widgets/?page=3"
    assert second["previous"] == "http://testserver/dashboards/widgets/"  # page 1 drops the parameter
    assert [w["name"] for w in third["results"]] == [f"a{i}" for i in range(20, 25)]
    assert third["next"] is None
    assert third["previous"] == "http://testserver/dashboards/widgets/?page=2"


async def test_links_keep_other_parameters_in_sorted_order() -> None:
    async with client(seeded(), KEY_A) as c:
        body = (await c.get(WIDGETS + "?page_size=3&dashboard_id=1&page=2")).json()
    assert body["count"] == 13
    assert body["next"] == "http://testserver/dashboards/widgets/?dashboard_id=1&page=3&page_size=3"
    assert body["previous"] == "http://testserver/dashboards/widgets/?dashboard_id=1&page_size=3"


@pytest.mark.parametrize("page", ["0", "-1", "4", "abc", "1.0", "", "99999999999999999999"])
async def test_a_page_that_does_not_exist_is_404_invalid_page(page: str) -> None:
    async with client(seeded(), KEY_A) as c:
        response = await c.get(WIDGETS, params={"page": page})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}


@pytest.mark.parametrize(
    "page_size, shown", [("5", 5), ("0", 10), ("-3", 10), ("abc", 10), ("1000", 25), ("2.5", 10), (" 7 ", 7)]
)
async def test_page_size_falls_back_to_the_default_and_is_capped(page_size: str, shown: int) -> None:
    app = seeded(widgets_a=25, max_page_size=100)
    async with client(app, KEY_A) as c:
        body = (await c.get(WIDGETS, params={"page_size": page_size})).json()
    assert len(body["results"]) == shown


async def test_max_page_size_caps() -> None:
    async with client(seeded(widgets_a=25, max_page_size=20), KEY_A) as c:
        assert len((await c.get(WIDGETS, params={"page_size": 25})).json()["results"]) == 20


async def test_an_empty_list_has_one_empty_page() -> None:
    async with client(seeded(widgets_a=0), KEY_A) as c:
        body = (await c.get(WIDGETS)).json()
        assert body == {"count": 0, "next": None, "previous": None, "results": []}
        assert (await c.get(WIDGETS, params={"page": 2})).status_code == 404


async def test_the_widget_list_holds_only_the_callers_widgets() -> None:
    app = seeded()
    async with client(app, KEY_A) as a, client(app, KEY_B) as b:
        mine = (await a.get(WIDGETS, params={"page_size": 100})).json()["results"]
        theirs = (await b.get(WIDGETS, params={"page_size": 100})).json()["results"]
        assert {w["name"][0] for w in mine} == {"a"} and len(mine) == 25
        assert {w["name"][0] for w in theirs} == {"b"} and len(theirs) == 3
        # the other tenant's dashboard as a filter finds nothing, whichever side asks
        assert (await a.get(WIDGETS, params={"dashboard_id": 3})).json()["count"] == 0
        assert (await b.get(WIDGETS, params={"dashboard_id": 1})).json()["count"] == 0


async def test_dashboard_id_filter() -> None:
    async with client(seeded(), KEY_A) as c:
        on_two = (await c.get(WIDGETS, params={"dashboard_id": 2, "page_size": 100})).json()
        assert on_two["count"] == 12
        assert {w["dashboard"] for w in on_two["results"]} == {2}
        assert (await c.get(WIDGETS, params={"dashboard_id": ""})).json()["count"] == 25  # empty: no filter
        assert (await c.get(WIDGETS, params={"dashboard_id": 999})).json()["count"] == 0


@pytest.mark.parametrize("value", ["abc", "1.5", "[1]"])
async def test_a_filter_that_is_no_integer_is_400(value: str) -> None:
    async with client(seeded(), KEY_A) as c:
        widgets = await c.get(WIDGETS, params={"dashboard_id": value})
        dashboards = await c.get(DASHBOARDS, params={"project_id": value})
    assert (widgets.status_code, widgets.json()) == (400, {"dashboard_id": ["Enter a number."]})
    assert (dashboards.status_code, dashboards.json()) == (400, {"project_id": ["Enter a number."]})


async def test_the_dashboard_list_has_no_nested_widgets_but_a_count() -> None:
    app = seeded()
    async with client(app, KEY_A) as a, client(app, KEY_B) as b:
        body = (await a.get(DASHBOARDS)).json()
        assert [d["id"] for d in body["results"]] == [1, 2]
        assert [d["widget_count"] for d in body["results"]] == [13, 12]
        assert all("widgets" not in d for d in body["results"])
        assert not contract.default().errors({"$ref": "#/components/schemas/PaginatedDashboardListList"}, body)
        assert [d["id"] for d in (await b.get(DASHBOARDS)).json()["results"]] == [3]
        by_project = (await a.get(DASHBOARDS, params={"project_id": 8})).json()
        assert [d["id"] for d in by_project["results"]] == [2]
        assert (await b.get(DASHBOARDS, params={"project_id": 8})).json()["count"] == 0


async def test_lists_need_a_key_and_follow_writes() -> None:
    app = seeded(widgets_a=1)
    async with client(app, {}) as anon, client(app, KEY_A) as a:
        assert (await anon.get(WIDGETS)).status_code == 401
        created = (await a.post(WIDGETS, json={"chart_type": "bar"})).json()
        assert created["id"] in [w["id"] for w in (await a.get(WIDGETS)).json()["results"]]
        await a.delete(f"{WIDGETS}{created['id']}/")
        assert (await a.get(WIDGETS)).json()["count"] == 1
