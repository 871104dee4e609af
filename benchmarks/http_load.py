"""The HTTP benchmark's load and measurement: the PATCH workload, a load generator run against one server with
the server's and the machine's CPU use around it, the servers (the emulator, Prism) started on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks import wrk
from benchmarks.prism import run_prism
from benchmarks.procs import (
    LOOPBACK,
    RssSampler,
    Server,
    ServerStartError,
    cpu_seconds,
    free_port,
    machine_busy_seconds,
    run_server,
)
from conformance.devkeys import TENANT_A_KEY

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SPEC = REPO / "openapi" / "widgets.yaml"
DEFAULT_LOG_DIR = REPO / "benchmarks" / "results"
DEFAULT_KEY = TENANT_A_KEY
# As a vendor tuning Prism for speed would run it: no per-request info logging, about half of its cost.
TUNED_PRISM_ARGS = ("-v", "warn")
PRISMS = ("prism", "prism-tuned")
# Other processes using more than this (in % of one core) during a run make its figures suspect.
NOISY_PCT = 25.0


@dataclass(frozen=True)
class LoadSpec:
    """How each server is loaded: the same for every target."""

    duration: float = 10.0
    warmup: float = 2.0
    connections: int = 16
    repeat: int = 1  # runs per target and generator; the median by requests/s stands for them
    wrk_threads: int = 2
    shared_client: bool = False  # the httpx generator: one pooled client instead of one per connection
    key: str = DEFAULT_KEY
    widget_id: int = 1


@dataclass(frozen=True)
class Servers:
    """How the servers start: what Prism mocks and with which extra arguments, where their logs go."""

    spec: Path = DEFAULT_SPEC
    prism_args: tuple[str, ...] = ()
    log_dir: Path = DEFAULT_LOG_DIR
    start_timeout: float = 60.0

    def emulator(self) -> AbstractContextManager[Server]:
        port = free_port()
        cmd = [sys.executable, "-m", "conformance", "emulator", "--host", LOOPBACK, "--port", str(port)]
        return run_server(
            "emulator",
            cmd,
            f"http://{LOOPBACK}:{port}",
            start_timeout=self.start_timeout,
            log_path=self.log_dir / "emulator.log",
            cwd=REPO,
        )

    def prism(self, *, tuned: bool = False) -> AbstractContextManager[Server]:
        """Prism as a user starts it; ``tuned``: with TUNED_PRISM_ARGS."""
        return run_prism(
            self.spec,
            free_port(),
            extra_args=[*TUNED_PRISM_ARGS, *self.prism_args] if tuned else list(self.prism_args),
            log_path=self.log_dir / ("prism-tuned.log" if tuned else "prism.log"),
            start_timeout=self.start_timeout,
        )


def workload_bodies() -> list[str]:
    """The rotating PATCH bodies: all valid, all small, renames interleaved with enum and null updates."""
    bodies: list[Any] = [
        {"name": "bench-0"},
        {"time_period": "day"},
        {"name": "bench-1"},
        {"aggregation_function": None},
        {"name": "bench-2"},
        {"time_period": "week"},
    ]
    return [json.dumps(b) for b in bodies]


@dataclass
class TargetResult:
    name: str
    started: bool = False
    error: str | None = None
    start_s: float | None = None
    peak_rss_mb: float | None = None
    preflight: dict[str, int] = field(default_factory=dict)
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "error": self.error,
            "start_s": self.start_s,
            "peak_rss_mb": self.peak_rss_mb,
            "preflight_statuses": self.preflight,
            "runs": self.runs,
            **self.extra,
        }


class LoadGenError(RuntimeError):
    """A load generator crashed or printed no result."""


def run_httpx(url: str, headers: dict[str, str], bodies: Sequence[str], load: LoadSpec) -> dict[str, Any]:
    """Run benchmarks/loadgen.py in its own process (it must not share a GIL with anything we measure)."""
    cmd = [
        sys.executable,
        str(Path(__file__).with_name("loadgen.py")),
        "--url",
        url,
        "--method",
        "PATCH",
        "--connections",
        str(load.connections),
        "--duration",
        str(load.duration),
        "--warmup",
        str(load.warmup),
    ]
    for k, v in headers.items():
        cmd += ["--header", f"{k}: {v}"]
    for b in bodies:
        cmd += ["--body", b]
    if load.shared_client:
        cmd.append("--shared-client")
    # Own session: a terminal Ctrl-C reaches only us; subprocess.run kills the child on the way out.
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, start_new_session=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise LoadGenError(f"loadgen exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_generator(gen: str, url: str, headers: dict[str, str], bodies: Sequence[str], load: LoadSpec) -> dict[str, Any]:
    if gen == "wrk":
        return wrk.run_wrk(
            url,
            method="PATCH",
            headers=headers,
            bodies=bodies,
            connections=load.connections,
            duration=load.duration,
            threads=load.wrk_threads,
            warmup=load.warmup,
        )
    return run_httpx(url, headers, bodies, load)


def preflight(url: str, headers: dict[str, str], bodies: Sequence[str]) -> dict[str, int]:
    """One request per body before the load, so a wrong key or a rejected body shows up by name."""
    statuses: dict[str, int] = {}
    with httpx.Client(headers=headers, timeout=10.0) as client:
        for body in bodies:
            statuses[body] = client.patch(url, content=body.encode()).status_code
    return statuses


def measure_once(
    name: str,
    server: Server,
    gen: str,
    url: str,
    headers: dict[str, str],
    bodies: Sequence[str],
    load: LoadSpec,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One load-generator run against ``server``, with the server's and the machine's CPU use around it."""
    log(f"{name}: {gen}, {load.connections} connections, {load.duration:g} s")
    cpu0, busy0, t0 = cpu_seconds(server.pid), machine_busy_seconds(), time.monotonic()
    run = run_generator(gen, url, headers, bodies, load)
    wall = time.monotonic() - t0
    run["server_cpu_pct"] = 100.0 * (cpu_seconds(server.pid) - cpu0) / wall
    # CPU time per request: what the server spends on each, however busy the machine was (req/s is not).
    run["server_cpu_ms_per_req"] = run["server_cpu_pct"] * 10.0 / run["rps"] if run["rps"] else None
    machine = 100.0 * (machine_busy_seconds() - busy0) / wall
    # What neither the server nor the load generator used: other work on the machine.
    run["other_cpu_pct"] = max(0.0, machine - run["server_cpu_pct"] - run["client_cpu_pct"])
    if run["other_cpu_pct"] > NOISY_PCT:
        log(f"{name}: WARNING other processes used {run['other_cpu_pct']:.0f}% of a core during the run")
    return run


