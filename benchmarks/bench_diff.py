"""Differential speed and the Prism divergences.

    python benchmarks/bench_diff.py [--http] [--prism] [--json FILE]

* speed (issue "Differential conformance"): a ``quick`` diff takes at most 3x a ``quick`` run on the same
  targets. Timed as users run them (``cekura-conformance run`` and ``cekura-conformance diff``, subprocesses):
  the embedded emulator as reference and candidate, and with ``--http`` the emulator served over loopback HTTP
  as both (the run at its default concurrency, 8; the diff serial: its order is the program's).
* ``--prism``: the shipped cassette replayed against Prism (``prism mock`` of the seed fragment, installed by
  benchmarks/prism.py): the divergences by path and by requirement, what docs/differential-vendors.md explains.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.procs import LOOPBACK, free_port, run_server

REPO = Path(__file__).resolve().parents[1]
KEY = "cekura-dev-key-tenant-a"
OTHER_KEY = "cekura-dev-key-tenant-b"
RATIO_TARGET = 3.0
SEED = "1"


def _timed(args: list[str], report_dir: str) -> tuple[float, int, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", *args, "--report-dir", report_dir],
        capture_output=True,
        text=True,
        cwd=report_dir,
    )
    return time.perf_counter() - started, proc.returncode, proc.stdout[-2000:] + proc.stderr[-2000:]


def compare(label: str, run_args: list[str], diff_args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cwc-bench-") as tmp:
        run_s, run_code, run_out = _timed(["run", "--profile", "quick", "--seed", SEED, *run_args], tmp)
        diff_s, diff_code, diff_out = _timed(["diff", "--profile", "quick", "--seed", SEED, *diff_args], tmp)
        data = json.loads((Path(tmp) / "diff.json").read_text())
    ratio = diff_s / run_s
    return {
        "targets": label,
        "run_s": round(run_s, 2),
        "run_exit": run_code,
        "diff_s": round(diff_s, 2),
        "diff_exit": diff_code,
        "diff_steps": data["steps"],
        "divergences": data["divergences"],
        "ratio": round(ratio, 2),
        "target_ratio": RATIO_TARGET,
        "met": run_code == 0 and diff_code == 0 and ratio <= RATIO_TARGET,
        **({} if diff_code == 0 else {"diff_output": diff_out}),
        **({} if run_code == 0 else {"run_output": run_out}),
    }


def embedded() -> dict[str, Any]:
    return compare("embedded emulator (reference and candidate)", [], ["--candidate-url", "embedded"])


def http() -> dict[str, Any]:
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    cmd = [sys.executable, "-m", "conformance", "emulator", "--host", LOOPBACK, "--port", str(port)]
    keys = ["--api-key", KEY, "--other-api-key", OTHER_KEY]
    with run_server("emulator", cmd, url, probe_path="/test_framework/v1/metrics/"):
        return compare(
            "emulator over loopback HTTP (reference and candidate)",
            ["--base-url", url, *keys],
            [
                "--base-url",
                url,
                *keys,
                "--candidate-url",
                url,
                "--candidate-api-key",
                KEY,
                "--candidate-other-api-key",
                OTHER_KEY,
            ],
        )


def prism() -> dict[str, Any]:
    from benchmarks.prism import run_prism

    port = free_port()
    with (
        tempfile.TemporaryDirectory(prefix="cwc-prism-") as tmp,
        run_prism(REPO / "openapi" / "widgets.yaml", port, log_path=Path(tmp) / "prism.log") as server,
    ):
        started = time.perf_counter()
        _seconds, code, out = _timed(
            [
                "diff",
                "--cassette",
                "shipped",
                "--candidate-url",
                server.base_url,
                "--candidate-api-key",
                "prism-tenant-a-key",
                "--candidate-other-api-key",
                "prism-tenant-b-key",
            ],
            tmp,
        )
        data = json.loads((Path(tmp) / "diff.json").read_text())
    return {
        "exit": code,
        "seconds": round(time.perf_counter() - started, 2),
        "steps": data["steps"],
        "divergences": data["divergences"],
        "exchanges_diverged": data["exchanges_diverged"],
        "by_path": [(p["path"], p["count"]) for p in data["by_path"][:25]],
        "by_requirement": [(r["id"], r["count"]) for r in data["by_requirement"][:25]],
        "first": {p["path"]: p["first"] for p in data["by_path"][:8]},
        "console": out[-1500:],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--http", action="store_true", help="also time both against the emulator over HTTP")
    parser.add_argument("--prism", action="store_true", help="also replay the shipped cassette against Prism")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    figures: dict[str, Any] = {"speed": [embedded()]}
    if args.http:
        figures["speed"].append(http())
    if args.prism:
        figures["prism"] = prism()
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0 if all(s["met"] for s in figures["speed"]) else 1


if __name__ == "__main__":
    sys.exit(main())
