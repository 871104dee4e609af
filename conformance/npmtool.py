"""A Node.js tool installed from a pinned lock: ``npm ci`` of a committed package.json + package-lock.json into
a folder of its own, once; used by the HTML report (Allure) and the HTTP benchmark (Prism) alike.

The install goes into a staging folder beside its final place and is renamed at the end, so an interrupted
install never looks complete and two processes installing at once leave one whole install.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LOCK_FILES = ("package.json", "package-lock.json")
MARKER = ".installed"  # holds the digest of the lock the folder was installed from
TIMEOUT_INSTALL = 600


class NpmToolError(RuntimeError):
    """A pinned tool cannot be installed here: no npm, or ``npm ci`` failed (the message says which)."""


@dataclass(frozen=True)
class NpmTool:
    title: str  # as messages name it: "Allure", "Prism"
    package: str  # the npm package, e.g. "allure" or "@stoplight/prism-cli"
    lock_dir: Path  # the committed package.json and package-lock.json
    home: Path  # where it is installed

    def pinned_version(self) -> str | None:
        """The exact version in the committed lock, or None without one."""
        try:
            lock = json.loads((self.lock_dir / "package-lock.json").read_text())
            return str(lock["packages"][f"node_modules/{self.package}"]["version"])
        except (OSError, ValueError, KeyError):
            return None

    def installed_version(self) -> str | None:
        try:
            return str(json.loads(self._package_json().read_text())["version"])
        except (OSError, ValueError, KeyError):
            return None

    def script(self, name: str | None = None) -> Path:
        """The installed package's executable script (its package.json ``bin``; ``name`` picks one of several)."""
        declared = json.loads(self._package_json().read_text())["bin"]
        relative = declared if isinstance(declared, str) else declared[name or next(iter(declared))]
        return self._package_json().parent / str(relative)

    def installed(self) -> bool:
        """Installed from the committed lock as it is now (a changed lock means a new install)."""
        try:
            return (self.home / MARKER).read_text().strip() == self._lock_digest() and self.script().is_file()
        except (OSError, ValueError, KeyError, StopIteration):
            return False

    def ensure(self, log: Callable[[str], None], npm: str | None = None) -> Path:
        """The tool's script, installed with ``npm ci`` (``npm``: from PATH) first when absent or from another
        lock."""
        if self.installed():
            return self.script()
        npm = npm or shutil.which("npm")
        if npm is None:
            raise NpmToolError(f"npm is not on PATH ({self.title} needs Node.js and npm)")
        log(f"installing {self.title} {self.pinned_version()} into {self.home} (once)")
        staging = self.home.with_name(f"{self.home.name}.staging-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            for name in LOCK_FILES:
                shutil.copyfile(self.lock_dir / name, staging / name)
            env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
            command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
            try:
                done = subprocess.run(
                    command, cwd=staging, env=env, capture_output=True, text=True, timeout=TIMEOUT_INSTALL
                )
            except (OSError, subprocess.SubprocessError) as exc:
                raise NpmToolError(f"npm ci failed: {exc}") from None
            if done.returncode != 0:
                tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
                raise NpmToolError(f"npm ci could not install {self.title} {self.pinned_version()}: {tail}")
            (staging / MARKER).write_text(self._lock_digest() + "\n")
            shutil.rmtree(self.home, ignore_errors=True)
            try:
                staging.rename(self.home)
            except OSError:
                if not self.installed():  # else another process finished the same install first
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return self.script()

    def _package_json(self) -> Path:
        return self.home / "node_modules" / self.package / "package.json"

    def _lock_digest(self) -> str:
        digest = hashlib.sha256()
        for name in LOCK_FILES:
            digest.update((self.lock_dir / name).read_bytes())
        return digest.hexdigest()
