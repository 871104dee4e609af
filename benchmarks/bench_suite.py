"""Suite speed: the quick and full profiles against the embedded emulator, and the suite's PATCH property
stage side by side with a bare ``schemathesis run`` of the same fragment, same examples, same HTTP emulator.

    python benchmarks/bench_suite.py [--examples 200] [--skip-profiles] [--json FILE]

Targets (issue "The conformance suite", section 5): quick <= 30 s, full <= 180 s wall on the 2-core machine;
the suite's property stage <= 1.5x the bare run's time.
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

from benchmarks.procs import LOOPBACK, free_port, run_server
from conformance.devkeys import TENANT_A_KEY, TENANT_B_KEY

REPO = Path(__file__).resolve().parents[1]
FRAGMENT = REPO / "openapi" / "widgets.yaml"
KEY, OTHER_KEY = TENANT_A_KEY, TENANT_B_KEY  # the emulator's development keys
PROFILE_TARGETS = {"quick": 30.0, "full": 180.0}
RATIO_TARGET = 1.5


def time_profile(profile: str) -> dict[str, Any]:
    """Wall time of ``cekura-conformance run --profile P`` against the embedded emulator, as users run it."""
    with tempfile.TemporaryDirectory(prefix="cwc-bench-") as tmp:
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "conformance", "run", "--profile", profile, "--seed", "1", "--report-dir", tmp],
            capture_output=True,
            text=True,
            cwd=tmp,
        )
        wall = time.perf_counter() - started
        summary = json.loads((Path(tmp) / "summary.json").read_text())
    generated = sum(s["examples"] for s in summary["stages"])
    return {
        "profile": profile,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "requests": summary["requests"],
        "generated": generated,
        "requests_per_s": round(summary["requests"] / wall, 1),
        "target_s": PROFILE_TARGETS[profile],
        "met": proc.returncode == 0 and wall <= PROFILE_TARGETS[profile],
    }


def _suite_stage_script(base_url: str, examples: int, seed: int) -> str:
    return f"""
import dataclasses, json, time
from conformance.engine.profiles import get
from conformance.engine.runner import Engine
from conformance.engine.target import TargetConfig
cfg = TargetConfig(base_url={base_url!r}, api_key={KEY!r}, other_api_key={OTHER_KEY!r})
profile = dataclasses.replace(get("quick"), fuzz_examples={examples})
with Engine(cfg, profile, seed={seed}) as engine:
    engine.preflight()
    stages = engine.run_stages(("fuzz-positive", "fuzz-negative"))
print(json.dumps([dict(name=s.name, examples=s.examples, requests=s.requests, findings=sorted(s.findings))
                  for s in stages]))
