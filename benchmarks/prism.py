"""Install the pinned Prism mock server under benchmarks/.prism/ and run it on loopback for a block."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from benchmarks.procs import LOOPBACK, Server, run_server

BENCH_DIR = Path(__file__).resolve().parent
# package.json + package-lock.json (no "resolved" URLs: npm fetches from whatever registry is configured).
PIN_DIR = BENCH_DIR / "npm"
INSTALL_DIR = BENCH_DIR / ".prism"
PRISM_PACKAGE = "@stoplight/prism-cli"
# 5.15+ declares engines node >= 24; 5.14.2 is the last line that runs on Node 20.
PRISM_RANGE = "~5.14.2"
ENV_BIN = "CEKURA_PRISM_BIN"


class PrismUnavailable(RuntimeError):
    """Prism cannot be installed here (no npm, or npm failed)."""


def _read_version(package_json: Path) -> str | None:
    try:
        return str(json.loads(package_json.read_text())["version"])
    except (OSError, ValueError, KeyError):
        return None


def pinned_version() -> str | None:
    """The exact Prism version in the committed lock, or None without a lock."""
    try:
        lock = json.loads((PIN_DIR / "package-lock.json").read_text())
        return str(lock["packages"][f"node_modules/{PRISM_PACKAGE}"]["version"])
    except (OSError, ValueError, KeyError):
        return None


def installed_version(install_dir: Path = INSTALL_DIR) -> str | None:
    return _read_version(install_dir / "node_modules" / PRISM_PACKAGE / "package.json")


def prism_bin(install_dir: Path = INSTALL_DIR) -> Path:
    return install_dir / "node_modules" / ".bin" / "prism"


def _up_to_date(install_dir: Path) -> bool:
    have = installed_version(install_dir)
    want = pinned_version()
    if have is None or not prism_bin(install_dir).exists():
        return False
    return have == want if want else have.startswith("5.14.")


def _install(install_dir: Path, log: Callable[[str], None]) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise PrismUnavailable("npm is not on PATH (Prism needs Node.js 20 and npm)")
    install_dir.mkdir(parents=True, exist_ok=True)
    lock = PIN_DIR / "package-lock.json"
    common = ["--prefix", str(install_dir), "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"]
    if lock.exists():
        # npm ci installs exactly the locked tree, so every machine runs the same Prism.
        shutil.copyfile(PIN_DIR / "package.json", install_dir / "package.json")
        shutil.copyfile(lock, install_dir / "package-lock.json")
        cmd = [npm, "ci", *common]
    else:
        cmd = [npm, "install", *common, f"{PRISM_PACKAGE}@{PRISM_RANGE}"]
    log(f"installing Prism into {install_dir}: npm {' '.join(cmd[1:])}")
    t0 = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PrismUnavailable(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    log(f"installed Prism {installed_version(install_dir)} in {time.monotonic() - t0:.1f} s")


def ensure_prism(install_dir: Path = INSTALL_DIR, log: Callable[[str], None] | None = None) -> Path:
    """Path of a runnable ``prism`` executable, installing the pinned version first when absent.

    ``$CEKURA_PRISM_BIN`` overrides the install (for machines that have Prism elsewhere).
    """
    override = os.environ.get(ENV_BIN)
    if override:
        return Path(override)
    say = log or (lambda msg: print(msg, file=sys.stderr))
    if _up_to_date(install_dir):
        return prism_bin(install_dir)
    install_dir.mkdir(parents=True, exist_ok=True)
    # A file lock so parallel test workers do not run two npm installs into one folder.
    with open(install_dir / ".install.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not _up_to_date(install_dir):
            _install(install_dir, say)
    if not _up_to_date(install_dir):
        raise PrismUnavailable(f"Prism install in {install_dir} did not produce {PRISM_PACKAGE}")
    return prism_bin(install_dir)


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
