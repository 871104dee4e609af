"""Form and multipart bodies: DRF's FormParser and MultiPartParser, and how its fields read HTML input."""

from __future__ import annotations

import json

import httpx
import pytest

pytestmark = pytest.mark.anyio
W1 = "/dashboards/widgets/1/"
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def test_a_form_patch_is_applied(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, content=b"name=From+a+form&chart_type=pie&metric=2", headers=FORM)
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["chart_type"], body["metric"]) == ("From a form", "pie", 2)
    assert (await client.get(W1)).json() == body


async def test_json_fields_take_json_text(client: httpx.AsyncClient) -> None:
    filters = {"field": "duration", "op": "gt", "value": 5}
    data = {"filters": json.dumps(filters), "metadata": '{"x": 1}'}
    response = await client.patch(W1, data=data)
    assert response.status_code == 200
    assert (response.json()["filters"], response.json()["metadata"]) == (filters, {"x": 1})
    bad = await client.patch(W1, data={"metadata": "not json", "filters": ""})
    assert bad.status_code == 400
    assert bad.json() == {"filters": ["Value must be valid JSON."], "metadata": ["Value must be valid JSON."]}


async def test_empty_form_values_follow_drfs_html_rules(client: httpx.AsyncClient) -> None:
    # Field.get_value: "" is null for a nullable field without blank (a relation, an integer), blank where blank
    # is allowed, and passed on otherwise (a required choice: not a valid choice).
    await client.patch(W1, json={"metric": 2})
    response = await client.patch(W1, content=b"metric=&name=&time_period=&field=", headers=FORM)
    assert response.status_code == 200
    body = response.json()
    assert (body["metric"], body["name"], body["time_period"], body["field"]) == (None, "", "", "")
    refused = await client.patch(W1, content=b"chart_type=", headers=FORM)
    assert refused.json() == {"chart_type": ['"" is not a valid choice.']}
    project = await client.patch("/dashboards/dashboards/1/", content=b"project=", headers=FORM)
    assert project.json()["project"] is None


async def test_the_last_of_repeated_keys_wins_and_unknown_keys_are_ignored(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, content=b"name=first&name=second&color=red", headers=FORM)
    assert response.json()["name"] == "second"


async def test_a_form_create(client: httpx.AsyncClient) -> None:
    response = await client.post("/dashboards/widgets/", data={"chart_type": "bar", "dashboard": "1"})
    assert response.status_code == 201
    assert (response.json()["chart_type"], response.json()["dashboard"]) == ("bar", 1)
    missing = await client.post("/dashboards/widgets/", data={"name": "no chart"})
    assert missing.json() == {"chart_type": ["This field is required."]}


async def test_a_multipart_patch_is_applied(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        W1, data={"name": "multipart", "metadata": '{"m": true}'}, files={"upload": ("a.txt", b"ignored")}
    )
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["metadata"]) == ("multipart", {"m": True})


async def test_a_file_for_a_field_is_refused_as_drf_refuses_it(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, files={"name": ("n.txt", b"x"), "metric": ("m.txt", b"2")})
    assert response.status_code == 400
    assert response.json() == {
        "name": ["Not a valid string."],
        "metric": ["Incorrect type. Expected pk value, received InMemoryUploadedFile."],
    }


@pytest.mark.parametrize(
    "content_type, reason",
    [
        ("multipart/form-data", "Invalid boundary in multipart: None"),
        ("multipart/form-data; boundary=", "Invalid boundary in multipart: "),
    ],
)
async def test_multipart_without_a_boundary_is_a_parse_error(
    client: httpx.AsyncClient, content_type: str, reason: str
) -> None:
    response = await client.patch(W1, content=b"--x\r\n", headers={"content-type": content_type})
    assert response.status_code == 400
    assert response.json() == {"detail": f"Multipart form parse error - {reason}"}


async def test_more_than_1000_form_fields_is_djangos_400_page(client: httpx.AsyncClient) -> None:
    body = "&".join(f"k{i}=v" for i in range(1001)).encode()
    response = await client.patch(W1, content=body, headers=FORM)
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/html"
    assert b"Bad Request (400)" in response.content
    fits = "&".join(f"k{i}=v" for i in range(1000)).encode()
    assert (await client.patch(W1, content=fits, headers=FORM)).status_code == 200


async def test_undecodable_form_bytes_are_read_as_latin_1(client: httpx.AsyncClient) -> None:
    response = await client.patch(W1, content=b"name=caf\xe9", headers=FORM)
    assert response.json()["name"] == "café"
