"""A TCP proxy that adds a network round trip: each byte takes ``rtt/2`` each way, a new connection one ``rtt``.

It stands for the internet between a CI runner and a remote staging: a keep-alive HTTP request costs one round
trip, a request on a fresh connection two (the TCP handshake). Chunks keep their order and are never held back
by one another (each is due ``rtt/2`` after it arrived), so concurrent connections overlap as they would.

    python -m benchmarks.rtt_proxy --upstream 127.0.0.1:8000 [--port 0] [--rtt-ms 50]

or in-process: ``with RttProxy(upstream_host, upstream_port, rtt_ms=50) as proxy: proxy.url``; ``proxy.requests``
counts the HTTP requests that went through (chunks from a client that start with a method name).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import threading
import time
from collections.abc import Sequence
from types import TracebackType

LOOPBACK = "127.0.0.1"
_METHODS = (b"GET ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"HEAD ", b"OPTIONS ", b"TRACE ")


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # the proxy must cost less CPU than what it measures

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux
        loop = asyncio.new_event_loop()
    return loop


class RttProxy:
    """The proxy on its own event loop in a background thread (the benchmark process is otherwise idle)."""

    def __init__(self, upstream_host: str, upstream_port: int, *, rtt_ms: float = 50.0, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.half = rtt_ms / 2000.0
        self.rtt = rtt_ms / 1000.0
        self.requests = 0
        self.connections = 0
        self.first_request: float | None = None  # time.monotonic() of the first and last request since ``mark``
        self.last_request: float | None = None
        self.timeline: list[float] | None = None  # a list here collects every request's time.monotonic()
        self._port = port
        self._loop = _new_loop()
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def mark(self) -> None:
        """Start timing anew: ``first_request`` and ``last_request`` are since now."""
        self.first_request = self.last_request = None

    @property
    def port(self) -> int:
        assert self._server is not None
        sock: socket.socket = self._server.sockets[0]
        return int(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- the relay ---------------------------------------------------------------------------------------------
    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upstream: bool) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.ensure_future(deliver())
        # The first request on a new connection also waits for the handshake's round trip.
        extra = self.rtt if upstream else 0.0
        try:
            while chunk := await reader.read(65536):
                if upstream and chunk.startswith(_METHODS):
                    self.requests += 1
                    self.last_request = time.monotonic()
                    self.first_request = self.first_request or self.last_request
                    if self.timeline is not None:
                        self.timeline.append(self.last_request)
                queue.put_nowait((loop.time() + self.half + extra, chunk))
                extra = 0.0
        except (ConnectionError, OSError):
            pass
        queue.put_nowait((loop.time() + self.half, b""))
        with contextlib.suppress(ConnectionError, OSError):
            await sender

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                self._relay(client_reader, server_writer, upstream=True),
                self._relay(server_reader, client_writer, upstream=False),
            )
        except asyncio.CancelledError:
            pass  # the proxy is stopping
        finally:
            for writer in (server_writer, client_writer):
                writer.close()

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, LOOPBACK, self._port)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self.start())
        self._ready.set()
        self._loop.run_forever()

    def __enter__(self) -> RttProxy:
        self._thread = threading.Thread(target=self._run, name="rtt-proxy", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._thread is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the server behind the proxy")
    parser.add_argument("--port", type=int, default=0, help="port to listen on, on 127.0.0.1 (default: a free one)")
    parser.add_argument("--rtt-ms", type=float, default=50.0, help="round-trip time to add (default 50)")
    args = parser.parse_args(argv)
    host, _, port = args.upstream.rpartition(":")
    with RttProxy(host or LOOPBACK, int(port), rtt_ms=args.rtt_ms, port=args.port) as proxy:
        print(
            f"rtt proxy {proxy.url} -> {args.upstream}, +{args.rtt_ms:g} ms per round trip; Ctrl-C stops it", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
