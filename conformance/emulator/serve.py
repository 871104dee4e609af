"""``serve``: run the emulator over HTTP with uvicorn (loopback unless told otherwise)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import uvicorn

from conformance import contract
from conformance.emulator.app import create_app
from conformance.emulator.seed import load_seed


def serve(host: str = "127.0.0.1", port: int = 8000, db: Path | None = None, seed_file: Path | None = None) -> None:
    seed = load_seed(seed_file, contract.default()) if seed_file is not None else None
    app = create_app(db=db, seed=seed)
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


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
