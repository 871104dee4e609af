"""conformance/options.py: each run option declared once, for the CLI, the pytest plugin and RunOptions."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from conformance import options
from conformance.cli import _options, build_parser
from conformance.settings import RunOptions

GIVEN = [
    *("--base-url", "http://127.0.0.1:9", "--api-key", "key-a", "--other-api-key", "key-b", "--metric-id", "5"),
    *("--profile", "full", "--seed", "7", "--report-dir", "out", "--allow-production"),
    *("--concurrency", "3", "--max-rps", "2.5", "--revision", "live"),
]


def _plugin_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()

    class Group:
        addoption = parser.add_argument

    options.add_plugin(Group())
    return parser


def test_run_options_has_one_field_per_declaration_with_its_default() -> None:
    fields = RunOptions.__dataclass_fields__
    assert list(fields) == [option.name for option in options.RUN_OPTIONS]
    assert RunOptions() == RunOptions(**{o.name: o.default for o in options.RUN_OPTIONS})


def test_cli_flags_become_the_same_options_through_the_plugin() -> None:
    given = _options(build_parser().parse_args(["run", *GIVEN]))
    assert given == RunOptions(
        base_url="http://127.0.0.1:9",
        api_key="key-a",
        other_api_key="key-b",
        metric_id=5,
        profile="full",
        seed=7,
        report_dir=Path("out"),
        allow_production=True,
        concurrency=3,
        max_rps=2.5,
        revision="live",
    )
    parsed = _plugin_parser().parse_args(given.pytest_args())
    values: dict[str, Any] = vars(parsed)
    assert RunOptions(**options.from_plugin(lambda flag: values[flag[2:].replace("-", "_")])) == given


def test_options_not_given_to_the_plugin_take_the_declared_defaults() -> None:
    values: dict[str, Any] = vars(_plugin_parser().parse_args([]))
    assert set(values.values()) == {None}  # "not given": the plugin refuses them without --cekura
    assert RunOptions(**options.from_plugin(lambda flag: values[flag[2:].replace("-", "_")])) == RunOptions()
    assert RunOptions().pytest_args() == [
        *("--cekura-profile", "quick", "--cekura-report-dir", "reports", "--cekura-revision", "seed")
    ]
