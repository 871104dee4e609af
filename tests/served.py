"""The reference emulator served over HTTP in a subprocess, for tests that need a real socket."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A faulty variant of the emulator served like the emulator: a test-only helper, not a public option.
_VARIANT = """
import sys
from pathlib import Path

import uvicorn

from conformance import contract
from conformance.emulator.app import create_app
from conformance.emulator.faults import get
from conformance.emulator.seed import load_seed

name, port, seed_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = load_seed(Path(seed_file), contract.default()) if seed_file else None
app = create_app(behaviour=get(name), seed=seed)
uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
"""


class Served:
    """``python -m conformance emulator`` on a free loopback port, as a subprocess.

    ``variant`` serves that faulty variant (``conformance.emulator.faults``) instead; ``--seed-file FILE`` is the
    only argument it takes.
    """

    def __init__(self, *args: str, variant: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = ""
        command = [sys.executable, "-m", "conformance", "emulator", "--port", str(self.port), *args]
        if variant is not None:
            seed_file = args[args.index("--seed-file") + 1] if "--seed-file" in args else ""
            command = [sys.executable, "-c", _VARIANT, variant, str(self.port), seed_file]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"emulator exited with {self.process.returncode}: {output}")
            try:
                httpx.get(self.url + "/test_framework/v1/metrics/", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the process; what it printed is then in ``output``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout and not self.process.stdout.closed:
            self.output = self.process.stdout.read().decode(errors="replace")
            self.process.stdout.close()


def seed_with_keys(path: Path, key_a: str, key_b: str) -> Path:
    """A seed file for two tenants with the given (recognisable) keys, two metrics and a filtered dashboard each."""
    tenants = []
    for key, name, metric in ((key_a, "alpha", 10), (key_b, "bravo", 20)):
        tenants.append(
            {
                "key": key,
                "name": name,
                "metrics": [{"id": metric, "name": f"{name} accuracy"}, {"id": metric + 1, "name": f"{name} latency"}],
                "dashboards": [
                    {"name": f"{name} board", "filters": {"field": "timestamp", "op": "gte", "value": "now-7d"}}
                ],
            }
        )
    path.write_text(yaml.safe_dump({"tenants": tenants}))
    return path
