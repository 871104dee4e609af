"""uvicorn's httptools protocol, writing each response in one piece.

uvicorn writes a response's status line and headers as soon as the app sends them, and its body when that
comes: two writes, two TCP segments and two system calls for every answer (on loopback, a third of the
emulator's time per PATCH went into them). Here the head waits for the body (or the connection's end) and both
leave in one write. Nothing else changes: a ``100 Continue`` goes out at once, as it must, and so does the head
of an answer to HEAD (which has no body to wait for).

It hooks ``HttpToolsProtocol._start_asgi_task``, where each request's cycle starts; a uvicorn without that method
(or without httptools) serves with its own protocol, unchanged (``protocol()`` says which).
"""

from __future__ import annotations

import asyncio
from typing import Any

_HEAD = b"HTTP/1."
_CONTINUE = (b"HTTP/1.1 100 ", b"HTTP/1.0 100 ")


class OneWrite:
    """A transport for one response: its head is held back until the body is written (or it closes)."""

    def __init__(self, transport: asyncio.Transport, *, hold: bool = True) -> None:
        self._transport = transport
        self._hold = hold  # False for HEAD: uvicorn writes no body at all then
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._hold and self._head is None and data.startswith(_HEAD) and not data.startswith(_CONTINUE):
            self._head = data
            return
        if self._head is not None:
            data, self._head = self._head + data, None
        self._transport.write(data)

    def close(self) -> None:
        if self._head is not None:
            self._transport.write(self._head)
            self._head = None
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, ...: the real transport's
        return getattr(self._transport, name)


def protocol() -> type[asyncio.Protocol] | str:
    """The protocol ``uvicorn.run(http=...)`` takes: the one-write httptools protocol, or uvicorn's own choice."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # no httptools: uvicorn's h11 protocol
        return "h11"
    if not hasattr(HttpToolsProtocol, "_start_asgi_task"):
        return "httptools"

    class OneWriteHttpTools(HttpToolsProtocol):
        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            cycle.transport = OneWrite(cycle.transport, hold=cycle.scope["method"] != "HEAD")
            super()._start_asgi_task(cycle, app)

    return OneWriteHttpTools
