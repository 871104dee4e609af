"""Report figures: the contract coverage of the quick profile, and the size of the HTML reports of a certify run.

    python benchmarks/report_figures.py [--seeds 1,7,42] [--skip-certify] [--json FILE]

Targets (issue 10): ``quick`` reaches 100% of the documented values, for any seed, from the catalogue alone;
the single-file HTML report of a ``certify`` run stays under 15 MB. A measurement, not a test: it exits 0 when
it ran, even if a target is missed (``MISS``); the certify part needs Node.js (Allure 3) like ``report`` does.
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

REPO = Path(__file__).resolve().parents[1]
SINGLE_FILE_TARGET_MB = 15.0


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], capture_output=True, text=True, cwd=cwd)


def quick_coverage(seed: int) -> dict[str, Any]:
    """The coverage of ``run --profile quick --seed N`` as summary.json records it."""
    with tempfile.TemporaryDirectory(prefix="cwc-figures-") as tmp:
        proc = _cli("run", "--seed", str(seed), "--report-dir", tmp, cwd=Path(tmp))
        coverage = json.loads((Path(tmp) / "summary.json").read_text())["coverage"]
    return {
        "seed": seed,
        "exit_code": proc.returncode,
        "percent": coverage["percent"],
        "covered": coverage["covered"],
        "total": coverage["total"],
        "missing": coverage["missing"],
        "never_answered": coverage["statuses"]["never_answered"],
        "operations_unused": coverage["operations_unused"],
    }


def catalogue_only_coverage() -> dict[str, Any]:
    """The catalogue's own share: the quick profile's cases with no property stage (generation seeds vary)."""
    from conformance.engine.profiles import get
    from conformance.engine.runner import Engine
    from conformance.engine.target import TargetConfig
    from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

    config = TargetConfig(api_key=EMBEDDED_KEY, other_api_key=EMBEDDED_OTHER_KEY)
    with Engine(config, get("quick"), seed=1) as engine:
        engine.preflight()
        for requirement in engine.catalogue.requirements:
            engine.run_requirement(requirement)
    coverage = engine.result.coverage
    return {k: coverage[k] for k in ("percent", "covered", "total", "missing")}


def certify_report() -> dict[str, Any]:
    """A certify run against the embedded emulator, rendered: the sizes of both reports."""
    with tempfile.TemporaryDirectory(prefix="cwc-figures-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        run = _cli("certify", "--product", str(REPO / "docs" / "PRODUCT.example.yaml"), "--report-dir", tmp, cwd=root)
        run_s = time.perf_counter() - started
        started = time.perf_counter()
        report = _cli("report", "--report-dir", tmp, cwd=root)
        report_s = time.perf_counter() - started
        if report.returncode != 0:
            return {"error": report.stderr.strip()[-500:], "exit_code": run.returncode}
        size_mb = round((root / "allure-report.html").stat().st_size / 1e6, 2)
        multi = sum(p.stat().st_size for p in (root / "allure-report").rglob("*") if p.is_file())
        summary = json.loads((root / "summary.json").read_text())
    return {
        "exit_code": run.returncode,
        "run_s": round(run_s, 1),
        "report_s": round(report_s, 1),
        "single_file_mb": size_mb,
        "multi_file_mb": round(multi / 1e6, 2),
        "results": len(summary["requirements"]),
        "coverage_percent": summary["coverage"]["percent"],
        "target_mb": SINGLE_FILE_TARGET_MB,
        "met": size_mb <= SINGLE_FILE_TARGET_MB,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="1,7,42", help="seeds of the quick runs (comma-separated)")
    parser.add_argument("--skip-certify", action="store_true", help="no certify run (needs Node.js for the report)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {"quick": [quick_coverage(int(s)) for s in args.seeds.split(",")]}
    figures["catalogue_only"] = catalogue_only_coverage()
    for row in figures["quick"]:
        mark = "ok" if row["percent"] == 100.0 else "MISS"
        print(
            f"quick seed {row['seed']}: contract coverage {row['percent']}% ({row['covered']} of {row['total']}) "
            f"{mark}; never answered: {', '.join(row['never_answered']) or 'none'}; "
            f"supporting operations unused: {', '.join(row['operations_unused']) or 'none'}"
        )
    only = figures["catalogue_only"]
    print(f"catalogue alone (no property stage): {only['percent']}% ({only['covered']} of {only['total']})")
    if not args.skip_certify:
        cert = figures["certify"] = certify_report()
        if "error" in cert:
            print(f"certify report: could not render: {cert['error']}")
        else:
            print(
                f"certify: single-file report {cert['single_file_mb']} MB (target <= {SINGLE_FILE_TARGET_MB} MB, "
                f"{'ok' if cert['met'] else 'MISS'}), multi-file report {cert['multi_file_mb']} MB, "
                f"{cert['results']} results, coverage {cert['coverage_percent']}%, run {cert['run_s']} s, "
                f"report {cert['report_s']} s"
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
