"""A synchronous httpx transport that calls an ASGI app in-process: the embedded target needs no socket."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import httpx


class InProcessTransport(httpx.BaseTransport):
    """Runs each request through ``httpx.ASGITransport`` on a private event loop.

    App exceptions become 500 responses (as a server would answer), so a crashing variant is judged,
    not mistaken for a suite error. One request at a time: the loop is the app's one thread, as a
    single-process server's is (workers of a ``--concurrency`` run queue here).
    """

    def __init__(self, app: Any) -> None:
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            return self._handle(request)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, httpx.Headers, bytes]:
            inner = httpx.Request(request.method, request.url, headers=request.headers, content=content)
            response = await self._asgi.handle_async_request(inner)
            body = await response.aread()
            return response.status_code, response.headers, body

        task = self._loop.create_task(call())
        try:
            status, headers, body = self._loop.run_until_complete(task)
        except BaseException:
            # Interrupted (a signal) inside the loop: settle the task now, so nothing runs it later and asyncio
            # prints no "exception was never retrieved" / "destroyed but pending" traceback at exit.
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    self._loop.run_until_complete(task)
            if task.done() and not task.cancelled():
                task.exception()
            raise
        # A stream (not content=) so the client reads and closes it, which is what sets `.elapsed`.
        return httpx.Response(status, headers=headers, stream=httpx.ByteStream(body), request=request)

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._asgi.aclose())
            self._loop.close()
