"""HTTP benchmark: the reference emulator against Prism under the same PATCH load, with RSS and targets."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):
    # Run as a script (python benchmarks/bench_http.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks import wrk
from benchmarks.prism import PrismUnavailable, ensure_prism, installed_version, run_prism
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

# Targets the emulator is held to (measured on the project's 2-core machine): against Prism as users run it
# and as a vendor tuning it for speed would (TUNED_PRISM_ARGS).
MIN_RATIO = 3.0
TUNED_PRISM_ARGS = ("-v", "warn")
PRISMS = ("prism", "prism-tuned")
MAX_P99_MS = 20.0
MAX_RSS_MB = 150.0
# Above this the load generator, not the server, is probably what limits requests/s.
CLIENT_BOUND_PCT = 90.0
# Other processes using more than this (in % of one core) during a run make its figures suspect.
NOISY_PCT = 25.0

EXIT_OK = 0
EXIT_SERVER_FAILED = 2
EXIT_LOADGEN_FAILED = 3


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


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP take the same path as Ctrl-C, so every `with` block stops its server.
    raise KeyboardInterrupt(f"signal {signum}")


def run_httpx(url: str, headers: dict[str, str], bodies: Sequence[str], args: argparse.Namespace) -> dict[str, Any]:
    """Run benchmarks/loadgen.py in its own process (it must not share a GIL with anything we measure)."""
    cmd = [
        sys.executable,
        str(Path(__file__).with_name("loadgen.py")),
        "--url",
        url,
        "--method",
        "PATCH",
        "--connections",
        str(args.connections),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
    ]
    for k, v in headers.items():
        cmd += ["--header", f"{k}: {v}"]
    for b in bodies:
        cmd += ["--body", b]
    if args.shared_client:
        cmd.append("--shared-client")
    # Own session: a terminal Ctrl-C reaches only us; subprocess.run kills the child on the way out.
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, start_new_session=True)
    if done.returncode != 0 or not done.stdout.strip():
        raise LoadGenError(f"loadgen exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run_generator(
    gen: str, url: str, headers: dict[str, str], bodies: Sequence[str], args: argparse.Namespace
) -> dict[str, Any]:
    if gen == "wrk":
        return wrk.run_wrk(
            url,
            method="PATCH",
            headers=headers,
            bodies=bodies,
            connections=args.connections,
            duration=args.duration,
            threads=args.wrk_threads,
            warmup=args.warmup,
        )
    return run_httpx(url, headers, bodies, args)


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
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """One load-generator run against ``server``, with the server's and the machine's CPU use around it."""
    log(f"{name}: {gen}, {args.connections} connections, {args.duration:g} s")
    cpu0, busy0, t0 = cpu_seconds(server.pid), machine_busy_seconds(), time.monotonic()
    run = run_generator(gen, url, headers, bodies, args)
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
    args: argparse.Namespace,
    log: Callable[[str], None],
) -> None:
    headers = {"X-CEKURA-API-KEY": args.key, "Content-Type": "application/json"}
    bodies = workload_bodies()
    try:
        with start() as server:
            result.started = True
            result.start_s = round(server.started_in_s, 3)
            url = f"{server.base_url}/dashboards/widgets/{args.widget_id}/"
            log(f"{result.name}: up in {server.started_in_s:.1f} s (pid {server.pid}) at {server.base_url}")
            result.preflight = preflight(url, headers, bodies)
            bad = {b: s for b, s in result.preflight.items() if not 200 <= s < 300}
            if bad:
                log(f"{result.name}: WARNING preflight non-2xx: {bad}")
            with RssSampler(server.pid) as rss:
                for gen in generators:
                    samples = [measure_once(result.name, server, gen, url, headers, bodies, args, log)
                               for _ in range(args.repeat)]  # fmt: skip
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


def start_emulator(args: argparse.Namespace) -> AbstractContextManager[Server]:
    port = free_port()
    cmd = [sys.executable, "-m", "conformance", "emulator", "--host", LOOPBACK, "--port", str(port)]
    return run_server(
        "emulator",
        cmd,
        f"http://{LOOPBACK}:{port}",
        start_timeout=args.start_timeout,
        log_path=args.log_dir / "emulator.log",
        cwd=REPO,
    )


def start_prism(args: argparse.Namespace, *, tuned: bool = False) -> AbstractContextManager[Server]:
    """Prism as a user starts it; ``tuned``: as a vendor tuning it for speed would (``-v warn``: no per-request
    info logging, about half of its cost)."""
    return run_prism(
        args.spec,
        free_port(),
        extra_args=[*TUNED_PRISM_ARGS, *args.prism_arg] if tuned else args.prism_arg,
        log_path=args.log_dir / ("prism-tuned.log" if tuned else "prism.log"),
        start_timeout=args.start_timeout,
    )


# --- report -----------------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def compute_checks(
    targets: dict[str, TargetResult], generators: Sequence[str]
) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
    """Ratios of the emulator's req/s to each Prism's (``prism/wrk``, ``prism-tuned/wrk``), and of their CPU time
    per request to the emulator's (``prism-tuned/wrk cpu``: the same comparison, insensitive to a busy machine)."""
    emu = targets.get("emulator")
    ratios: dict[str, float | None] = {}
    checks: list[dict[str, Any]] = []
    for gen in generators:
        e = emu.runs.get(gen) if emu else None
        for name in PRISMS:
            prism = targets.get(name)
            if prism is None:
                continue
            p = prism.runs.get(gen)
            ratio = e["rps"] / p["rps"] if e and p and p["rps"] > 0 else None
            ratios[f"{name}/{gen}"] = ratio
            e_cpu, p_cpu = (e or {}).get("server_cpu_ms_per_req"), (p or {}).get("server_cpu_ms_per_req")
            ratios[f"{name}/{gen} cpu"] = p_cpu / e_cpu if e_cpu and p_cpu else None
            checks.append(
                {"generator": gen, "check": f"emulator req/s >= {MIN_RATIO:g}x {name}", "value": ratio,
                 "limit": MIN_RATIO, "ok": None if ratio is None else ratio >= MIN_RATIO}
            )  # fmt: skip
        p99 = e["p99_ms"] if e else None
        checks.append(
            {"generator": gen, "check": f"emulator p99 <= {MAX_P99_MS:g} ms", "value": p99,
             "limit": MAX_P99_MS, "ok": None if p99 is None else p99 <= MAX_P99_MS}
        )  # fmt: skip
    rss = emu.peak_rss_mb if emu else None
    checks.append(
        {"generator": "any", "check": f"emulator peak RSS <= {MAX_RSS_MB:g} MB", "value": rss,
         "limit": MAX_RSS_MB, "ok": None if rss is None else rss <= MAX_RSS_MB}
    )  # fmt: skip
    return ratios, checks


