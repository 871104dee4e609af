"""The one HTTP seam: an httpx client for the target, with timeouts, bounded retries and a recorder."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from conformance.engine import exchanges, redact
from conformance.engine.concurrency import Baton
from conformance.engine.errors import ConfigurationError, RateLimited, TargetUnavailable
from conformance.engine.interrupt import Interruption
from conformance.engine.ledger import KINDS, Ledger
from conformance.engine.outcomes import Exchange
from conformance.engine.throttle import Throttle

API_KEY_HEADER = "X-CEKURA-API-KEY"
PRODUCTION_HOSTS = frozenset({"api.cekura.ai"})
EMBEDDED = "embedded"
# A key no tenant has: the "wrong key" probes send it.
INVALID_KEY = "cwc-invalid-key-0000"


_C = TypeVar("_C")  # what a thread collects: a Recorder or a Tally


@dataclass(frozen=True)
class TargetConfig:
    """Where the suite sends requests and as whom."""

    base_url: str | None = None  # None: the embedded emulator, in-process
    api_key: str | None = None
    other_api_key: str | None = None
    metric_id: int | None = None
    timeout: float = 10.0
    connect_timeout: float = 4.0
    retries: int = 2
    rate_limit_retries: int = 5  # a 429 asks to come back later: it gets more tries than a dropped connection
    max_retry_after: float = 5.0
    allow_production: bool = False
    concurrency: int = 1  # requests in flight at once, at most (one per worker)
    max_rps: float | None = None  # requests started per second, at most, all workers together
    # The embedded target's ASGI app factory (a faulty variant in selftest); None means the emulator.
    app_factory: Callable[[], Any] | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        return self.base_url or EMBEDDED

    def check(self) -> None:
        """Refuse configurations that must never run (exit 2)."""
        if self.base_url is None:
            return
        parts = urlsplit(self.base_url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ConfigurationError(f"--base-url must be an http(s) URL, got {self.base_url!r}")
        if parts.hostname in PRODUCTION_HOSTS and not self.allow_production:
            raise ConfigurationError(
                f"refusing the production host {parts.hostname}: the suite creates and deletes objects; "
                "pass --allow-production if you really mean it"
            )
        if not self.api_key:
            raise ConfigurationError("an API key is needed: --api-key or CEKURA_API_KEY")
        if self.concurrency < 1:
            raise ConfigurationError(f"--concurrency must be 1 or more, got {self.concurrency}")
        if self.max_rps is not None and not self.max_rps > 0:
            raise ConfigurationError(f"--max-rps must be a positive number of requests per second, got {self.max_rps}")


@dataclass(frozen=True)
class Sent:
    """One request the run sent and the status it got, for observers (contract coverage)."""

    activity: str  # who sent it: a case, a property stage, the preflight, the cleanup (``Target.acting``)
    tenant: str  # "primary", "other", "invalid" or "none" (``Target.tenant_of``)
    method: str
    path: str  # below the base URL: "/dashboards/widgets/17/"
    content: bytes | None
    status: int
    # The whole answer (its request included), for observers that keep more than the status (differential capture).
    response: httpx.Response | None = field(default=None, compare=False, repr=False)


class Recorder:
    """Collects the exchanges of the current case, for reports and curl reproducers."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)


class Tally:
    """How many requests one thread sent inside a block (a stage's part, whatever the other workers send)."""

    def __init__(self) -> None:
        self.requests = 0


