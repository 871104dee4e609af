"""The one way the project's tests run ``cekura-conformance`` in a subprocess, as a user would.

The environment is the caller's minus every ``CEKURA_*`` variable: a developer's or a CI job's own
``CEKURA_API_KEY`` must never steer a test (the suite is meant to run in exactly that environment).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

COMMAND = [sys.executable, "-m", "conformance"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without ``CEKURA_*``, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CEKURA_")}
    env.update(extra or {})
    return env


def run_cli(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``cekura-conformance ARGS`` to the end; stdout and stderr captured as text."""
    return subprocess.run(
        [*COMMAND, *args], cwd=cwd, env=clean_env(env), capture_output=True, text=True, timeout=timeout
    )


def start_cli(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``cekura-conformance ARGS`` without waiting (to signal it by PID); output captured as text."""
    return subprocess.Popen(
        [*COMMAND, *args], cwd=cwd, env=clean_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
