"""Each run option declared once (flag, environment variable, default, help, type): the argparse CLI
(``--base-url``), the pytest plugin (``--cekura-base-url``) and ``RunOptions.pytest_args`` are built from it.

``RunOptions`` (settings.py) has one field per declaration, under the same name.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.revisions import DEFAULT_REVISION

PLUGIN_PREFIX = "--cekura-"
ENV_API_KEY = "CEKURA_API_KEY"
ENV_OTHER_API_KEY = "CEKURA_OTHER_API_KEY"
REVISIONS_HELP = "seed (the documented seed-era endpoint, default) or live (the API as it is live today)"


@dataclass(frozen=True)
class RunOption:
    name: str  # the RunOptions field and the argparse dest
    help: str
    default: Any = None
    type: Callable[[str], Any] | None = None
    env: str | None = None  # read when the option is not given (settings.build, cleanup)
    choices: tuple[str, ...] | None = None  # checked by the CLI; the plugin leaves it to settings.build
    switch: bool = False  # a flag without a value (store_true)
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def plugin_flag(self) -> str:
        return PLUGIN_PREFIX + self.name.replace("_", "-")

    def _kwargs(self, default: Any, help: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"default": default, "help": help}
        if self.switch:
            kwargs["action"] = "store_true"
        if self.type is not None:
            kwargs["type"] = self.type
        if self.metavar is not None:
            kwargs["metavar"] = self.metavar
        return kwargs


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("base_url", "target URL; default: the embedded emulator, in-process"),
    RunOption("api_key", "API key (default: $CEKURA_API_KEY)", env=ENV_API_KEY),
    RunOption("other_api_key", "a second tenant's key (default: $CEKURA_OTHER_API_KEY)", env=ENV_OTHER_API_KEY),
    RunOption("metric_id", "a metric id of the caller's (else discovered)", type=int),
    RunOption("profile", "quick, full or certify (default: quick)", "quick", choices=("quick", "full", "certify")),
    RunOption("seed", "generation seed, for a reproducible run", type=int),
    RunOption("report_dir", "where the reports go (default: reports/)", Path("reports"), type=Path),
    RunOption("allow_production", "allow the production host api.cekura.ai", False, switch=True),
    RunOption(
        "concurrency",
        "requests in flight at once (default: 16 against --base-url, 1 for the embedded emulator); the results "
        "do not depend on it",
        type=int,
        metavar="N",
    ),
    RunOption(
        "max_rps",
        "start at most R requests per second, all workers together (a shared staging's rate limit)",
        type=float,
        metavar="R",
    ),
    RunOption(
        "revision", f"the contract revision the target is held to: {REVISIONS_HELP}", DEFAULT_REVISION, metavar="NAME"
    ),
)
OPTION: dict[str, RunOption] = {option.name: option for option in RUN_OPTIONS}
#: The target and how hard to press it: ``run``, ``certify`` and ``verify-certificate`` take them all.
TARGET_OPTIONS = ("base_url", "api_key", "other_api_key", "metric_id", "allow_production", "concurrency", "max_rps")


def add_cli(parser: argparse.ArgumentParser, *names: str, **overrides: Mapping[str, Any]) -> None:
    """The named options as CLI flags with their declared defaults; ``overrides[name]`` may change a
    subcommand's ``help`` or ``default`` (``verify-certificate`` re-runs into ``reports-rerun/``)."""
    for name in names:
        option, given = OPTION[name], overrides.get(name, {})
        kwargs = option._kwargs(given.get("default", option.default), given.get("help", option.help))
        if option.choices is not None:
            kwargs["choices"] = list(option.choices)
        parser.add_argument(option.flag, **kwargs)


def add_plugin(group: Any) -> None:
    """Every run option as a ``--cekura-*`` pytest option. Its default is None ("not given", so an option given
    without ``--cekura`` is noticed); ``from_plugin`` applies the declared default."""
    for option in RUN_OPTIONS:
        group.addoption(option.plugin_flag, **option._kwargs(None, option.help))


def from_plugin(getoption: Callable[[str], Any]) -> dict[str, Any]:
    """The ``--cekura-*`` values by RunOptions field, the declared default for one not given."""
    values = {option.name: getoption(option.plugin_flag) for option in RUN_OPTIONS}
    return {name: OPTION[name].default if value is None else value for name, value in values.items()}


def plugin_args(values: Mapping[str, Any]) -> list[str]:
    """The ``--cekura-*`` arguments that give these values (a switch only when on; None: left out)."""
    args: list[str] = []
    for option in RUN_OPTIONS:
        value = values[option.name]
        if option.switch:
            args += [option.plugin_flag] if value else []
        elif value is not None:
            args += [option.plugin_flag, str(value)]
    return args
