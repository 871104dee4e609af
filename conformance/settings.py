"""Run settings shared by the CLI and the pytest plugin: options, environment fallbacks, defaults."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import contract as contract_module
from conformance.contract import Contract, UnknownRevision
from conformance.devkeys import TENANT_A_KEY, TENANT_B_KEY
from conformance.engine.errors import ConfigurationError
from conformance.engine.profiles import Profile, get
from conformance.engine.target import TargetConfig
from conformance.options import ENV_API_KEY as ENV_API_KEY
from conformance.options import ENV_OTHER_API_KEY as ENV_OTHER_API_KEY
from conformance.options import OPTION, plugin_args

# The embedded emulator's development keys (documented in the README).
EMBEDDED_KEY = TENANT_A_KEY
EMBEDDED_OTHER_KEY = TENANT_B_KEY
# Requests in flight at once against an HTTP target unless --concurrency says otherwise (benchmarks/
# bench_latency.py, 50 ms round trip, 2 cores: `quick` takes 92 s serial, 17.5 s with 8 workers, 12-13 s with 16,
# where the suite's own CPU time becomes the floor; 24 and 32 gain under 1 s more; see docs/ci.md). The embedded
# emulator runs in this process, one request at a time: workers would only take turns there.
DEFAULT_HTTP_CONCURRENCY = 16
EMBEDDED_CONCURRENCY = 1


@dataclass(frozen=True)
class RunSettings:
    target: TargetConfig
    profile: Profile
    seed: int | None
    report_dir: Path
    contract: Contract  # the revision the target is held to (the embedded emulator serves it)


@dataclass(frozen=True)
class RunOptions:
    """The run's options as given (CLI flags or ``--cekura-*`` pytest options), before validation: one field
    per declaration in ``conformance.options``, with its default."""

    base_url: str | None = None
    api_key: str | None = None
    other_api_key: str | None = None
    metric_id: int | None = None
    profile: str = OPTION["profile"].default
    seed: int | None = None
    report_dir: Path = OPTION["report_dir"].default
    allow_production: bool = False
    concurrency: int | None = None  # None: DEFAULT_HTTP_CONCURRENCY for an HTTP target, 1 embedded
    max_rps: float | None = None
    revision: str = OPTION["revision"].default

    def pytest_args(self) -> list[str]:
        """The same options as the pytest plugin's ``--cekura-*`` flags."""
        return plugin_args({name: getattr(self, name) for name in OPTION})


def _embedded_emulator(revision: str) -> Callable[[], Any]:
    """The embedded target's app factory: the emulator serving the run's revision."""

    def factory() -> Any:
        from conformance import emulator  # looked up when called, so a test may swap create_app

        return emulator.create_app(revision=revision)

    return factory


def build(options: RunOptions) -> RunSettings:
    """Validate options (ConfigurationError -> exit 2) and fill keys from the environment."""
    try:
        chosen_contract = contract_module.get(options.revision)
    except UnknownRevision as exc:
        raise ConfigurationError(f"--revision: {exc}") from None
    base_url = options.base_url
    api_key: str | None
    other_api_key: str | None
    if base_url is None:
        # The embedded emulator only knows its development keys: a CI job's own CEKURA_API_KEY (meant for
        # staging) must not make the default run fail. An explicit --api-key still applies.
        api_key = options.api_key or EMBEDDED_KEY
        other_api_key = options.other_api_key or EMBEDDED_OTHER_KEY
    else:
        api_key = options.api_key or os.environ.get(ENV_API_KEY) or None
        other_api_key = options.other_api_key or os.environ.get(ENV_OTHER_API_KEY) or None
    if api_key and other_api_key and api_key == other_api_key:
        raise ConfigurationError("--other-api-key must be another tenant's key, not the same key")
    concurrency = options.concurrency
    if concurrency is None:
        concurrency = DEFAULT_HTTP_CONCURRENCY if base_url is not None else EMBEDDED_CONCURRENCY
    target = TargetConfig(
        base_url=base_url.rstrip("/") if base_url else None,
        api_key=api_key,
        other_api_key=other_api_key,
        metric_id=options.metric_id,
        allow_production=options.allow_production,
        concurrency=concurrency,
        max_rps=options.max_rps,
        app_factory=_embedded_emulator(chosen_contract.revision) if base_url is None else None,
    )
    target.check()
    chosen = get(options.profile)
    seed = options.seed
    if seed is not None and chosen.fixed_seed is not None and seed != chosen.fixed_seed:
        raise ConfigurationError(f"the {chosen.name} profile always runs with seed {chosen.fixed_seed}")
    report_dir = Path(options.report_dir)
    check_report_dir(report_dir)
    return RunSettings(target, chosen, seed, report_dir, chosen_contract)


def check_report_dir(path: Path) -> None:
    """The report dir is, or can become, a writable directory: checked before anything is sent."""
    if path.exists() and not path.is_dir():
        raise ConfigurationError(f"--report-dir {path} is a file, not a directory: give a directory")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigurationError(f"--report-dir {path}: {existing} is a file, not a directory: give another path")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"--report-dir {path} is not writable ({exc.strerror or exc}): give a directory you can write to"
        ) from None
