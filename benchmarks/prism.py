"""Install the pinned Prism mock server under benchmarks/.prism/ (conformance.npmtool) and run it on loopback for
a block."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from benchmarks.procs import LOOPBACK, Server, run_server
from conformance.npmtool import NpmTool

BENCH_DIR = Path(__file__).resolve().parent
# package.json + package-lock.json (no "resolved" URLs: npm fetches from whatever registry is configured).
# 5.15+ declares engines node >= 24: the lock holds 5.14.x, the last line that runs on Node 20.
PIN_DIR = BENCH_DIR / "npm"
INSTALL_DIR = BENCH_DIR / ".prism"
PRISM_PACKAGE = "@stoplight/prism-cli"
ENV_BIN = "CEKURA_PRISM_BIN"
PRISM = NpmTool("Prism", PRISM_PACKAGE, PIN_DIR, INSTALL_DIR)


def pinned_version() -> str | None:
    """The exact Prism version in the committed lock, or None without a lock."""
    return PRISM.pinned_version()


def installed_version() -> str | None:
    return PRISM.installed_version()


def ensure_prism(log: Callable[[str], None] | None = None) -> Path:
    """Path of a runnable ``prism`` executable, installing the pinned version first when absent
    (``NpmToolError`` when it cannot).

    ``$CEKURA_PRISM_BIN`` overrides the install (for machines that have Prism elsewhere).
    """
    override = os.environ.get(ENV_BIN)
    if override:
        return Path(override)
    return PRISM.ensure(log or (lambda msg: print(msg, file=sys.stderr)))


@contextlib.contextmanager
def run_prism(
    spec: Path,
    port: int,
    *,
    host: str = LOOPBACK,
    extra_args: Sequence[str] = (),
    log_path: Path | None = None,
    start_timeout: float = 60.0,
) -> Iterator[Server]:
    """``prism mock -h HOST -p PORT SPEC`` for the duration of the block; yields once it answers HTTP."""
    exe = ensure_prism()
    cmd = [str(exe), "mock", "-h", host, "-p", str(port), *extra_args, str(spec)]
    with run_server("prism", cmd, f"http://{host}:{port}", start_timeout=start_timeout, log_path=log_path) as server:
        yield server
