"""``cekura-conformance emulator`` over real HTTP: requests, real concurrency, ``--db`` across restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from conformance import contract

KEY = {"X-CEKURA-API-KEY": "cekura-dev-key-tenant-a"}
W1 = "/dashboards/widgets/1/"


def test_serves_the_fragment_over_http(serve: Callable[..., Any]) -> None:
    served = serve()
    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        widget = client.get(W1)
        assert widget.status_code == 200
        assert widget.headers["content-type"] == "application/json"
        assert not contract.default().errors({"$ref": "#/components/schemas/Widget"}, widget.json())
        assert client.patch(W1, json={"name": "over http"}).json()["name"] == "over http"
        assert client.get(W1).json()["name"] == "over http"
        assert client.get(W1, headers={"X-CEKURA-API-KEY": "wrong"}).status_code == 401
        denied = client.post(W1, json={})
        assert (denied.status_code, denied.headers["allow"]) == (405, "GET, PUT, PATCH, DELETE, HEAD, OPTIONS")
        assert client.patch(W1, content=b"{", headers={"content-type": "application/json"}).status_code == 400
        assert client.get("/dashboards/widgets/2/").status_code == 404
        head = client.head(W1)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == str(len(client.get(W1).content))
        moved = client.get("/dashboards/widgets/1")
        assert (moved.status_code, moved.headers["location"]) == (301, W1)


def test_oversized_body_is_djangos_400_over_http(serve: Callable[..., Any]) -> None:
    served = serve()
    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        response = client.patch(
            W1, content=b'{"name": "' + b"x" * (3 << 20) + b'"}', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "text/html"
    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        assert client.get(W1).json()["name"] != "x"


def test_startup_line_names_the_url_the_revision_and_the_keys(serve: Callable[..., Any]) -> None:
    served = serve("--guess", "auth_failure_status=403")
    served.stop()
    first = served.output.splitlines()[0]
    assert first == (
        f"cekura emulator serving {served.url} "
        "(revision seed; X-CEKURA-API-KEY: cekura-dev-key-tenant-a, cekura-dev-key-tenant-b); Ctrl-C stops it"
    )


def test_the_live_revision_over_http(serve: Callable[..., Any]) -> None:
    served = serve("--revision", "live")
    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        grouped = {"type": "bucket", "interval": 3600000}
        answer = client.patch(W1, json={"chart_type": "stat", "field": "", "group_by": grouped})
        assert answer.status_code == 200, answer.text
        assert (answer.json()["chart_type"], answer.json()["group_by"]) == ("stat", grouped)
        assert not contract.get("live").errors({"$ref": "#/components/schemas/Widget"}, client.get(W1).json())
    served.stop()
    assert "(revision live; X-CEKURA-API-KEY: " in served.output.splitlines()[0]


def test_an_unknown_revision_is_a_usage_error() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "conformance", "emulator", "--revision", "staging"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown contract revision 'staging': choose one of seed, live" in result.stderr


def test_guess_switch_over_the_cli(serve: Callable[..., Any]) -> None:
    served = serve("--guess", "auth_failure_status=403", "--guess", "browsable_api=true")
    with httpx.Client(base_url=served.url, timeout=10) as client:
        assert client.get(W1).status_code == 403
        page = client.get(W1, headers={**KEY, "accept": "text/html"})
        assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")


def test_a_bad_guess_is_a_usage_error() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "conformance", "emulator", "--guess", "auth_failure_status=500"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "auth_failure_status must be 401 or 403" in result.stderr


def test_real_concurrent_patches_of_different_fields(serve: Callable[..., Any]) -> None:
    served = serve()
    patches: list[dict[str, Any]] = [
        {"name": "threads"},
        {"chart_type": "pie"},
        {"field": "call_ended_reason"},
        {"metric": 1},
        {"time_period": "month"},
        {"aggregation_function": "sum"},
        {"data_type": "string"},
        {"metadata": {"threads": True}},
    ]
    barrier = threading.Barrier(len(patches))

    def send(patch: dict[str, Any]) -> int:
        with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
            barrier.wait()
            return client.patch(W1, json=patch).status_code

    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        for _ in range(5):
            with ThreadPoolExecutor(len(patches)) as pool:
                assert list(pool.map(send, patches)) == [200] * len(patches)
            final = client.get(W1).json()
            for patch in patches:
                assert {k: final[k] for k in patch} == patch
            client.patch(W1, json={"name": "reset", "chart_type": "bar", "metric": None, "metadata": None})


def test_db_file_survives_a_process_restart(serve: Callable[..., Any], tmp_path: Path) -> None:
    db = tmp_path / "emulator.sqlite3"
    first = serve("--db", str(db))
    with httpx.Client(base_url=first.url, headers=KEY, timeout=10) as client:
        patched = client.patch(W1, json={"name": "persisted"}).json()
    first.stop()
    second = serve("--db", str(db))
    with httpx.Client(base_url=second.url, headers=KEY, timeout=10) as client:
        assert client.get(W1).json() == patched


def test_seed_file_over_the_cli(serve: Callable[..., Any]) -> None:
    seed = Path(__file__).parent / "data" / "schemathesis-seed.yaml"
    served = serve("--seed-file", str(seed))
    with httpx.Client(base_url=served.url, headers=KEY, timeout=10) as client:
        assert client.get(W1).status_code == 404
        assert client.get("/dashboards/widgets/7001/").json()["dashboard"] == 7001
        assert [m["id"] for m in client.get("/test_framework/v1/metrics/").json()] == [7101, 7102]
