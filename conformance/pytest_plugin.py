"""pytest plugin (entry point ``pytest11``): ``pytest --cekura`` runs the conformance suite as test items.

One item per requirement, and nothing else, so pytest, the console, ``junit.xml``, ``summary.json`` and Allure
count the same things. The property stages run once, when the first item starts (after the preflight), if a
selected requirement claims property checks; their findings are failures of the requirements they break.
Items only replay the engine's outcomes: failed raises an AssertionError, errored any other exception, skipped
``pytest.skip`` with the reason. At the end of the
session the plugin writes ``summary.json`` (the source of truth), ``junit.xml`` and the run-level Allure
files into the report dir, and the session's exit status follows the verdict, as the CLI's does.

A requirement that does not decide conformance (SHOULD, MAY, a tentative MUST) and failed is reported as
**xfail** unless ``--cekura-strict``: the item did not pass, and the run tolerates it, which is pytest's own
meaning of xfail. It stays ``failed`` in summary.json, junit.xml and Allure.

SIGINT, SIGTERM and SIGHUP stop the run the same way (``conformance.engine.interrupt``): no new request,
every object in the ledger deleted by a deadline, the verdict ``interrupted``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from conformance.engine.errors import ConfigurationError, ConformanceFailure, SuiteError
from conformance.engine.interrupt import Interruption, RunInterrupted
from conformance.engine.outcomes import Status
from conformance.engine.verdict import ExitCode, Verdict
from conformance.options import RUN_OPTIONS, add_plugin, from_plugin

# The engine (schemathesis, Hypothesis) is imported only when --cekura asks for it: the plugin is loaded in
# every pytest session of an environment the package is installed in.
if TYPE_CHECKING:
    from conformance.engine.catalogue import Requirement
    from conformance.engine.runner import Engine
    from conformance.settings import RunSettings

_SESSION = pytest.StashKey["SuiteSession"]()
# The cekura_emulator fixture's servers, one per revision, started on first use and stopped with the session.
_EMULATORS = pytest.StashKey[dict[str, Any]]()
EMULATOR_REVISION_INI = "cekura_emulator_revision"
# pytest_keyboard_interrupt gets no config: the session's suite, while one runs.
_CURRENT: dict[str, SuiteSession] = {}
# The plugin's own options beside the run's (conformance/options.py); all only mean something with --cekura
# (their defaults are None: "not given").
STRICT, TAG = "--cekura-strict", "--cekura-tag"
SUITE_OPTIONS = (*(option.plugin_flag for option in RUN_OPTIONS), STRICT, TAG)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cekura-conformance", "Cekura widget PATCH conformance suite")
    group.addoption("--cekura", action="store_true", help="run the conformance suite")
    add_plugin(group)
    group.addoption(
        STRICT,
        action="store_true",
        default=None,
        help="SHOULD (and MAY) failures fail the session too (default: they show as xfail)",
    )
    group.addoption(TAG, default=None, help="run tag put in fixture names (default: generated)")
    parser.addini(
        EMULATOR_REVISION_INI,
        "contract revision the cekura_emulator fixture serves unless a test's marker says (seed or live)",
        default="seed",
    )


class SuiteSession:
    """The engine for one pytest session, started by the first item that needs it."""

    def __init__(self, settings: RunSettings, tag: str | None, *, strict: bool, allure_dir: Path | None = None) -> None:
        from conformance.engine.ledger import LEDGER
        from conformance.engine.runner import Engine

        self.settings = settings
        self.strict = strict
        self.allure_dir = allure_dir  # where allure-pytest records this session's results (None: nowhere)
        self.interruption = Interruption()
        self.engine: Engine = Engine(
            settings.target,
            settings.profile,
            seed=settings.seed,
            tag=tag,
            ledger_path=settings.report_dir / LEDGER,
            interruption=self.interruption,
            contract=settings.contract,
        )
        self.started = False
        self.fatal: str | None = None
        self.summary: dict[str, Any] | None = None
        self.needs_stages = True  # a selected requirement claims property checks (set after collection)
        self.stages_to_report: list[Any] = []  # the stages' results, for the Allure step of the item that ran them
        self.requirements: list[Requirement] | None = None  # the selection (set once collected)

    def ensure_started(self) -> Engine:
        """The engine, started by the first item: preflight, then the property stages if anything needs them."""
        from conformance.engine import properties

        if self.fatal:
            raise SuiteError(f"the run cannot go on: {self.fatal}")
        if not self.started:
            self.started = True
            stages = properties.STAGES if self.needs_stages else ()
            requirements = self.engine.catalogue.requirements if self.requirements is None else self.requirements
            try:
                self.engine.__enter__()
                self.engine.warm_up(stages)  # --concurrency: generation overlaps the preflight's round trips
                self.engine.preflight()
                # With --concurrency the selected requirements' cases start now too, beside the stages.
                self.engine.prefetch(stages, requirements)
                if stages:
                    self.stages_to_report = self.engine.run_stages(stages)
            except SuiteError as exc:
                self.fatal = self.engine.result.fatal = f"{type(exc).__name__}: {exc}"
                raise
        return self.engine

    def tolerated(self, counted: bool) -> bool:
        """Whether a failure of this kind leaves the session green (the CLI's verdict ignores it too)."""
        return not counted and not self.strict

    def finish(self) -> dict[str, Any]:
        from conformance.engine import results
        from conformance.engine.redact import Scrubber

        with self.interruption.finishing():  # a signal now changes the verdict, never the files' completeness
            result = self.engine.finish()
            data = results.summary(
                result,
                contract_version=self.engine.contract.version,
                contract_sha256=self.engine.contract.sha256,
                contract_revision=self.engine.contract.revision,
                catalogue_sha256=self.engine.catalogue.sha256,
            )
            scrubber = Scrubber([self.settings.target.api_key, self.settings.target.other_api_key])
            results.write_summary(data, self.settings.report_dir, scrubber)
            results.write_junit(data, self.settings.report_dir, scrubber)
            from conformance.reporting import allure_files  # environment, categories, executor into allure-results

            allure_files.write_for_session(data, scrubber, self.allure_dir)
        self.summary = data
        return data


@pytest.fixture
def cekura_emulator(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The reference emulator as a test double for a client of the Cekura widget API.

    Yields a ``conformance.emulator.ServedEmulator``: ``base_url`` (``http://127.0.0.1:PORT``, served from a thread of
    the test process), ``api_key`` and ``other_api_key`` (two tenants; ``keys`` has both), ``revision``, ``reset()``
    (back to the seed state; done before every test) and, for clients that take one, ``transport()`` and
    ``async_transport()`` (in-process, no socket). The revision is the test's ``@pytest.mark.cekura_emulator(
    revision="live")``, else the ``cekura_emulator_revision`` ini option, else ``seed``. One server per revision per
    session.
    """
    marker = request.node.get_closest_marker("cekura_emulator")
    chosen = marker.kwargs.get("revision") if marker is not None else None
    revision = str(chosen or request.config.getini(EMULATOR_REVISION_INI) or "seed")
    servers = request.config.stash.setdefault(_EMULATORS, {})
    served = servers.get(revision)
    if served is None:
        from conformance.emulator.testing import ServedEmulator  # only when a test asks for it

        served = servers[revision] = ServedEmulator(revision)
        request.config.add_cleanup(served.close)
    else:
        served.reset()
    yield served


def _given(config: pytest.Config) -> list[str]:
    return [flag for flag in SUITE_OPTIONS if config.getoption(flag) is not None]


@pytest.hookimpl(tryfirst=True)  # before allure-pytest reads --alluredir
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cekura_requirement(id, level): a conformance requirement item")
    config.addinivalue_line("markers", "cekura_emulator(revision): the contract revision cekura_emulator serves")
    if not config.getoption("--cekura"):
        given = _given(config)
        if given:
            raise pytest.UsageError(f"{', '.join(given)} given without --cekura: add --cekura to run the suite")
        return
    from conformance.engine.results import SUMMARY
    from conformance.settings import RunOptions, build

    try:
        settings = build(RunOptions(**from_plugin(config.getoption)))
    except ConfigurationError as exc:
        raise pytest.UsageError(str(exc)) from exc
    # Allure results go where the CLI puts them, unless the user chose a place.
    if getattr(config.option, "allure_report_dir", "absent") is None:
        config.option.allure_report_dir = str(settings.report_dir / "allure-results")
        config.option.clean_alluredir = True
    # allure-pytest's documented --alluredir, made absolute as allure-pytest does right after this hook.
    alluredir = config.getoption("allure_report_dir", None)
    allure_dir = Path(os.path.abspath(alluredir)) if alluredir else None
    # A summary left by an earlier run must not pass for this one's if this one judges nothing.
    (settings.report_dir / SUMMARY).unlink(missing_ok=True)
    suite = SuiteSession(settings, config.getoption(TAG), strict=bool(config.getoption(STRICT)), allure_dir=allure_dir)
    config.stash[_SESSION] = suite
    _CURRENT["suite"] = suite
    suite.interruption.install()
    config.add_cleanup(suite.interruption.uninstall)
    config.add_cleanup(_CURRENT.clear)
    _register_readable_messages(config)


def _register_readable_messages(config: pytest.Config) -> None:
    """Failure messages in Allure read as sentences, without the exception's module path."""
    import allure_commons

    from conformance.reporting.allure_view import ReadableMessages

    plugin = ReadableMessages()
    allure_commons.plugin_manager.register(plugin)
    config.add_cleanup(lambda: allure_commons.plugin_manager.unregister(plugin))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash.get(_SESSION, None)
    if session is None:
        return None
    engine = session.engine
    return [
        f"cekura-conformance: target {engine.config.label}, revision {engine.contract.revision}, profile "
        f"{engine.profile.name}, seed {engine.seed}, run tag {engine.tag}"
    ]


class SuiteCollector(pytest.Collector):
    def collect(self) -> Iterator[pytest.Item]:
        for requirement in self.config.stash[_SESSION].engine.catalogue.requirements:
            yield RequirementItem.from_parent(self, name=requirement.id, requirement=requirement)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if _SESSION not in config.stash:
        return
    collector = SuiteCollector.from_parent(session, name="cekura-conformance")
    items.extend(collector.collect())


def pytest_collection_finish(session: pytest.Session) -> None:
    """A selection (-k, --deselect, ...) runs part of the catalogue: its summary claims no verdict. The property
    stages run only if a selected requirement claims their checks."""
    suite = session.config.stash.get(_SESSION, None)
    if suite is None:
        return
    selected = [i.requirement for i in session.items if isinstance(i, RequirementItem)]
    suite.requirements = selected
    suite.needs_stages = any(r.checks for r in selected)
    total = len(suite.engine.catalogue.requirements)  # the requirements of the run's revision
    if len({r.id for r in selected}) < total:
        suite.engine.result.partial = (
            f"only a selection ran ({len(selected)} of {total} requirements): a verdict needs the whole catalogue"
        )


@contextlib.contextmanager
def _interruptible(item: pytest.Item) -> Iterator[None]:
    """A stop inside an item: the item is skipped (not judged), and pytest stops after it.

    The item then has its report (Allure shows it skipped, not passed), and pytest never renders the deep
    Hypothesis stack under the interruption (which costs seconds off the cleanup deadline).
    """
    try:
        yield
    except RunInterrupted as exc:
        item.session.shouldstop = f"stopped by {exc.reason}"
        pytest.skip(f"interrupted by {exc.reason} before this was judged")


class _SuiteItem(pytest.Item):
    tolerated: str | None = None  # why this item's failure does not fail the session (shown as xfail)

    def suite(self) -> SuiteSession:
        return self.config.stash[_SESSION]

    def reportinfo(self) -> tuple[Path, int, str]:
        return Path(os.getcwd()), 0, self.name

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ConformanceFailure | SuiteError):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))


