"""HTTP benchmark: the reference emulator against Prism under the same PATCH load, with RSS and targets.

The command line; the load and measurement are in http_load.py, the verdict and table in http_verdict.py.
"""

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
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

if __package__ in (None, ""):
    # Run as a script (python benchmarks/bench_http.py): make the repository importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import wrk
from benchmarks.http_load import (
    DEFAULT_KEY,
    DEFAULT_LOG_DIR,
    DEFAULT_SPEC,
    PRISMS,
    LoadGenError,
    LoadSpec,
    Servers,
    TargetResult,
    measure_target,
    workload_bodies,
)
from benchmarks.http_verdict import compute_checks, render
from benchmarks.prism import ensure_prism, installed_version
from conformance.npmtool import NpmToolError

EXIT_OK = 0
EXIT_SERVER_FAILED = 2
EXIT_LOADGEN_FAILED = 3


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


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    # SIGTERM/SIGHUP take the same path as Ctrl-C, so every `with` block stops its server.
    raise KeyboardInterrupt(f"signal {signum}")


def _install_prism(t: TargetResult, log: Callable[[str], None]) -> None:
    """The pinned Prism, installed when absent; how long that took and which Node.js runs it, in ``t.extra``."""
    before, t0 = installed_version(), time.monotonic()
    try:
        ensure_prism(log=log)
    except (NpmToolError, OSError) as exc:
        t.error = f"Prism install failed: {exc}"
        log(t.error)
    t.extra["prism_version"] = installed_version()
    t.extra["prism_installed_now"] = before != installed_version()
    t.extra["prism_install_s"] = round(time.monotonic() - t0, 1)
    node = shutil.which("node")
    t.extra["node_version"] = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
    )


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
    load = LoadSpec(args.duration, args.warmup, args.connections, args.repeat, args.wrk_threads,
                    args.shared_client, args.key, args.widget_id)  # fmt: skip
    servers = Servers(args.spec, tuple(args.prism_arg), args.log_dir, args.start_timeout)
    # SIGINT too: a shell starting us in the background may have set it to "ignore".
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)

    config: dict[str, Any] = {
        "duration_s": load.duration, "warmup_s": load.warmup, "connections": load.connections,
        "repeat": load.repeat, "generators": generators,
        "httpx_client_mode": "shared" if load.shared_client else "per-connection", "wrk_threads": load.wrk_threads,
        "prism_args": list(servers.prism_args), "widget_id": load.widget_id, "bodies": workload_bodies(),
        "cpus": os.cpu_count(), "python": platform.python_version(),
    }  # fmt: skip
    targets: dict[str, TargetResult] = {n: TargetResult(n) for n in names}
    exit_code = EXIT_OK
    try:
        for name in (n for n in PRISMS if n in targets):
            _install_prism(targets[name], log)
            if targets[name].error is None:
                start = lambda tuned=name == "prism-tuned": servers.prism(tuned=tuned)  # noqa: E731
                measure_target(targets[name], start, generators, load, log)
        if "emulator" in targets:
            measure_target(targets["emulator"], servers.emulator, generators, load, log)
    except (LoadGenError, RuntimeError) as exc:
        log(f"load generator failed: {exc}")
        exit_code = EXIT_LOADGEN_FAILED
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        return 130

    if exit_code == EXIT_OK and any(not t.started or t.error for t in targets.values()):
        exit_code = EXIT_SERVER_FAILED
    ratios, checks = compute_checks(targets, generators)
    print()
    for line in render(targets, generators, ratios, checks):
        print(line)
    report = {"config": config, "targets": {n: t.as_json() for n, t in targets.items()}, "ratios": ratios,
              "checks": checks, "exit_code": exit_code}  # fmt: skip
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        log(f"wrote {args.json}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
