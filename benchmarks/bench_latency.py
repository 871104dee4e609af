"""Suite speed at real network latency: the HTTP emulator behind a proxy adding a round trip to every request.

    python benchmarks/bench_latency.py [--rtt-ms 50] [--rows quick,full,certify] [--concurrency 1,default]
                                       [--bare-workers 1,2,4,8] [--no-bare] [--seed 1] [--json FILE]

Every row runs ``cekura-conformance run`` as a user does (a fresh process, the reports written) against the same
emulator and proxy (``benchmarks/rtt_proxy.py``): each profile at each ``--concurrency`` (``default``: the flag
left out, the suite's own default for an HTTP target). Then a bare ``schemathesis run`` of the PATCH operation
(examples, coverage and fuzzing phases, ``-n`` the quick profile's fuzzing examples, the project's calibration
hooks) at each ``--workers`` value, the best one kept. Printed: wall time, requests (as the proxy counted them),
requests/s, the suite process's CPU time and peak RSS, whether each row's results equal the same profile's
``--concurrency 1`` row (verdict, every requirement's status, every stage's examples and digest), and the ratios.

Targets (issue 9, the 2-core machine, 50 ms round trip): quick <= 15 s (goal 10 s), full <= 45 s,
certify <= 90 s and peak RSS <= 300 MB. It is a measurement, not a test: it exits 0 when every row ran.
``--concurrency 1`` rows of full and certify take minutes each; ``--rows`` and ``--concurrency`` choose.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from benchmarks.procs import LOOPBACK, RssSampler, cpu_seconds, free_port, machine_busy_seconds, run_server
from benchmarks.rtt_proxy import RttProxy
from conformance.devkeys import TENANT_A_KEY, TENANT_B_KEY

REPO = Path(__file__).resolve().parents[1]
FRAGMENT = REPO / "openapi" / "widgets.yaml"
KEY, OTHER_KEY = TENANT_A_KEY, TENANT_B_KEY  # the emulator's development keys
TARGETS_S = {"quick": 15.0, "full": 45.0, "certify": 90.0}
GOAL_QUICK_S = 10.0
CERTIFY_RSS_MB = 300.0
PROFILE_SEEDS = {"certify": None}  # certify always runs with its own fixed seed


def _wait(proc: subprocess.Popen[str]) -> tuple[int, float, float]:
    """Wait for ``proc``: exit code, its CPU seconds (wait4) and its peak RSS in MB.

    The peak is the kernel's VmHWM of the process as polled until it ends (``RssSampler``): wait4's ru_maxrss
    would also count the pages of this process that the child had before its exec.
    """
    with RssSampler(proc.pid) as rss:
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_utime + usage.ru_stime, rss.peak_kb / 1024


def run_suite(proxy: RttProxy, emulator_pid: int, profile: str, concurrency: str, seed: int | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cwc-latency-") as tmp:
        command = [sys.executable, "-m", "conformance", "run", "--profile", profile, "--base-url", proxy.url]
        command += ["--api-key", KEY, "--other-api-key", OTHER_KEY, "--report-dir", tmp]
        if seed is not None and profile != "certify":
            command += ["--seed", str(seed)]
        if concurrency != "default":
            command += ["--concurrency", concurrency]
        sent, emulator_cpu = proxy.requests, cpu_seconds(emulator_pid)
        proxy.mark()
        started, began = time.perf_counter(), time.monotonic()
        with open(Path(tmp) / "console.txt", "w+") as console:
            proc = subprocess.Popen(command, stdout=console, stderr=subprocess.STDOUT, text=True, cwd=tmp)
            code, cpu, rss = _wait(proc)
            wall = time.perf_counter() - started
            ended = time.monotonic()
            console.seek(0)
            tail = console.read()[-2000:]
        summary_path = Path(tmp) / "summary.json"
        if not summary_path.is_file():
            raise RuntimeError(f"{profile} at --concurrency {concurrency} wrote no summary (exit {code}): {tail}")
        summary = json.loads(summary_path.read_text())
    requests = proxy.requests - sent
    return {
        "profile": profile,
        "concurrency": concurrency,
        "exit_code": code,
        "verdict": summary["verdict"],
        "wall_s": round(wall, 2),
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "suite_cpu_s": round(cpu, 2),
        "emulator_cpu_s": round(cpu_seconds(emulator_pid) - emulator_cpu, 2),
        "peak_rss_mb": round(rss, 1),
        # Before the first request (start-up, preflight's first) and after the last one (cleanup, reports).
        "first_request_s": round((proxy.first_request or ended) - began, 2),
        "after_last_request_s": round(ended - (proxy.last_request or ended), 2),
        "throttle": summary.get("throttle"),
        # Requirements given a status other than skipped: what the requests bought.
        "judged": sum(1 for r in summary["requirements"] if r["status"] != "skipped"),
        "results": {
            "verdict": summary["verdict"],
            "requirements": [(r["id"], r["status"]) for r in summary["requirements"]],
            "stages": [(s["name"], s["examples"], s.get("digest")) for s in summary["stages"]],
        },
    }


def run_bare(proxy: RttProxy, examples: int, workers: int, seed: int) -> dict[str, Any]:
    """``schemathesis run`` of the PATCH operation through the proxy, with the project's calibration hooks."""
    created = httpx.post(
        f"{proxy.url}/dashboards/widgets/",
        json={"name": "bench bare run", "chart_type": "bar", "field": "duration", "dashboard": 1},
        headers={"X-CEKURA-API-KEY": KEY},
    ).json()
    with tempfile.TemporaryDirectory(prefix="cwc-bare-") as tmp:
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(
            f'base-url = "{proxy.url}"\nhooks = "conformance.schemathesis_hooks"\n'
            f'headers = {{ "X-CEKURA-API-KEY" = "{KEY}" }}\n[parameters]\n"path.id" = {created["id"]}\n'
        )
        env = {**os.environ, "CEKURA_DASHBOARD_IDS": "1", "CEKURA_METRIC_IDS": "1,2", "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(FRAGMENT)]
        command += ["--include-method", "PATCH", "--include-path", "/dashboards/widgets/{id}/"]
        command += ["--phases", "examples,coverage,fuzzing", "--mode", "all", "-n", str(examples)]
        command += ["--seed", str(seed), "--workers", str(workers)]
        sent = proxy.requests
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp, env=env)
        output = proc.communicate()[0]
        wall = time.perf_counter() - started
    httpx.delete(f"{proxy.url}/dashboards/widgets/{created['id']}/", headers={"X-CEKURA-API-KEY": KEY})
    requests = proxy.requests - sent
    summary = [line.strip() for line in output.splitlines() if "generated" in line or "test cases" in line]
    return {
        "workers": workers,
        "examples_per_mode": examples,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "requests": requests,
        "requests_per_s": round(requests / wall, 1),
        "summary": summary[-1] if summary else "",
    }


