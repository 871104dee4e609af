"""Schemathesis (examples, coverage, fuzzing, stateful; every default check) finds nothing in the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = Path(__file__).parent / "data" / "schemathesis-seed.yaml"
MIN_REQUESTS = 1000


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


def interactions(ndjson: Path) -> Counter[tuple[str, str]]:
    """(phase, generation mode) of every request the run sent, from its NDJSON event stream."""
    counts: Counter[tuple[str, str]] = Counter()
    for line in ndjson.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for case_id in recorder.get("interactions", {}):
            meta = recorder["cases"][case_id]["value"].get("meta") or {}
            phase = meta.get("phase", {}).get("name", "unknown")
            counts[(phase, meta.get("generation", {}).get("mode", "unknown"))] += 1
    return counts


@pytest.mark.slow
def test_schemathesis_finds_nothing(serve: Callable[..., Any], tmp_path: Path) -> None:
    served = serve("--seed-file", str(SEED))
    env = {
        **os.environ,
        "CEKURA_API_KEY": "cekura-dev-key-tenant-a",
        "CEKURA_DASHBOARD_IDS": "7001",  # the seed's ids: what the hooks turn random foreign keys into
        "CEKURA_METRIC_IDS": "7101,7102",
    }
    command = [
        *schemathesis_command(),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        str(ROOT / "openapi" / "widgets.yaml"),
        "--url",
        served.url,
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--mode",
        "all",
        "--report",
        "ndjson,junit",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert "No issues found" in output, output[-6000:]

    counts = interactions(next((tmp_path / "report").glob("*.ndjson")))
    total = sum(counts.values())
    print(f"schemathesis: {total} requests in {elapsed:.1f}s: {dict(counts)}")
    assert total >= MIN_REQUESTS, counts
    assert {phase for phase, _ in counts} >= {"coverage", "fuzzing", "stateful"}, counts
    for mode in ("positive", "negative"):
        assert sum(n for (_, m), n in counts.items() if m == mode) > 100, counts
    assert sum(n for (p, _), n in counts.items() if p == "stateful") > 100, counts
    junit = next((tmp_path / "report").glob("*.xml")).read_text(encoding="utf-8")
    assert 'failures="0"' in junit and 'errors="0"' in junit, junit[:2000]
