"""``create_app``: the Starlette application serving the fragment's operations over SQLite state."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from conformance import contract as contract_module
from conformance.contract import Contract
from conformance.emulator import jsonio
from conformance.emulator.behaviour import Behaviour
from conformance.emulator.errors import message
from conformance.emulator.seed import Seed, default_seed, plant
from conformance.emulator.store import Store
from conformance.emulator.timestamps import now_us


def _json(status: int, code: str) -> Response:
    return Response(jsonio.dumps({"detail": message(code)}), status_code=status, media_type="application/json")


async def _server_error(request: Request, exc: Exception) -> Response:
    # Last resort only: every known bad input has its own 4xx before reaching here.
    return _json(500, "server_error")


class _Endpoint:
    """A raw ASGI endpoint, so every method (undeclared ones too) reaches ``Behaviour.handle``."""

    def __init__(self, behaviour: Behaviour | None, path: str) -> None:
        self.behaviour = behaviour
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.behaviour is None:
            response = _json(404, "not_found")
        else:
            response = self.behaviour.render(await self.behaviour.handle(self.path, Request(scope, receive)))
        await response(scope, receive, send)


def create_app(
    *,
    db: str | Path | None = None,
    seed: Seed | None = None,
    behaviour: type[Behaviour] = Behaviour,
    max_body_bytes: int = 1 << 20,
    contract: Contract | None = None,
) -> Starlette:
    """The emulator: state in memory, or in the SQLite file ``db`` (seeded only while it holds nothing)."""
    contract = contract or contract_module.default()
    store = Store(db)
    if store.is_empty():
        with store.transaction():
            plant(store, seed or default_seed(), now_us())
    impl = behaviour(store, contract, max_body_bytes=max_body_bytes)
    routes: list[BaseRoute] = [Route(path, _Endpoint(impl, path)) for path in contract.document["paths"]]
    routes.append(Route("/{rest:path}", _Endpoint(None, "")))  # unknown paths: 404 before authentication
    app = Starlette(routes=routes, exception_handlers={Exception: _server_error})
    app.router.redirect_slashes = False  # Django answers a missing slash with 404 for non-GET; never redirect
    app.state.behaviour = impl
    app.state.store = store
    return app