class Target:
    """Sends requests to the target through one httpx client.

    Retries only connection errors (``retries`` times; then ``TargetUnavailable``: the run cannot go on) and 429
    (``rate_limit_retries`` times, honouring Retry-After; then ``RateLimited``: what sent it errors, never fails);
    anything else is the target's answer and is returned as is.

    Every request passes here, so this is where the run's ledger learns of each object created (a POST to a
    collection answered with an id), whoever sent it, and where a stopped run sends nothing more.

    Workers (``--concurrency``) share the one client (a pool of keep-alive connections, one per worker) and
    hand the baton over while they wait (``conformance.engine.concurrency``); the run's pace is the
    ``Throttle``'s: a 429 pauses every worker, ``--max-rps`` spaces them all. What is recorded (exchanges,
    tallies) is per thread, so a case's report never holds another worker's requests.
    """

    def __init__(
        self,
        config: TargetConfig,
        scrub: redact.Scrubber | None = None,
        *,
        ledger: Ledger | None = None,
        interruption: Interruption | None = None,
    ) -> None:
        config.check()
        self.config = config
        self.scrub = scrub or redact.Scrubber([config.api_key, config.other_api_key])
        self.ledger = ledger if ledger is not None else Ledger("", config.label, scrub=self.scrub)
        self.interruption = interruption or Interruption()
        self.baton = Baton()
        self.throttle = Throttle(config.max_rps)
        self._local = threading.local()  # this thread's recorders and tallies
        self._count_lock = threading.Lock()
        # Called with every answered request (from the thread that sent it); they must be thread-safe.
        self.observers: list[Callable[[Sent], None]] = []
        self._activity = threading.local()
        self.requests_sent = 0
        self._stack = contextlib.ExitStack()
        self.client = self._stack.enter_context(self._build_client())
        self.base_url = str(self.client.base_url).rstrip("/")
        self._base_path = urlsplit(self.base_url).path.rstrip("/")

    def _build_client(self) -> httpx.Client:
        timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
        if self.config.base_url is not None:
            # A connection per worker, kept alive, and one more for the main thread's cleanup.
            size = self.config.concurrency + 1
            limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
            return httpx.Client(base_url=self.config.base_url, timeout=timeout, follow_redirects=False, limits=limits)
        from conformance.emulator import create_app
        from conformance.engine.inprocess import InProcessTransport

        app = self.config.app_factory() if self.config.app_factory else create_app()
        return httpx.Client(
            transport=InProcessTransport(app), base_url="http://embedded", timeout=timeout, follow_redirects=False
        )

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Target:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key_for(self, auth: str) -> str | None:
        if auth == "primary":
            return self.config.api_key
        if auth == "other":
            return self.config.other_api_key
        if auth == "invalid":
            return INVALID_KEY
        return None

    def _mine(self, name: str) -> list[Any]:
        found: list[Any] = self._local.__dict__.setdefault(name, [])
        return found

    @contextlib.contextmanager
    def _collecting(self, name: str, collector: _C) -> Iterator[_C]:
        """``collector`` sees what this thread sends inside the block (the ``name`` list of this thread's)."""
        collectors = self._mine(name)
        collectors.append(collector)
        try:
            yield collector
        finally:
            collectors.remove(collector)

    def recording(self) -> contextlib.AbstractContextManager[Recorder]:
        """The exchanges this thread sends inside the block."""
        return self._collecting("recorders", Recorder())

    def tally(self) -> contextlib.AbstractContextManager[Tally]:
        """How many requests this thread sends inside the block."""
        return self._collecting("tallies", Tally())

    def _count(self) -> None:
        with self._count_lock:
            self.requests_sent += 1
        for counted in self._mine("tallies"):
            counted.requests += 1

    @contextlib.contextmanager
    def acting(self, activity: str) -> Iterator[None]:
        """Name who sends the requests of this thread until the block ends (observers see it)."""
        previous = getattr(self._activity, "name", None)
        self._activity.name = activity
        try:
            yield
        finally:
            self._activity.name = previous

    def _observe(
        self, method: str, url: str, headers: Mapping[str, str], content: bytes | None, response: httpx.Response
    ) -> None:
        if self.observers:
            sent = Sent(
                getattr(self._activity, "name", None) or "run",
                self.tenant_of(headers),
                method.upper(),
                self._api_path(url),
                content,
                response.status_code,
                response,
            )
            for observer in self.observers:
                observer(sent)

    def _headers(self, auth: str) -> dict[str, str]:
        """What every request of the suite's own carries: JSON accepted, and the key of ``auth``'s tenant."""
        headers = {"Accept": "application/json"}
        key = self.key_for(auth)
        if key is not None:
            headers[API_KEY_HEADER] = key
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        auth: str = "primary",
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        all_headers = self._headers(auth)
        if headers:
            all_headers.update(headers)
        if json is not None and content is None:
            import json as _json

            content = _json.dumps(json).encode()
            content_type = content_type or "application/json"
        if content_type:
            all_headers["Content-Type"] = content_type
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        return self.send(method, url, headers=all_headers, content=content, params=params)

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one request with the retry policy and record it; raise TargetUnavailable if it never answers."""
        path = self._api_path(url)
        creates = KINDS.get(path) if method.upper() == "POST" else None
        attempt = limited = 0  # retries after a connection error; after a 429
        while True:
            self.interruption.check()  # a stopped run sends nothing more
            failed: httpx.TransportError | None = None
            with self.baton.released():  # another worker runs while this one waits
                wait = self.throttle.reserve()
                if wait > 0:
                    self.interruption.sleep(wait)
                started = time.perf_counter()
                self._count()
                try:
                    if creates is None:
                        response = self.client.request(
                            method, url, headers=dict(headers), content=content, params=params
                        )
                    else:
                        response = self._create(creates, method, url, headers, content, params)
                except httpx.TransportError as exc:
                    failed = exc
                    if attempt < self.config.retries:
                        self.interruption.sleep(0.25 * (attempt + 1))
            if failed is not None:
                if attempt >= self.config.retries:
                    raise TargetUnavailable(
                        f"{self.config.label} did not answer {method} {urlsplit(url).path}: {type(failed).__name__}"
                        f"{': ' + str(failed) if str(failed) else ''}"
                    ) from failed
                attempt += 1
                continue
            if response.status_code == 429:
                self.throttle.pause(self._retry_after(response))  # every worker waits, not only this one
                if limited < self.config.rate_limit_retries:
                    limited += 1
                    continue
            self._record(method, response, content, (time.perf_counter() - started) * 1000)
            self._observe(method, url, headers, content, response)
            if response.status_code == 429:
                raise RateLimited(
                    f"{self.config.label} answered {method} {urlsplit(url).path} with 429 Too Many Requests "
                    f"{limited + 1} times: the request could not be judged; lower --concurrency or set --max-rps "
                    "under the target's rate limit"
                )
            return response

    def _create(
        self,
        kind: str,
        method: str,
        url: str,
        headers: Mapping[str, str],
        content: bytes | None,
        params: Mapping[str, Any] | None,
    ) -> httpx.Response:
        """A POST that may create an object: the ledger has it before anything else runs, a signal included."""
        with self.interruption.protected():
            post = self.ledger.posting(kind, self.tenant_of(headers))
            response = self.client.request(method, url, headers=dict(headers), content=content, params=params)
            self.interruption.answered()
            self.ledger.answered(post, response)
        return response

    def request_now(self, method: str, path: str, *, auth: str, timeout: float | None) -> httpx.Response:
        """One request outside the run's flow (cleanup): sent even after a stop, no retry, its own timeout."""
        headers = self._headers(auth)
        self._count()
        response = self.client.request(
            method,
            f"{self.base_url}{path}",
            headers=headers,
            timeout=httpx.Timeout(timeout) if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        self._observe(method, path, headers, None, response)
        return response

    def tenant_of(self, headers: Mapping[str, str]) -> str:
        """Which tenant a request speaks for, by its key header (the ledger names tenants, never keys)."""
        key = next((v for k, v in headers.items() if k.lower() == API_KEY_HEADER.lower()), None)
        if key is None:
            return "none"
        if key == self.config.api_key:
            return "primary"
        if key == self.config.other_api_key:
            return "other"
        return "invalid"

    def _api_path(self, url: str) -> str:
        path = urlsplit(url).path
        return path[len(self._base_path) :] if self._base_path and path.startswith(self._base_path) else path

    def _retry_after(self, response: httpx.Response) -> float:
        value = response.headers.get("Retry-After", "1")
        try:
            return min(max(float(value), 0.0), self.config.max_retry_after)
        except ValueError:
            return 1.0

    def _record(self, method: str, response: httpx.Response, content: bytes | None, elapsed: float) -> None:
        recorders = self._mine("recorders")
        if not recorders:
            return
        request = response.request
        exchange = Exchange(
            method=method.upper(),
            url=str(request.url),
            request_headers=redact.headers(request.headers.items()),
            request_body=self._text(content),
            status=response.status_code,
            response_headers=redact.headers(response.headers.items()),
            response_body=self._text(response.content),
            elapsed_ms=round(elapsed, 2),
            curl=self.scrub(redact.curl(method, str(request.url), dict(request.headers.items()), content)),
        )
        for recorder in recorders:
            recorder.add(exchange)

    def _text(self, data: bytes | None) -> str | None:
        return exchanges.body_text(data, self.scrub)