def render(
    targets: dict[str, TargetResult],
    generators: Sequence[str],
    ratios: dict[str, float | None],
    checks: list[dict[str, Any]],
) -> Iterator[str]:
    head = (
        f"{'target':<11} {'generator':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'errors':>6} {'srv CPU%':>8} {'CPU ms/req':>10} {'cli CPU%':>8} {'oth CPU%':>8} {'peak RSS MB':>11}"
    )
    yield head
    yield "-" * len(head)
    notes: list[str] = []
    for t in targets.values():
        if not t.started or not t.runs:
            yield f"{t.name:<11} {'-':<9} not measured: {t.error or 'no run'}"
            continue
        for gen in generators:
            r = t.runs.get(gen)
            if r is None:
                continue
            yield (
                f"{t.name:<11} {gen:<9} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                f"{r['non_2xx']:>8d} {r['errors']:>6d} {r['server_cpu_pct']:>8.0f} "
                f"{_fmt(r.get('server_cpu_ms_per_req'), '.3f'):>10} "
                f"{r['client_cpu_pct']:>8.0f} {r.get('other_cpu_pct', 0.0):>8.0f} {_fmt(t.peak_rss_mb):>11}"
            )
            if r.get("other_cpu_pct", 0.0) > NOISY_PCT:
                notes.append(
                    f"{t.name}/{gen}: other processes used {r['other_cpu_pct']:.0f}% of a core during the run; "
                    "re-run on a quiet machine"
                )
            if r["client_cpu_pct"] >= CLIENT_BOUND_PCT:
                notes.append(
                    f"{t.name}/{gen}: the load generator used {r['client_cpu_pct']:.0f}% of a core, so "
                    "it, not the server, probably capped requests/s"
                )
    yield ""
    for key, ratio in ratios.items():
        name, _, what = key.partition("/")
        if what.endswith(" cpu"):
            yield f"ratio {name}/emulator CPU time per request ({what[:-4]}): {_fmt(ratio, '.2f')}x"
        else:
            yield f"ratio emulator/{name} req/s ({what}): {_fmt(ratio, '.2f')}x"
    emu = targets.get("emulator")
    yield f"emulator peak RSS: {_fmt(emu.peak_rss_mb if emu else None)} MB"
    yield ""
    for c in checks:
        verdict = "n/a" if c["ok"] is None else ("PASS" if c["ok"] else "MISS")
        value = _fmt(c["value"], ".2f")
        yield f"{verdict:<5} {c['check']:<32} [{c['generator']}] measured {value}"
    if notes:
        yield ""
        yield from (f"note: {n}" for n in notes)


