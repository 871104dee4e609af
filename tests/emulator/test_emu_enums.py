"""Choice fields: members, blanks and nulls exactly as the fragment's enums list them."""

from __future__ import annotations

import httpx
import pytest

from conformance import contract

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
BLANKABLE = ["data_type", "time_period", "aggregation_function"]


def members(prop: str) -> list[object]:
    return contract.default().enum_members("Widget", prop)


@pytest.mark.parametrize("prop", BLANKABLE)
@pytest.mark.parametrize("value", ["", None])
async def test_blank_and_null_are_accepted_where_listed(
    client: httpx.AsyncClient, prop: str, value: str | None
) -> None:
    assert value in members(prop)
    response = await client.patch(W1, json={prop: value})
    assert response.status_code == 200
    assert response.json()[prop] == value
    assert (await client.get(W1)).json()[prop] == value


@pytest.mark.parametrize("prop", [*BLANKABLE, "chart_type"])
async def test_every_member_is_accepted(client: httpx.AsyncClient, prop: str) -> None:
    for member in members(prop):
        response = await client.patch(W1, json={prop: member})
        assert response.status_code == 200, (prop, member, response.text)
        assert (await client.get(W1)).json()[prop] == member


@pytest.mark.parametrize(
    "value, problem",
    [
        ("", '"" is not a valid choice.'),
        (None, "This field may not be null."),
        ("donut", '"donut" is not a valid choice.'),
        ("LINE", '"LINE" is not a valid choice.'),
        (" line", '" line" is not a valid choice.'),
        (5, '"5" is not a valid choice.'),
        (True, '"True" is not a valid choice.'),
    ],
)
async def test_chart_type_rejects(client: httpx.AsyncClient, value: object, problem: str) -> None:
    assert value not in members("chart_type")
    response = await client.patch(W1, json={"chart_type": value})
    assert response.status_code == 400
    assert response.json() == {"chart_type": [problem]}
    assert (await client.get(W1)).json()["chart_type"] == "bar"


@pytest.mark.parametrize("prop", BLANKABLE)
async def test_unknown_member_rejected(client: httpx.AsyncClient, prop: str) -> None:
    before = (await client.get(W1)).json()[prop]
    response = await client.patch(W1, json={prop: "weekly"})
    assert response.status_code == 400
    assert response.json() == {prop: ['"weekly" is not a valid choice.']}
    assert (await client.get(W1)).json()[prop] == before
