"""Fast checks of the HTTP benchmark's helpers: percentiles, wrk Lua/JSON, process start/stop, load generators."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks import http_load, http_verdict, wrk
from benchmarks.loadgen import percentile, summarize_ms
from benchmarks.procs import RssSampler, ServerStartError, cpu_seconds, free_port, run_server

LOADGEN = Path(http_load.__file__).with_name("loadgen.py")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as both real targets do

    def do_PATCH(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = self.headers.get("X-CEKURA-API-KEY") == "k" and b"bad" not in body
        payload = b'{"id": 1}' if ok else b'{"detail": "no"}'
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # silence per-request logging
        pass


@pytest.fixture
def tiny_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/dashboards/widgets/1/"
    finally:
        server.shutdown()
        server.server_close()


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    assert summarize_ms([0.001, 0.002])["p50_ms"] == pytest.approx(1.0)


def test_lua_string_picks_a_safe_level() -> None:
    assert wrk.lua_string('{"a": 1}') == '[[{"a": 1}]]'
    assert wrk.lua_string("x]]y") == "[=[x]]y]=]"
    assert wrk.lua_string("x]]y]=]") == "[==[x]]y]=]]==]"


def test_parse_output_counts_every_non_2xx() -> None:
    raw = {
        "requests": 100, "duration_us": 2_000_000, "p50_us": 1500, "p90_us": 2500, "p99_us": 9000,
        "max_us": 12000, "mean_us": 1700.5, "s2xx": 90, "s3xx": 1, "s4xx": 6, "s5xx": 3, "sother": 0,
        "err_connect": 0, "err_read": 2, "err_write": 0, "err_timeout": 0,
    }  # fmt: skip
    out = wrk.parse_output("Running 2s test\n" + wrk.MARKER + json.dumps(raw) + "\n")
    assert out["rps"] == pytest.approx(50.0)
    assert out["p99_ms"] == pytest.approx(9.0)
    assert out["non_2xx"] == 10
    assert out["errors"] == 2 and out["error_kinds"] == {"read": 2}


def test_workload_bodies_are_small_json_objects() -> None:
    bodies = [json.loads(b) for b in http_load.workload_bodies()]
    assert len(bodies) >= 3 and all(isinstance(b, dict) and len(b) == 1 for b in bodies)
    assert {"aggregation_function": None} in bodies


def test_checks_pass_and_miss() -> None:
    def run(rps: float, cpu_ms: float) -> dict[str, float]:
        return {"rps": rps, "p99_ms": 9.0, "server_cpu_ms_per_req": cpu_ms}

    prism = http_load.TargetResult("prism", started=True, runs={"wrk": run(1000.0, 1.0)})
    tuned = http_load.TargetResult("prism-tuned", started=True, runs={"wrk": run(2000.0, 0.5)})
    emu = http_load.TargetResult(
        "emulator", started=True, peak_rss_mb=200.0, runs={"wrk": {**run(3500.0, 0.2), "p99_ms": 30.0}}
    )
    ratios, checks = http_verdict.compute_checks({"prism": prism, "prism-tuned": tuned, "emulator": emu}, ["wrk"])
    assert ratios["prism/wrk"] == pytest.approx(3.5) and ratios["prism-tuned/wrk"] == pytest.approx(1.75)
    assert ratios["prism-tuned/wrk cpu"] == pytest.approx(2.5)
    assert [c["ok"] for c in checks] == [True, False, False, False]
    assert "emulator req/s >= 3x prism-tuned" in [c["check"] for c in checks]


def test_run_server_raises_when_the_process_dies() -> None:
    with (
        pytest.raises(ServerStartError),
        run_server("dies", [sys.executable, "-c", "raise SystemExit(3)"], "http://127.0.0.1:9/", start_timeout=10),
    ):
        pass  # pragma: no cover


def test_run_server_stops_what_it_started(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    with (
        run_server("http.server", cmd, f"http://127.0.0.1:{port}", cwd=tmp_path) as server,
        RssSampler(server.pid) as rss,
    ):
        pid = server.pid
        assert cpu_seconds(pid) >= 0.0
    assert rss.peak_kb > 1000  # a Python interpreter is several MB
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_httpx_loadgen_counts_non_2xx(tiny_server: str) -> None:
    cmd = [sys.executable, str(LOADGEN), "--url", tiny_server, "--connections", "4", "--duration", "0.5",
           "--header", "X-CEKURA-API-KEY: k", "--body", '{"name": "ok"}', "--body", '{"name": "bad"}']  # fmt: skip
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=60).stdout)
    assert out["requests"] > 0 and out["errors"] == 0
    assert 0 < out["non_2xx"] < out["requests"]
    assert out["p50_ms"] <= out["p99_ms"]


def test_httpx_loadgen_refuses_other_hosts() -> None:
    cmd = [sys.executable, str(LOADGEN), "--url", "http://example.invalid/", "--duration", "0.1"]
    assert subprocess.run(cmd, capture_output=True, timeout=60).returncode == 2


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_sends_patch_with_rotating_bodies(tiny_server: str) -> None:
    out = wrk.run_wrk(
        tiny_server,
        method="PATCH",
        headers={"X-CEKURA-API-KEY": "k", "Content-Type": "application/json"},
        bodies=['{"name": "ok"}', '{"name": "bad"}'],
        connections=4,
        duration=1,
        threads=2,
    )
    assert out["requests"] > 0
    # Half the bodies are rejected by the tiny server: the Lua response() hook must see them.
    assert 0.3 < out["non_2xx"] / out["requests"] < 0.7
