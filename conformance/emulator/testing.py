"""The emulator as a test double for clients of the Cekura widget API: in-process httpx transports (no socket) and a
loopback server, on either revision of the contract, with a reset back to the seed state.

    import httpx
    from conformance.emulator import DEFAULT_KEYS, transport

    with httpx.Client(transport=transport(revision="live"), base_url="http://cekura-emulator",
                      headers={"X-CEKURA-API-KEY": DEFAULT_KEYS["tenant-a"]}) as client:
        client.patch("/dashboards/widgets/1/", json={"chart_type": "stat", "field": ""})

The pytest fixture ``cekura_emulator`` (registered by the package's pytest plugin) yields a ``ServedEmulator``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from conformance import contract as contract_module
from conformance.emulator.app import create_app
from conformance.emulator.seed import DEFAULT_KEYS
from conformance.engine.inprocess import InProcessTransport

#: The base URL to give an httpx client over an in-process transport (any host works; this one says what it is).
IN_PROCESS_URL = "http://cekura-emulator"
API_KEY_HEADER = "X-CEKURA-API-KEY"


@dataclass
class Emulator:
    """One emulator serving ``revision``, whose state ``reset()`` puts back to the seed (tenants, keys, objects).

    Transports made by ``transport()`` and ``async_transport()`` keep serving it across resets.
    """

    revision: str = contract_module.DEFAULT_REVISION
    options: Mapping[str, Any] = field(default_factory=dict)  # more create_app options (guesses, behaviour...)
    base_url: str = IN_PROCESS_URL
    keys: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS))

    def __post_init__(self) -> None:
        contract_module.get(self.revision)  # UnknownRevision now, not at the first request
        self.app = self._fresh()

    def _fresh(self) -> Any:
        return create_app(revision=self.revision, **self.options)

    @property
    def api_key(self) -> str:
        """The first tenant's key (dashboard 1, widget 1, metrics 1 and 2)."""
        return self.keys["tenant-a"]

    @property
    def other_api_key(self) -> str:
        """The second tenant's key (dashboard 2, widget 2, metrics 3 and 4)."""
        return self.keys["tenant-b"]

    @property
    def headers(self) -> dict[str, str]:
        return {API_KEY_HEADER: self.api_key}

    def reset(self) -> None:
        """Back to the seed state: every object a test created or changed is gone."""
        previous, self.app = self.app, self._fresh()
        previous.state.store.close()

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)  # the current app, whatever reset() put there

    def transport(self) -> httpx.BaseTransport:
        """A synchronous in-process transport: ``httpx.Client(transport=..., base_url=IN_PROCESS_URL)``."""
        return InProcessTransport(self._asgi)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An asynchronous in-process transport: ``httpx.AsyncClient(transport=..., base_url=IN_PROCESS_URL)``."""
        return httpx.ASGITransport(app=self._asgi)

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the in-process transport, with the first tenant's key."""
        return httpx.Client(transport=self.transport(), base_url=self.base_url, headers=self.headers, **kwargs)


def transport(revision: str = contract_module.DEFAULT_REVISION, **options: Any) -> httpx.BaseTransport:
    """A synchronous httpx transport to a fresh emulator serving ``revision``, in-process (no socket)."""
    return Emulator(revision, options).transport()


def async_transport(revision: str = contract_module.DEFAULT_REVISION, **options: Any) -> httpx.AsyncBaseTransport:
    """An asynchronous httpx transport to a fresh emulator serving ``revision``, in-process (no socket)."""
    return Emulator(revision, options).async_transport()


class ServedEmulator(Emulator):
    """An ``Emulator`` also served over HTTP on 127.0.0.1 (a free port) from a thread, for clients that make their
    own connections; ``base_url`` is its address. ``close()`` stops it."""

    def __post_init__(self) -> None:
        super().__post_init__()
        import uvicorn

        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        config = uvicorn.Config(self._asgi, interface="asgi3", log_level="error", access_log=False, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [listener]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the emulator did not start serving")
            time.sleep(0.01)
        self._listener = listener

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._listener.close()
        self.app.state.store.close()


__all__ = ["IN_PROCESS_URL", "Emulator", "ServedEmulator", "async_transport", "transport"]