class RequirementItem(_SuiteItem):
    def __init__(self, *, requirement: Requirement, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.requirement = requirement
        self.status: Status | None = None  # the engine's outcome, once it has one
        self.add_marker(pytest.mark.cekura_requirement(requirement.id, requirement.level.value))

    def runtest(self) -> None:
        with _interruptible(self):
            self._run()

    def _run(self) -> None:
        from conformance.reporting import allure_view

        requirement = self.requirement
        allure_view.annotate_requirement(requirement)
        try:
            self._judge()
        except RunInterrupted:
            self.status = self.status or Status.SKIPPED  # stopped before it was judged
            raise
        finally:
            # No outcome and no stop: the suite raised (an error), and the item is broken.
            allure_view.label_outcome(requirement, self.status or Status.ERRORED)

    def _judge(self) -> None:
        from conformance.reporting import allure_view

        requirement = self.requirement
        suite = self.suite()
        engine = suite.ensure_started()
        if suite.stages_to_report:  # this item started the run: its step says where the time went
            allure_view.record_stages(suite.stages_to_report)
            suite.stages_to_report = []
        outcome = engine.run_requirement(requirement)
        self.status = outcome.status
        allure_view.record_cases(outcome.cases)
        label = f"{requirement.id} [{requirement.level.value}{', tentative' if requirement.tentative else ''}]"
        if outcome.status in (Status.FAILED, Status.ERRORED) and suite.tolerated(requirement.counts_for_conformance):
            self.tolerated = f"{label} {outcome.status.value}, not counted for conformance: {outcome.reason}"
        if outcome.status is Status.FAILED:
            raise ConformanceFailure(f"{label}: {outcome.reason}")
        if outcome.status is Status.ERRORED:
            raise SuiteError(f"{requirement.id}: {outcome.reason}")
        if outcome.status is Status.SKIPPED:
            pytest.skip(f"{requirement.id}: {outcome.reason}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    """A tolerated failure becomes xfail for pytest, once allure-pytest (an inner wrapper) recorded it failed."""
    report = yield
    reason = getattr(item, "tolerated", None)
    if isinstance(item, _SuiteItem) and reason and report.when == "call" and report.failed:
        report.outcome = "skipped"
        report.wasxfail = reason
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Clean up at once: pytest's own handlers (the terminal's traceback rendering) take time off the deadline."""
    suite = _CURRENT.get("suite")
    if suite is None or suite.summary is not None:
        return
    suite.interruption.request(getattr(excinfo.value, "reason", type(excinfo.value).__name__))
    suite.finish()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    suite = session.config.stash.get(_SESSION, None)
    if suite is None:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        suite.interruption.request("KeyboardInterrupt")  # a no-op when a signal already said why
    if not suite.started and not suite.interruption.requested:
        return  # nothing was judged (collect-only, everything deselected): no verdict to write
    data = suite.summary if suite.summary is not None else suite.finish()
    session.exitstatus = _exit_status(data, int(session.exitstatus))


def _exit_status(summary: dict[str, Any], own: int) -> int:
    """The session's exit status follows the verdict, as the CLI's exit code does.

    A selection (``-k``) claims no verdict: its status is its items' (a failed MUST fails it). pytest's own
    internal and usage errors stand.
    """
    if own in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        return own
    verdict = Verdict(summary["verdict"])
    if verdict is Verdict.INTERRUPTED:
        return int(ExitCode.NO_VERDICT)
    if verdict is Verdict.CONFORMANT or summary.get("partial"):
        return own
    return int(summary["exit_code"])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    suite = config.stash.get(_SESSION, None)
    if suite is None or suite.summary is None or config.getoption("no_summary", False):
        return  # the CLI passes --no-summary: it prints the table and the verdict itself
    terminalreporter.write_sep("=", "cekura-conformance")
    from conformance.reporting import console

    for note in suite.summary.get("notes", []):
        terminalreporter.write_line(f"note: {note}")
    if console.coverage(suite.summary):
        terminalreporter.write_line(console.coverage(suite.summary))
    terminalreporter.write_line(suite.summary["verdict_line"])
    terminalreporter.write_line(f"reports: {suite.settings.report_dir}")
