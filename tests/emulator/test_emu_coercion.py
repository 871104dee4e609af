"""Integer and primary-key coercions as DRF does them; huge numbers answer 400, never 500."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
D1 = "/dashboards/dashboards/1/"


@pytest.mark.parametrize("value", ["2", 2.0, " 2 ", 2])
async def test_pk_coerced(client: httpx.AsyncClient, value: object) -> None:
    response = await client.patch(W1, json={"metric": value})
    assert response.status_code == 200
    assert response.json()["metric"] == 2
    assert (await client.get(W1)).json()["metric"] == 2


@pytest.mark.parametrize(
    "value, received",
    [("abc", "str"), ("2.5", "str"), ("2.0", "str"), (True, "bool"), ([2], "list"), ({"id": 2}, "dict")],
)
async def test_pk_incorrect_type(client: httpx.AsyncClient, value: object, received: str) -> None:
    response = await client.patch(W1, json={"metric": value, "dashboard": value})
    assert response.status_code == 400
    problem = f"Incorrect type. Expected pk value, received {received}."
    assert response.json() == {"metric": [problem], "dashboard": [problem]}
    after = (await client.get(W1)).json()
    assert (after["metric"], after["dashboard"]) == (None, 1)


@pytest.mark.parametrize("value", [2.5, 2.99, 1.0000001])
async def test_pk_float_is_truncated_as_django_int_does(client: httpx.AsyncClient, value: float) -> None:
    # PrimaryKeyRelatedField looks up queryset.get(pk=value); Django's IntegerField.get_prep_value is int(value).
    response = await client.patch(W1, json={"metric": value})
    assert response.status_code == 200
    assert response.json()["metric"] == int(value)


async def test_pk_blank_string_is_null(client: httpx.AsyncClient) -> None:
    # RelatedField.run_validation turns "" into None before the null check.
    await client.patch(W1, json={"metric": 2})
    response = await client.patch(W1, json={"metric": "", "dashboard": ""})
    assert response.status_code == 200
    assert (response.json()["metric"], response.json()["dashboard"]) == (None, None)


@pytest.mark.parametrize("value", [10**30, -(10**30), "99999999999999999999999", 1e300, 0, -1, -0.5, 7.5])
async def test_huge_or_impossible_pk_does_not_exist(client: httpx.AsyncClient, value: object) -> None:
    response = await client.patch(W1, json={"metric": value})
    assert response.status_code == 400
    assert response.json() == {"metric": [f'Invalid pk "{value}" - object does not exist.']}


@pytest.mark.parametrize("value, stored", [("5", 5), (5.0, 5), ("5.0", 5), (" 7 ", 7), (10**30, 10**30)])
async def test_integer_field_coerced(client: httpx.AsyncClient, value: object, stored: int) -> None:
    response = await client.patch(D1, json={"project": value})
    assert response.status_code == 200
    assert response.json()["project"] == stored
    assert (await client.get(D1)).json()["project"] == stored


@pytest.mark.parametrize("value", ["abc", 5.5, True, [5], {"a": 5}, "1e3", 1e20])
async def test_integer_field_rejects(client: httpx.AsyncClient, value: object) -> None:
    response = await client.patch(D1, json={"project": value})
    assert response.status_code == 400
    assert response.json() == {"project": ["A valid integer is required."]}
    assert (await client.get(D1)).json()["project"] == 1


async def test_integer_field_long_string(client: httpx.AsyncClient) -> None:
    response = await client.patch(D1, json={"project": "9" * 1001})
    assert response.status_code == 400
    assert response.json() == {"project": ["String value too large."]}


async def test_integer_literal_too_long_to_parse(client: httpx.AsyncClient) -> None:
    raw = b'{"project": ' + b"9" * 5000 + b"}"
    response = await client.patch(D1, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
