"""``serve``: run the emulator over HTTP with uvicorn (loopback unless told otherwise)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from conformance import contract
from conformance.emulator.app import create_app
from conformance.emulator.guesses import guesses_from_options
from conformance.emulator.seed import default_seed, load_seed


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db: Path | None = None,
    seed_file: Path | None = None,
    guesses: Sequence[str] = (),
) -> None:
    """Serve until interrupted; ``guesses`` are ``NAME=VALUE`` switches applied over the seed file's."""
    seed = load_seed(seed_file, contract.default()) if seed_file is not None else default_seed()
    chosen = guesses_from_options(guesses, seed.guesses)
    app = create_app(db=db, seed=seed, guesses=chosen)
    print(startup_line(host, port, [t.key for t in app.state.store.tenants()]), flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # a loopback test server: no proxy to trust
        # The C parser and event loop roughly halve the CPU per request; uvicorn falls back without them.
        http="httptools" if _has("httptools") else "h11",
        loop="uvloop" if _has("uvloop") else "asyncio",
    )


def startup_line(host: str, port: int, keys: Sequence[str]) -> str:
    """What a user needs to start: the URL and the development keys (the first two tenants')."""
    shown = ", ".join(keys[:2]) if keys else "none (the seed has no tenant)"
    return f"cekura emulator serving http://{host}:{port} (X-CEKURA-API-KEY: {shown}); Ctrl-C stops it"


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


__all__ = ["serve", "startup_line"]