"""


def time_suite_stage(base_url: str, examples: int, seed: int) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _suite_stage_script(base_url, examples, seed)], capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"suite stage failed: {proc.stderr[-2000:]}")
    stages = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"wall_s": round(wall, 2), "stages": stages}


def time_bare_run(base_url: str, examples: int, seed: int, widget_id: int) -> dict[str, Any]:
    """``schemathesis run`` on the PATCH operation, positive then negative fuzzing, with the project's
    calibration hooks (so it sends the same kind of traffic and does not stop at false failures)."""
    with tempfile.TemporaryDirectory(prefix="cwc-bare-") as tmp:
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(
            f'base-url = "{base_url}"\nhooks = "conformance.schemathesis_hooks"\n'
            f'headers = {{ "X-CEKURA-API-KEY" = "{KEY}" }}\n[parameters]\n"path.id" = {widget_id}\n'
        )
        env = {**os.environ, "CEKURA_DASHBOARD_IDS": "1", "CEKURA_METRIC_IDS": "1,2"}
        runs = []
        started = time.perf_counter()
        for mode in ("positive", "negative"):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "schemathesis.cli",
                    "--config-file",
                    str(config),
                    "run",
                    str(FRAGMENT),
                    "--include-method",
                    "PATCH",
                    "--include-path",
                    "/dashboards/widgets/{id}/",
                    "--phases",
                    "fuzzing",
                    "--mode",
                    mode,
                    "-n",
                    str(examples),
                    "--seed",
                    str(seed),
                ],
                capture_output=True,
                text=True,
                cwd=tmp,
                env=env,
            )
            tail = [line for line in proc.stdout.splitlines() if "generated" in line]
            runs.append({"mode": mode, "exit_code": proc.returncode, "summary": tail[-1].strip() if tail else ""})
        wall = time.perf_counter() - started
    return {"wall_s": round(wall, 2), "runs": runs}


def side_by_side(examples: int, seed: int) -> dict[str, Any]:
    port = free_port()
    cmd = [sys.executable, "-m", "conformance", "emulator", "--host", LOOPBACK, "--port", str(port)]
    with run_server("emulator", cmd, f"http://{LOOPBACK}:{port}", cwd=REPO) as server:
        created = httpx.post(
            f"{server.base_url}/dashboards/widgets/",
            json={"name": "bench bare run", "chart_type": "bar", "field": "duration", "dashboard": 1},
            headers={"X-CEKURA-API-KEY": KEY},
        ).json()
        bare = time_bare_run(server.base_url, examples, seed, created["id"])
        suite = time_suite_stage(server.base_url, examples, seed)
    ratio = suite["wall_s"] / bare["wall_s"]
    # schemathesis may generate more than -n per mode (it counts every case it sent); compare per example too.
    bare_generated = sum(int(r["summary"].split(" generated")[0].split()[-1]) for r in bare["runs"] if r["summary"])
    suite_generated = sum(s["examples"] for s in suite["stages"])
    per_example = (suite["wall_s"] / max(suite_generated, 1)) / (bare["wall_s"] / max(bare_generated, 1))
    return {
        "examples_per_mode": examples,
        "bare": {**bare, "generated": bare_generated},
        "suite": {**suite, "generated": suite_generated},
        "ratio": round(ratio, 2),
        "ratio_per_example": round(per_example, 2),
        "target": RATIO_TARGET,
        "met": ratio <= RATIO_TARGET and per_example <= RATIO_TARGET,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=200, help="examples per generation mode (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-profiles", action="store_true", help="only the side-by-side comparison")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"machine": {"cpus": os.cpu_count()}}
    if not args.skip_profiles:
        figures["profiles"] = [time_profile(p) for p in PROFILE_TARGETS]
        for row in figures["profiles"]:
            print(
                f"profile {row['profile']:<6} {row['wall_s']:>7.2f} s wall (target <= {row['target_s']:.0f} s) "
                f"{row['requests']:>6} requests, {row['generated']:>5} generated, {row['requests_per_s']:>7.1f} req/s "
                f"exit {row['exit_code']}  {'MET' if row['met'] else 'MISSED'}"
            )
    cmp = figures["side_by_side"] = side_by_side(args.examples, args.seed)
    bare_runs = "; ".join(r["summary"] for r in cmp["bare"]["runs"])
    suite_stages = ", ".join(
        f"{s['name']}: {s['examples']} examples, {s['requests']} requests" for s in cmp["suite"]["stages"]
    )
    verdict = "MET" if cmp["met"] else "MISSED"
    print(f"PATCH property stage, {args.examples} positive + {args.examples} negative examples, HTTP emulator:")
    print(f"  bare schemathesis run  {cmp['bare']['wall_s']:>7.2f} s   ({bare_runs})")
    print(f"  suite property stage   {cmp['suite']['wall_s']:>7.2f} s   ({suite_stages})")
    print(
        f"  ratio suite/bare       {cmp['ratio']:>7.2f}     per generated example {cmp['ratio_per_example']:.2f} "
        f"(target <= {RATIO_TARGET})  {verdict}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
