"""``cekura-conformance run``: validate options, run the suite through pytest, print the table and verdict."""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conformance.engine import preflight, results
from conformance.engine.errors import ConfigurationError
from conformance.engine.interrupt import as_keyboard_interrupt
from conformance.engine.throttle import Throttle
from conformance.engine.verdict import ExitCode, Verdict
from conformance.reporting import console
from conformance.settings import RunOptions, build


def _plugin_registered() -> bool:
    return any(ep.value == "conformance.pytest_plugin" for ep in entry_points(group="pytest11"))


def pytest_args(
    *,
    settings_args: list[str],
    report_dir: Path,
    workdir: Path,
) -> list[str]:
    """Arguments for an isolated pytest session: no test collected from the caller's directory or config."""
    ini = workdir / "pytest.ini"
    ini.write_text("[pytest]\n")
    args = [
        str(workdir),
        "-c",
        str(ini),
        "--rootdir",
        str(workdir),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:unraisableexception",  # its forced garbage collections at the end cost time and report nothing here
        "-q",
        "--tb=no",
        "-rN",
        "--no-summary",  # the command prints the table and the verdict itself, last
        "--assert=plain",  # the suite's modules are imported before pytest starts: nothing to rewrite
        "--cekura",
        *settings_args,
        "--alluredir",
        str(report_dir / "allure-results"),
        "--clean-alluredir",
    ]
    if not _plugin_registered():
        args[1:1] = ["-p", "conformance.pytest_plugin"]
    return args


def run_suite(options: RunOptions) -> int:
    """Run the suite; the exit code is the verdict's (``ExitCode``), read from the summary the run wrote.

    While pytest runs, the plugin handles SIGINT, SIGTERM and SIGHUP (cleanup, then ``interrupted``); around
    it, SIGTERM and SIGHUP end the command as Ctrl-C does, before anything was sent or after all was written.
    """
    try:
        with as_keyboard_interrupt():
            return _run_suite(options)
    except KeyboardInterrupt:
        print("cekura-conformance: interrupted outside the run: no verdict", file=sys.stderr)
        return ExitCode.NO_VERDICT


def _run_suite(options: RunOptions) -> int:
    try:
        preflight.check(build(options).target)  # the user's mistakes, before anything is created
    except ConfigurationError as exc:
        print(f"cekura-conformance: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    report_dir = options.report_dir.resolve()
    options = replace(options, report_dir=report_dir)
    summary_path = report_dir / results.SUMMARY
    summary_path.unlink(missing_ok=True)
    settings_args = options.pytest_args()
    with tempfile.TemporaryDirectory(prefix="cwc-pytest-") as tmp:
        code = pytest.main(pytest_args(settings_args=settings_args, report_dir=report_dir, workdir=Path(tmp)))
    if not summary_path.is_file():
        print(f"cekura-conformance: the run ended without a summary (pytest exit {int(code)})", file=sys.stderr)
        return ExitCode.USAGE if int(code) == pytest.ExitCode.USAGE_ERROR else ExitCode.NO_VERDICT
    data = json.loads(summary_path.read_text())
    print()
    if data.get("target_errors"):
        print(console.target_errors(data))
    if data["verdict"] != Verdict.INTERRUPTED:  # an interrupted run's table would list a fraction as if whole
        print(console.table(data))
        print()
        if console.coverage(data):
            print(console.coverage(data))
            print()
    throttled = Throttle.line(data.get("throttle"))
    if throttled:
        print(throttled)
    print(console.verdict(data))
    print(f"reports: {summary_path}, {report_dir / results.JUNIT}, {report_dir / 'allure-results'}")
    for note in data.get("notes") or []:
        print(f"note: {note}")
    fixtures = data.get("fixtures") or {}
    if options.base_url is not None and (fixtures.get("leftovers") or fixtures.get("unanswered_posts")):
        print(f"to delete what is left: cekura-conformance cleanup --report-dir {report_dir} (with the same keys)")
    return ExitCode(data["exit_code"])
