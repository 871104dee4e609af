"""``ensure_prism`` / ``run_prism``: the pinned Prism installs, answers PATCH on loopback and is stopped after."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from benchmarks.prism import ensure_prism, installed_version, pinned_version, run_prism
from benchmarks.procs import free_port

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "widgets.yaml"

pytestmark = [
    pytest.mark.node,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("npm") is None, reason="needs Node.js and npm"),
]


def test_pinned_version_runs_on_node_20() -> None:
    version = pinned_version()
    assert version is not None and version.startswith("5.14.")


def test_run_prism_serves_the_fragment_and_stops() -> None:
    exe = ensure_prism()
    assert exe.exists()
    assert installed_version() == pinned_version()
    with run_prism(SPEC, free_port()) as prism:
        url = f"{prism.base_url}/dashboards/widgets/1/"
        headers = {"X-CEKURA-API-KEY": "any"}
        with httpx.Client(headers=headers, timeout=10) as client:
            assert client.patch(url, json={"name": "bench-0"}).status_code == 200
            assert client.patch(url, json={"chart_type": "not-a-chart"}).status_code in (400, 422)
        pid = prism.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
