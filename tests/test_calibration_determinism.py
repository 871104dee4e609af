"""Calibration picks the same foreign-key ids in every process, so a fixed seed gives the same run."""

from __future__ import annotations

import os
import subprocess
import sys

PICKS = (
    "from conformance import calibration; "
    "print([calibration.fix_positive_body({'dashboard': n}, dashboards=[1, 2, 3, None], metrics=[])['dashboard']"
    " for n in range(40)])"
)


def test_the_picks_do_not_depend_on_the_process_hash_salt() -> None:
    outputs = {
        subprocess.run(
            [sys.executable, "-c", PICKS],
            env={**os.environ, "PYTHONHASHSEED": salt},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for salt in ("1", "2", "3")
    }
    assert len(outputs) == 1, outputs
