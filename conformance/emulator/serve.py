"""``serve``: run the emulator over HTTP with uvicorn (loopback unless told otherwise)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import uvicorn
import yaml

from conformance import contract
from conformance.emulator.app import create_app
from conformance.emulator.guesses import guesses_from_options
from conformance.emulator.protocol import protocol
from conformance.emulator.seed import Seed, default_seed, load_seed


class SeedFileError(Exception):
    """The ``--seed-file`` cannot be read or is not a seed: the user's mistake, told in one line."""


def read_seed_file(path: Path, revision: str = contract.DEFAULT_REVISION) -> Seed:
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise SeedFileError(f"--seed-file {path} {what}: give a YAML or JSON seed file")
    try:
        return load_seed(path, contract.get(revision))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as exc:
        why = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise SeedFileError(f"--seed-file {path} is not a valid seed: {why}") from None


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db: Path | None = None,
    seed_file: Path | None = None,
    guesses: Sequence[str] = (),
    revision: str = contract.DEFAULT_REVISION,
) -> None:
    """Serve ``revision`` of the contract until interrupted; ``guesses`` are ``NAME=VALUE`` switches applied over the
    seed file's. ``contract.UnknownRevision`` for a revision this suite does not ship."""
    served = contract.get(revision)
    seed = read_seed_file(seed_file, revision) if seed_file is not None else default_seed()
    chosen = guesses_from_options(guesses, seed.guesses)
    app = create_app(db=db, seed=seed, guesses=chosen, contract=served)
    print(startup_line(host, port, [t.key for t in app.state.store.tenants()], revision), flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,  # a loopback test server: no proxy to trust
        # The C parser and event loop roughly halve the CPU per request, a response in one write saves a system
        # call and a TCP segment more (protocol.py); uvicorn falls back without them.
        http=protocol() if _has("httptools") else "h11",
        loop="uvloop" if _has("uvloop") else "asyncio",
    )


def startup_line(host: str, port: int, keys: Sequence[str], revision: str = contract.DEFAULT_REVISION) -> str:
    """What a user needs to start: the URL, the contract revision served and the development keys (the first two
    tenants')."""
    shown = ", ".join(keys[:2]) if keys else "none (the seed has no tenant)"
    return (
        f"cekura emulator serving http://{host}:{port} (revision {revision}; X-CEKURA-API-KEY: {shown}); "
        "Ctrl-C stops it"
    )


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


__all__ = ["serve", "startup_line"]
