"""Run settings shared by the CLI and the pytest plugin: options, environment fallbacks, defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from conformance.engine.errors import ConfigurationError
from conformance.engine.profiles import Profile, get
from conformance.engine.target import TargetConfig

ENV_API_KEY = "CEKURA_API_KEY"
ENV_OTHER_API_KEY = "CEKURA_OTHER_API_KEY"
# The embedded emulator's development keys (documented in the README).
EMBEDDED_KEY = "cekura-dev-key-tenant-a"
EMBEDDED_OTHER_KEY = "cekura-dev-key-tenant-b"


@dataclass(frozen=True)
class RunSettings:
    target: TargetConfig
    profile: Profile
    seed: int | None
    report_dir: Path


def build(
    *,
    base_url: str | None,
    api_key: str | None,
    other_api_key: str | None,
    metric_id: int | None,
    profile: str,
    seed: int | None,
    report_dir: str | Path,
    allow_production: bool,
) -> RunSettings:
    """Validate options (ConfigurationError -> exit 2) and fill keys from the environment."""
    api_key = api_key or os.environ.get(ENV_API_KEY) or None
    other_api_key = other_api_key or os.environ.get(ENV_OTHER_API_KEY) or None
    if base_url is None:
        api_key = api_key or EMBEDDED_KEY
        other_api_key = other_api_key or EMBEDDED_OTHER_KEY
    if api_key and other_api_key and api_key == other_api_key:
        raise ConfigurationError("--other-api-key must be another tenant's key, not the same key")
    target = TargetConfig(
        base_url=base_url.rstrip("/") if base_url else None,
        api_key=api_key,
        other_api_key=other_api_key,
        metric_id=metric_id,
        allow_production=allow_production,
    )
    target.check()
    chosen = get(profile)
    if seed is not None and chosen.fixed_seed is not None and seed != chosen.fixed_seed:
        raise ConfigurationError(f"the {chosen.name} profile always runs with seed {chosen.fixed_seed}")
    return RunSettings(target, chosen, seed, Path(report_dir))