# --- main -------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per target (default 10)")
    p.add_argument("--warmup", type=float, default=2.0, help="unrecorded seconds of load first (default 2)")
    p.add_argument("--repeat", type=int, default=1, help="runs per target and generator; the median is shown")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    p.add_argument(
        "--loadgen",
        choices=["auto", "wrk", "httpx", "both"],
        default="auto",
        help="auto: wrk when installed, else the async httpx generator",
    )
    p.add_argument("--targets", default="prism,prism-tuned,emulator", help="comma list from prism,prism-tuned,emulator")
    p.add_argument("--key", default=os.environ.get("CEKURA_BENCH_KEY", DEFAULT_KEY), help="X-CEKURA-API-KEY")
    p.add_argument("--widget-id", type=int, default=1, help="widget the key's tenant owns (default 1)")
    p.add_argument("--spec", type=Path, default=DEFAULT_SPEC, help="OpenAPI file Prism mocks")
    p.add_argument(
        "--prism-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for prism mock, repeatable (e.g. --prism-arg=-v --prism-arg=warn)",
    )
    p.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2: the machine's cores)")
    p.add_argument("--shared-client", action="store_true", help="httpx: one pooled client (slower client)")
    p.add_argument("--start-timeout", type=float, default=60.0, help="seconds a server has to answer")
    p.add_argument("--log-dir", type=Path, default=DEFAULT_LOG_DIR, help="server logs (default results/)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the figures as JSON")
    return p


def resolve_generators(choice: str) -> list[str]:
    if choice == "both":
        return ["wrk", "httpx"] if wrk.available() else ["httpx"]
    if choice == "auto":
        return ["wrk"] if wrk.available() else ["httpx"]
    return [choice]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    log: Callable[[str], None] = lambda msg: print(f"[bench] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    generators = resolve_generators(args.loadgen)
    if "wrk" in generators and not wrk.available():
        log("wrk is not installed (apt-get install -y wrk)")
        return EXIT_LOADGEN_FAILED
    if args.loadgen == "both" and "wrk" not in generators:
        log("wrk is not installed: running the httpx generator only")
    names = [n.strip() for n in args.targets.split(",") if n.strip()]
    unknown = set(names) - {*PRISMS, "emulator"}
    if unknown:
        log(f"unknown targets: {sorted(unknown)}")
        return EXIT_SERVER_FAILED
    # SIGINT too: a shell starting us in the background may have set it to "ignore".
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)

    report: dict[str, Any] = {
        "config": {
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "connections": args.connections,
            "repeat": args.repeat,
            "generators": generators,
            "httpx_client_mode": "shared" if args.shared_client else "per-connection",
            "wrk_threads": args.wrk_threads,
            "prism_args": args.prism_arg,
            "widget_id": args.widget_id,
            "bodies": workload_bodies(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        }
    }
    targets: dict[str, TargetResult] = {n: TargetResult(n) for n in names}
    exit_code = EXIT_OK
    try:
        for name in PRISMS:
            if name not in targets:
                continue
            t = targets[name]
            before = installed_version()
            t0 = time.monotonic()
            try:
                ensure_prism(log=log)
            except (PrismUnavailable, OSError) as exc:
                t.error = f"Prism install failed: {exc}"
                log(t.error)
            t.extra["prism_version"] = installed_version()
            t.extra["prism_installed_now"] = before != installed_version()
            t.extra["prism_install_s"] = round(time.monotonic() - t0, 1)
            node = shutil.which("node")
            t.extra["node_version"] = (
                subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
            )
            if t.error is None:
                tuned = name == "prism-tuned"
                measure_target(t, lambda tuned=tuned: start_prism(args, tuned=tuned), generators, args, log)
        if "emulator" in targets:
            measure_target(targets["emulator"], lambda: start_emulator(args), generators, args, log)
    except (LoadGenError, RuntimeError) as exc:
        log(f"load generator failed: {exc}")
        exit_code = EXIT_LOADGEN_FAILED
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130

    if exit_code == EXIT_OK and any(not t.started for t in targets.values()):
        exit_code = EXIT_SERVER_FAILED
    if exit_code == EXIT_OK and any(t.error for t in targets.values()):
        exit_code = EXIT_SERVER_FAILED
    ratios, checks = compute_checks(targets, generators)
    print()
    for line in render(targets, generators, ratios, checks):
        print(line)
    report.update(
        targets={n: t.as_json() for n, t in targets.items()},
        ratios=ratios,
        checks=checks,
        exit_code=exit_code,
    )
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
