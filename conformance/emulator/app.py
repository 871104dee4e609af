"""``create_app``: the Starlette application serving the fragment's operations over SQLite state."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Router
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance import contract as contract_module
from conformance.contract import Contract
from conformance.emulator import jsonio
from conformance.emulator.behaviour import DATA_UPLOAD_MAX_MEMORY_SIZE, Behaviour
from conformance.emulator.errors import message
from conformance.emulator.guesses import Guesses
from conformance.emulator.seed import Seed, default_seed, plant
from conformance.emulator.store import Store
from conformance.emulator.timestamps import now_us


def _server_error() -> Response:
    # Last resort only: every known bad input has its own 4xx before reaching here.
    body = jsonio.dumps({"detail": message("server_error")})
    return Response(body, status_code=500, media_type="application/json")


class _Endpoint:
    """A raw ASGI endpoint for every path and method: URL resolution is the Behaviour's (Django's rules).

    An exception in the Behaviour answers 500 (Django's handler500 with DEBUG off) and goes on to the server,
    which logs it, as Starlette's ServerErrorMiddleware would do.
    """

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = self.behaviour.render(await self.behaviour.dispatch(Request(scope, receive)))
        except Exception:
            await _server_error()(scope, receive, send)
            raise
        await response(scope, receive, send)


class _Direct:
    """HTTP straight to the endpoint; the rest (lifespan) to Starlette's router."""

    def __init__(self, router: Router, endpoint: _Endpoint) -> None:
        self.router, self.endpoint = router, endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.endpoint(scope, receive, send)
        else:
            await self.router(scope, receive, send)


class _Emulator(Starlette):
    """Starlette without its per-request layers (error and exception middleware, routing): the endpoint answers
    every path and handles its own last-resort 500, so they only cost time on the hot path."""

    def build_middleware_stack(self) -> ASGIApp:
        endpoint = self.router.default
        assert isinstance(endpoint, _Endpoint)
        app: ASGIApp = _Direct(self.router, endpoint)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(
    *,
    db: str | Path | None = None,
    seed: Seed | None = None,
    behaviour: type[Behaviour] = Behaviour,
    max_body_bytes: int = DATA_UPLOAD_MAX_MEMORY_SIZE,
    contract: Contract | None = None,
    guesses: Guesses | None = None,
    revision: str | None = None,
) -> Starlette:
    """The emulator: state in memory, or in the SQLite file ``db`` (seeded only while it holds nothing).

    It serves one revision of the contract: ``revision`` (``seed``, the default, or ``live``) or the ``contract``
    given. ``guesses`` (else the seed's) answers what the docs leave open; see ``conformance.emulator.guesses``.
    """
    if contract is not None and revision is not None and contract.revision != revision:
        raise ValueError(f"create_app: contract is revision {contract.revision!r}, revision says {revision!r}")
    contract = contract or contract_module.get(revision or contract_module.DEFAULT_REVISION)
    seed = seed or default_seed()
    guesses = guesses or seed.guesses
    store = Store(db)
    if store.is_empty():
        with store.transaction():
            plant(store, seed if guesses == seed.guesses else Seed(seed.tenants, guesses), now_us())
    impl = behaviour(store, contract, max_body_bytes=max_body_bytes, guesses=guesses)
    app = _Emulator()
    # No Starlette routes: every path (a newline in it too) reaches the Behaviour, which resolves it as Django does.
    app.router.default = _Endpoint(impl)
    app.router.redirect_slashes = False  # the slash redirect is Django's (CommonMiddleware), in the Behaviour
    app.state.behaviour = impl
    app.state.store = store
    app.state.contract = contract
    return app
