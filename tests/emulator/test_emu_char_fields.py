"""CharFields: max length, nullability, trimming, NUL and surrogates, numbers as text."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
TOO_LONG = "Ensure this field has no more than 255 characters."


async def test_name_null_and_255_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.patch(W1, json={"name": None})).json()["name"] is None
    assert (await client.get(W1)).json()["name"] is None
    assert (await client.patch(W1, json={"name": "n" * 255})).json()["name"] == "n" * 255
    assert (await client.get(W1)).json()["name"] == "n" * 255


@pytest.mark.parametrize("prop", ["name", "field"])
async def test_256_rejected(client: httpx.AsyncClient, prop: str) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={prop: "n" * 256})
    assert response.status_code == 400
    assert response.json() == {prop: [TOO_LONG]}
    assert (await client.get(W1)).json() == before


async def test_field_255_and_blank_accepted_null_rejected(client: httpx.AsyncClient) -> None:
    assert (await client.patch(W1, json={"field": "f" * 255})).json()["field"] == "f" * 255
    assert (await client.patch(W1, json={"field": ""})).json()["field"] == ""
    response = await client.patch(W1, json={"field": None})
    assert response.status_code == 400
    assert response.json() == {"field": ["This field may not be null."]}
    assert (await client.get(W1)).json()["field"] == ""


async def test_whitespace_is_trimmed_before_the_length_check(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, json={"name": "  padded\t\n", "field": " " + "f" * 255 + " "})
    assert response.status_code == 200
    assert response.json()["name"] == "padded"
    assert (await client.get(W1)).json()["field"] == "f" * 255


@pytest.mark.parametrize("value, stored", [(5, "5"), (5.5, "5.5"), (-0.25, "-0.25")])
async def test_numbers_become_text(client: httpx.AsyncClient, value: float, stored: str) -> None:
    assert (await client.patch(W1, json={"name": value})).json()["name"] == stored
    assert (await client.get(W1)).json()["name"] == stored


@pytest.mark.parametrize("value", [True, False, [], ["a"], {"a": 1}])
async def test_non_text_rejected(client: httpx.AsyncClient, value: object) -> None:
    response = await client.patch(W1, json={"name": value})
    assert response.status_code == 400
    assert response.json() == {"name": ["Not a valid string."]}


async def test_nul_character_rejected(client: httpx.AsyncClient) -> None:
    before = (await client.get(W1)).json()
    response = await client.patch(W1, json={"name": "a\x00b", "field": "\x00"})
    assert response.status_code == 400
    assert response.json() == {
        "name": ["Null characters are not allowed."],
        "field": ["Null characters are not allowed."],
    }
    assert (await client.get(W1)).json() == before


async def test_lone_surrogate_rejected_not_crashing(client: httpx.AsyncClient) -> None:
    raw = b'{"name": "a\\ud800b", "metadata": {"k\\udfff": 1}, "data_type": "\\ud83d"}'
    response = await client.patch(W1, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {
        "name": ["Surrogate characters are not allowed: U+D800."],
        "data_type": ['"\ud83d" is not a valid choice.'],
        "metadata": ["Surrogate characters are not allowed: U+DFFF."],
    }


async def test_surrogate_pairs_are_ordinary_text(client: httpx.AsyncClient) -> None:
    raw = b'{"name": "smile \\ud83d\\ude00"}'
    response = await client.patch(W1, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 200
    assert (await client.get(W1)).json()["name"] == "smile \U0001f600"
