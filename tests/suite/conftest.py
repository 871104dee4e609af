"""Fixtures for the suite's own tests: embedded targets whose state a test can inspect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from conformance.emulator import Behaviour, create_app
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY


class Embedded:
    """An embedded target whose app the test keeps, to look at what is left in its store."""

    def __init__(self, behaviour: type[Behaviour] = Behaviour, **config: Any) -> None:
        self.apps: list[Starlette] = []
        self.behaviour = behaviour
        self.config = TargetConfig(
            api_key=config.pop("api_key", EMBEDDED_KEY),
            other_api_key=config.pop("other_api_key", EMBEDDED_OTHER_KEY),
            app_factory=self._factory,
            **config,
        )

    def _factory(self) -> Starlette:
        app = create_app(behaviour=self.behaviour)
        self.apps.append(app)
        return app

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.apps[-1].state.store.query(f"SELECT id, name FROM {table} ORDER BY id")
        return rows


@pytest.fixture
def embedded() -> Callable[..., Embedded]:
    return Embedded


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HttpEmulator:
    """``cekura-conformance emulator`` in a subprocess on a loopback port, stopped on exit."""

    def __init__(self, *args: str) -> None:
        import subprocess
        import sys
        import time

        import httpx

        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "conformance", "emulator", "--port", str(self.port), *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.base_url + "/", timeout=1)
                return
            except httpx.TransportError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