def measure_target(
    result: TargetResult,
    start: Callable[[], AbstractContextManager[Server]],
    generators: Sequence[str],
    load: LoadSpec,
    log: Callable[[str], None],
) -> None:
    headers = {"X-CEKURA-API-KEY": load.key, "Content-Type": "application/json"}
    bodies = workload_bodies()
    try:
        with start() as server:
            result.started = True
            result.start_s = round(server.started_in_s, 3)
            url = f"{server.base_url}/dashboards/widgets/{load.widget_id}/"
            log(f"{result.name}: up in {server.started_in_s:.1f} s (pid {server.pid}) at {server.base_url}")
            result.preflight = preflight(url, headers, bodies)
            bad = {b: s for b, s in result.preflight.items() if not 200 <= s < 300}
            if bad:
                log(f"{result.name}: WARNING preflight non-2xx: {bad}")
            with RssSampler(server.pid) as rss:
                for gen in generators:
                    samples = [measure_once(result.name, server, gen, url, headers, bodies, load, log)
                               for _ in range(load.repeat)]  # fmt: skip
                    # The median run by requests/s stands for the generator; all runs stay in the JSON.
                    chosen = dict(sorted(samples, key=lambda r: float(r["rps"]))[len(samples) // 2])
                    if len(samples) > 1:
                        keep = ("rps", "p50_ms", "p99_ms", "non_2xx", "errors", "server_cpu_pct", "other_cpu_pct")
                        chosen["repeats"] = [{k: r[k] for k in keep} for r in samples]
                    result.runs[gen] = chosen
            result.peak_rss_mb = round(rss.peak_kb / 1024.0, 1)
            if server.proc.poll() is not None:
                result.error = f"exited with code {server.proc.returncode} during the run"
    except ServerStartError as exc:
        result.error = str(exc)
        log(f"{result.name}: FAILED to start: {exc}")
