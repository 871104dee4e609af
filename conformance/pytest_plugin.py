"""pytest plugin (entry point ``pytest11``): ``pytest --cekura`` runs the conformance suite as test items.

One item per property stage, then one per requirement (stages first, so a requirement's verdict includes
the property findings counted against it). Items only replay the engine's outcomes: failed raises an
AssertionError, errored any other exception, skipped ``pytest.skip`` with the reason. At the end of the
session the plugin writes ``summary.json`` (the source of truth) and ``junit.xml`` into the report dir.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conformance.engine import properties, results
from conformance.engine.catalogue import Requirement
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.errors import ConfigurationError, ConformanceFailure, SuiteError
from conformance.engine.outcomes import Status
from conformance.engine.redact import Scrubber
from conformance.engine.runner import Engine
from conformance.settings import RunOptions, RunSettings, build

_SESSION = pytest.StashKey["SuiteSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cekura-conformance", "Cekura widget PATCH conformance suite")
    group.addoption("--cekura", action="store_true", help="run the conformance suite")
    group.addoption("--cekura-base-url", default=None, help="target URL (default: the embedded emulator)")
    group.addoption("--cekura-api-key", default=None, help="API key (default: $CEKURA_API_KEY)")
    group.addoption("--cekura-other-api-key", default=None, help="a second tenant's key ($CEKURA_OTHER_API_KEY)")
    group.addoption("--cekura-metric-id", type=int, default=None, help="a metric id of the caller's")
    group.addoption("--cekura-profile", default="quick", help="quick, full or certify")
    group.addoption("--cekura-seed", type=int, default=None, help="seed for generation (reproducible runs)")
    group.addoption("--cekura-report-dir", default="reports", help="where summary.json and junit.xml go")
    group.addoption("--cekura-allow-production", action="store_true", help="allow api.cekura.ai as target")
    group.addoption("--cekura-tag", default=None, help="run tag put in fixture names (default: generated)")


class SuiteSession:
    """The engine for one pytest session, started by the first item that needs it."""

    def __init__(self, settings: RunSettings, tag: str | None) -> None:
        self.settings = settings
        self.engine = Engine(settings.target, settings.profile, seed=settings.seed, tag=tag)
        self.started = False
        self.fatal: str | None = None

    def ensure_started(self) -> Engine:
        if self.fatal:
            raise SuiteError(f"the run cannot go on: {self.fatal}")
        if not self.started:
            self.started = True
            try:
                self.engine.__enter__()
                self.engine.preflight()
            except SuiteError as exc:
                self.fatal = self.engine.result.fatal = f"{type(exc).__name__}: {exc}"
                raise
        return self.engine

    def finish(self) -> dict[str, Any]:
        result = self.engine.finish()
        data = results.summary(
            result,
            contract_version=self.engine.contract.version,
            contract_sha256=self.engine.contract.sha256,
            catalogue_sha256=self.engine.catalogue.sha256,
        )
        scrubber = Scrubber([self.settings.target.api_key, self.settings.target.other_api_key])
        results.write_summary(data, self.settings.report_dir, scrubber)
        results.write_junit(data, self.settings.report_dir, scrubber)
        from conformance.reporting import allure_files  # environment, categories, executor into allure-results

        allure_files.write_for_session(data, scrubber)
        return data


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cekura_requirement(id, level): a conformance requirement item")
    if not config.getoption("--cekura"):
        return
    try:
        settings = build(
            RunOptions(
                base_url=config.getoption("--cekura-base-url"),
                api_key=config.getoption("--cekura-api-key"),
                other_api_key=config.getoption("--cekura-other-api-key"),
                metric_id=config.getoption("--cekura-metric-id"),
                profile=config.getoption("--cekura-profile"),
                seed=config.getoption("--cekura-seed"),
                report_dir=Path(config.getoption("--cekura-report-dir")),
                allow_production=config.getoption("--cekura-allow-production"),
            )
        )
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from exc
    config.stash[_SESSION] = SuiteSession(settings, config.getoption("--cekura-tag"))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return None
    engine = session.engine
    return [
        f"cekura-conformance: target {engine.config.label}, profile {engine.profile.name}, seed {engine.seed}, "
        f"run tag {engine.tag}"
    ]


class SuiteCollector(pytest.Collector):
    def collect(self) -> Iterator[pytest.Item]:
        for name in properties.STAGES:
            yield StageItem.from_parent(self, name=f"stage[{name}]", stage=name)
        for requirement in default_catalogue().requirements:
            yield RequirementItem.from_parent(self, name=requirement.id, requirement=requirement)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if _SESSION not in config.stash:
        return
    collector = SuiteCollector.from_parent(session, name="cekura-conformance")
    items.extend(collector.collect())


class _SuiteItem(pytest.Item):
    def suite(self) -> SuiteSession:
        return self.config.stash[_SESSION]

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(os.getcwd()), 0, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure | SuiteError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class StageItem(_SuiteItem):
    def __init__(self, *, stage: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage = stage

    def runtest(self) -> None:
        from conformance.reporting import allure_view

        engine = self.suite().ensure_started()
        allure_view.annotate_stage(self.stage)
        [result] = engine.run_stages((self.stage,))
        allure_view.record_stage(result, engine.seed + properties.STAGES.index(self.stage))
        if result.error:
            raise SuiteError(f"stage {self.stage} broke: {result.error}")
        if result.findings:
            lines = [f"{f.check}: {f.title}\n    {f.message.splitlines()[0][:300]}" for f in result.findings.values()]
            raise ConformanceFailure(f"{len(result.findings)} finding(s) in stage {self.stage}:\n" + "\n".join(lines))


class RequirementItem(_SuiteItem):
    def __init__(self, *, requirement: Requirement, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.add_marker(pytest.mark.cekura_requirement(requirement.id, requirement.level.value))

    def runtest(self) -> None:
        from conformance.reporting import allure_view

        allure_view.annotate_requirement(self.requirement)
        engine = self.suite().ensure_started()
        outcome = engine.run_requirement(self.requirement)
        allure_view.record_cases(outcome.cases)
        if outcome.status is Status.FAILED:
            raise ConformanceFailure(f"{self.requirement.id} [{self.requirement.level.value}]: {outcome.reason}")
        if outcome.status is Status.ERRORED:
            raise SuiteError(f"{self.requirement.id}: {outcome.reason}")
        if outcome.status is Status.SKIPPED:
            pytest.skip(f"{self.requirement.id}: {outcome.reason}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    suite = session.config.stash.get(_SESSION, None)
    if suite is None:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        suite.engine.result.interrupted = "interrupted by Ctrl-C before the end of the run"
    suite.finish()