def _same(row: dict[str, Any], serial: dict[str, Any] | None) -> str:
    if serial is None or row is serial:
        return "-"
    return "yes" if row["results"] == serial["results"] else "NO"


def report(rows: list[dict[str, Any]], bare: list[dict[str, Any]], rtt: float) -> list[str]:
    lines = [f"round trip {rtt:g} ms added to every request (benchmarks/rtt_proxy.py), HTTP emulator", ""]
    lines.append("1st req: seconds from the start to the first request; tail s: after the last request to the exit")
    head = (
        f"{'run':<28} {'wall s':>7} {'1st req':>7} {'tail s':>6} {'requests':>8} {'req/s':>7} {'CPU s':>6} "
        f"{'RSS MB':>7}  {'verdict':<14} {'same as c=1':<11} target"
    )
    lines += [head, "-" * len(head)]
    serial = {r["profile"]: r for r in rows if r["concurrency"] == "1"}
    for row in rows:
        name = f"{row['profile']} --concurrency {row['concurrency']}"
        target = TARGETS_S[row["profile"]]
        met = "MET" if row["wall_s"] <= target and row["exit_code"] == 0 else "MISSED"
        note = f"<= {target:.0f} s {met}" if row["concurrency"] != "1" else ""
        if row["profile"] == "certify" and row["concurrency"] != "1":
            note += f", RSS <= {CERTIFY_RSS_MB:.0f} MB {'MET' if row['peak_rss_mb'] <= CERTIFY_RSS_MB else 'MISSED'}"
        if row["profile"] == "quick" and row["concurrency"] != "1":
            note += f" (goal {GOAL_QUICK_S:.0f} s {'MET' if row['wall_s'] <= GOAL_QUICK_S else 'MISSED'})"
        lines.append(
            f"{name:<28} {row['wall_s']:>7.1f} {row['first_request_s']:>7.1f} {row['after_last_request_s']:>6.1f} "
            f"{row['requests']:>8} {row['requests_per_s']:>7.1f} "
            f"{row['suite_cpu_s']:>6.1f} {row['peak_rss_mb']:>7.1f}  {row['verdict']:<14} "
            f"{_same(row, serial.get(row['profile'])):<11} {note}"
        )
    best = min(bare, key=lambda b: b["wall_s"]) if bare else None
    for run in bare:
        mark = " (best)" if run is best and len(bare) > 1 else ""
        lines.append(
            f"{'bare schemathesis -w ' + str(run['workers']):<28} {run['wall_s']:>7.1f} {'':>7} {'':>6} "
            f"{run['requests']:>8} "
            f"{run['requests_per_s']:>7.1f} {'':>6} {'':>7}  exit {run['exit_code']:<9} {'':<11}{mark} "
            f"{run['summary'][:60]}"
        )
    lines.append("")
    for profile, first in serial.items():
        for row in rows:
            if row["profile"] == profile and row is not first:
                lines.append(
                    f"{profile}: --concurrency {row['concurrency']} is {first['wall_s'] / row['wall_s']:.1f}x "
                    f"faster than --concurrency 1 ({first['wall_s']:.1f} s -> {row['wall_s']:.1f} s)"
                )
    for row in rows:
        if row["concurrency"] == "1":
            lines.append(
                f"{row['profile']}: {row['requests']} requests for {row['judged']} requirements judged: "
                f"{row['requests'] / max(row['judged'], 1):.0f} per requirement"
            )
    if best is not None:
        for row in rows:
            if row["concurrency"] != "1":
                lines.append(
                    f"{row['profile']} --concurrency {row['concurrency']}: {row['wall_s'] / best['wall_s']:.2f}x the "
                    f"bare run's wall time for {row['requests'] / max(best['requests'], 1):.1f}x its requests"
                )
    return lines


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round trip added per request (default 50)")
    parser.add_argument("--rows", default="quick,full,certify", help="profiles to run (default quick,full,certify)")
    parser.add_argument(
        "--concurrency", default="1,default", help="--concurrency values per profile; 'default' leaves the flag out"
    )
    parser.add_argument("--bare-workers", default="1,2,4,8", help="schemathesis --workers values to try")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare schemathesis run")
    parser.add_argument("--seed", type=int, default=1, help="seed of the quick and full rows (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    from conformance.engine.profiles import get as get_profile

    port = free_port()
    command = [sys.executable, "-m", "conformance", "emulator", "--host", LOOPBACK, "--port", str(port)]
    rows: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    busy = machine_busy_seconds()
    started = time.perf_counter()
    with (
        run_server("emulator", command, f"http://{LOOPBACK}:{port}", cwd=REPO) as server,
        RttProxy(LOOPBACK, port, rtt_ms=args.rtt_ms) as proxy,
    ):
        for profile in _list(args.rows):
            for concurrency in _list(args.concurrency):
                row = run_suite(proxy, server.pid, profile, concurrency, args.seed)
                rows.append(row)
                print(
                    f"  {profile} --concurrency {concurrency}: {row['wall_s']} s, {row['requests']} requests, "
                    f"{row['verdict']}",
                    flush=True,
                )
        if not args.no_bare:
            examples = get_profile("quick").fuzz_examples
            for workers in _list(args.bare_workers):
                run = run_bare(proxy, examples, int(workers), args.seed)
                bare.append(run)
                print(f"  bare schemathesis --workers {workers}: {run['wall_s']} s, {run['requests']} requests")
    elapsed = time.perf_counter() - started
    print()
    for line in report(rows, bare, args.rtt_ms):
        print(line)
    others = (machine_busy_seconds() - busy) / elapsed * 100
    print(f"\nmachine: {os.cpu_count()} cores, busy {others:.0f}% of one core on average over {elapsed:.0f} s")
    if args.json:
        args.json.write_text(json.dumps({"rtt_ms": args.rtt_ms, "rows": rows, "bare": bare}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
