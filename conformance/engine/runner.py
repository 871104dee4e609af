"""Orchestrate a run: preflight, property stages, catalogue cases, per-requirement verdicts, cleanup."""

from __future__ import annotations

import contextlib
import random
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from conformance.contract import Contract
from conformance.contract import default as default_contract
from conformance.engine import cases, coverage, generation, properties
from conformance.engine.answers import utc_now
from conformance.engine.catalogue import Case, Catalogue, Requirement
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.concurrency import Halted, Pool, seeded
from conformance.engine.context import RunContext
from conformance.engine.errors import ConfigurationError, SuiteError, TargetUnavailable
from conformance.engine.fixtures import FixtureAnswerInvalid, FixtureError, Fixtures, new_tag
from conformance.engine.interrupt import POST_GRACE, Interruption, RunInterrupted, remaining
from conformance.engine.ledger import Ledger
from conformance.engine.outcomes import CaseResult, Status, worst
from conformance.engine.profiles import Profile
from conformance.engine.properties.findings import StageResult
from conformance.engine.properties.harness import PropertyGround
from conformance.engine.target import Target, TargetConfig
from conformance.engine.text import no_surrogates
from conformance.engine.verdict import Judgement, Outcome, decide


@dataclass
class RequirementResult:
    requirement: Requirement
    status: Status
    reason: str
    cases: list[CaseResult] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        req = self.requirement
        return {
            "id": req.id,
            "level": req.level.value,
            "title": req.title,
            "status": self.status.value,
            "reason": self.reason,
            "area": req.area,
            "tentative": req.tentative,
            "source": req.source,
            "checks": list(req.checks),
            "cases": [c.as_dict() for c in self.cases],
        }


@dataclass
class RunResult:
    profile: str
    seed: int
    target: str
    started_at: str
    finished_at: str = ""
    requirements: list[RequirementResult] = field(default_factory=list)
    stages: list[StageResult] = field(default_factory=list)
    fixtures: dict[str, Any] = field(default_factory=dict)
    fatal: str | None = None  # why the run ended early (the target stopped answering, the suite broke)
    interrupted: str | None = None  # what stopped the run (the signal, and what its cleanup did), if it was
    partial: str | None = None  # why only part of the catalogue ran (a pytest selection), if it did
    notes: list[str] = field(default_factory=list)  # for the person running it (an earlier run's leftovers)
    preflight_errors: list[str] = field(default_factory=list)  # the target's errors met in preflight
    refused: dict[str, int] = field(default_factory=dict)  # fixture refusals: "POST ... answered 500" -> times
    coverage: dict[str, Any] = field(default_factory=dict)  # the contract coverage map (engine/coverage.py)
    requests: int = 0
    seconds: float = 0.0
    concurrency: int = 1
    throttle: dict[str, Any] = field(default_factory=dict)  # 429 pauses and --max-rps (Throttle.as_dict)

    @property
    def counted(self) -> list[RequirementResult]:
        return [r for r in self.requirements if r.requirement.counts_for_conformance]

    @property
    def judgement(self) -> Judgement:
        """The verdict, from the one function that computes it."""
        outcomes = [
            Outcome(r.requirement.id, r.requirement.counts_for_conformance, r.status, r.reason)
            for r in self.requirements
        ]
        return decide(
            outcomes,
            fatal=self.fatal,
            interrupted=self.interrupted,
            partial=self.partial,
            target_errors=self.target_errors(),
        )

    def target_errors(self) -> list[str]:
        """The target's errors on supporting requests, each said once with a count, e.g.
        "POST /dashboards/widgets/ answered 500 for 40 fixtures: 30 requirements could not be judged"."""
        lines = list(self.preflight_errors)
        blocked: dict[str, set[str]] = {}
        for r in self.requirements:
            for case in r.cases:
                if case.status is Status.ERRORED and case.target_error:
                    ids = blocked.setdefault(case.target_error, set())
                    if r.status is Status.ERRORED:
                        ids.add(r.requirement.id)
        for what in sorted(set(self.refused) | set(blocked)):
            times = self.refused.get(what, 0)
            unjudged = len(blocked.get(what, ()))
            line = what + (f" for {times} fixture{'s' if times != 1 else ''}" if times else "")
            if unjudged:
                line += f": {unjudged} requirement{'s' if unjudged != 1 else ''} could not be judged"
            lines.append(line)
        return lines

    @property
    def conformant(self) -> bool:
        return self.judgement.conformant

    @property
    def exit_code(self) -> int:
        return int(self.judgement.exit_code)

    def totals(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for r in self.requirements:
            counts[r.status.value] += 1
        return counts


def verdict(requirement: Requirement, results: list[CaseResult]) -> RequirementResult:
    status = worst([r.status for r in results])
    if not results:
        reason = "no case or property check ran"
    elif status is Status.PASSED:
        passed = sum(r.status is Status.PASSED for r in results)
        reason = f"{passed} check{'' if passed == 1 else 's'} passed"
    else:
        first = next(r for r in results if r.status is status)
        if status is Status.ERRORED and first.target_error:
            # Said once for the whole run (RunResult.target_errors); the row only points at it.
            reason = f"not judged: {first.target_error} (the target's error)"
        else:
            reason = f"{first.name}: {first.message}".splitlines()[0][:300]
    return RequirementResult(requirement, status, reason, results)


def property_results(requirement: Requirement, stages: Iterable[StageResult]) -> list[CaseResult]:
    """The requirement's share of the property stages: a failure per finding, or one pass."""
    out: list[CaseResult] = []
    ran = [s for s in stages if not s.skipped]
    if not requirement.checks or not ran:
        return out
    for stage in ran:
        if stage.error:
            out.append(
                CaseResult(
                    requirement.id,
                    f"property stage {stage.name}",
                    Status.ERRORED,
                    stage.error,
                    kind="property",
                    target_error=stage.target_error,
                )
            )
        for finding in stage.findings.values():
            if finding.check in requirement.checks:
                out.append(
                    CaseResult(
                        requirement.id,
                        f"{finding.check} ({stage.name})",
                        Status.FAILED,
                        f"{finding.title}: {finding.message}",
                        exchanges=list(finding.exchanges),
                        curl=finding.curl,
                        seed=stage.seed,
                        minimal_example=finding.minimal_example,
                        kind="property",
                        stage=stage.name,
                        check=finding.check,
                        failed_exchange=len(finding.exchanges) - 1 if finding.exchanges else None,
                    )
                )
    if not any(r.status is not Status.PASSED for r in out):
        examples = sum(s.examples for s in ran)
        names = ", ".join(s.name for s in ran)
        out.append(
            CaseResult(
                requirement.id,
                f"property checks {', '.join(requirement.checks)}",
                Status.PASSED,
                f"no finding over {examples} generated requests ({names})",
                kind="property",
            )
        )
    return out


# At the end of a run, how long its workers get to end what they were doing (each stops at its next request).
DRAIN = 0.5


class _StageJob:
    """A stage's parts submitted to the pool; an explicit stage's parts are known once its cases are generated."""

    def __init__(self, stage: properties.Stage) -> None:
        self.stage = stage
        self.prepared_at: float | None = None  # when an explicit stage's generation started
        self.parts: Future[list[Future[properties.PartResult]]] = Future()


class Engine:
    """One run against one target. Use as a context manager: fixtures are always cleaned up on exit.

    ``ledger_path``: where the ledger file goes (for ``cekura-conformance cleanup`` after a kill); None keeps
    the ledger in memory. ``interruption``: the run's stop state, whose signal handlers the caller installs.

    With ``config.concurrency`` above 1, ``prefetch`` submits the stages' parts and the catalogue's cases to
    worker threads; ``run_stages`` and ``run_requirement`` then collect their results, in the order they are
    asked for (the catalogue's), so reports never follow completion order. At 1 everything runs in the
    caller's thread when asked, as the same units in the same order with the same seeds.

    ``contract``: the revision judged (default: the seed revision); only the requirements that apply to it run.
    """

    def __init__(
        self,
        config: TargetConfig,
        profile: Profile,
        *,
        seed: int | None = None,
        catalogue: Catalogue | None = None,
        tag: str | None = None,
        ledger_path: Path | None = None,
        interruption: Interruption | None = None,
        contract: Contract | None = None,
    ) -> None:
        self.profile = profile
        self.seed = seed if seed is not None else (profile.fixed_seed or random.randrange(1, 2**31))
        # The run's revision of the contract: every check, generator and the embedded emulator follow it.
        self.contract = contract or default_contract()
        self.catalogue = (catalogue or default_catalogue()).for_revision(self.contract.revision)
        self.coverage = coverage.Collector(self.contract)
        self.config = config
        self.tag = tag or new_tag()
        self.result = RunResult(profile.name, self.seed, config.label, utc_now(), concurrency=config.concurrency)
        self._started = time.perf_counter()
        self.target: Target | None = None
        self.ctx: RunContext | None = None
        self.interruption = interruption or Interruption()
        self.ledger_path = ledger_path
        self._ground: PropertyGround | FixtureError | FixtureAnswerInvalid | None = None
        self._pool: Pool | None = None
        self._stage_jobs: dict[str, _StageJob] = {}
        self._generated: dict[str, Future[list[Any]]] = {}  # explicit stages' cases, generating ahead (warm_up)
        self._generating_since: dict[str, float] = {}
        self._case_jobs: dict[str, list[Future[CaseResult]]] = {}
        self._generation = contextlib.ExitStack()

    def __enter__(self) -> Engine:
        self._generation.enter_context(generation.suite_generation())
        target = Target(self.config, interruption=self.interruption)
        target.ledger = Ledger(self.tag, self.config.label, self.ledger_path, scrub=target.scrub)
        try:
            note = target.ledger.open(self.result.started_at)
        except OSError as exc:
            target.close()
            self._generation.close()
            raise ConfigurationError(f"cannot write the ledger {self.ledger_path}: {exc.strerror or exc}") from None
        self.result.notes += [note] if note else []
        target.observers.append(self.coverage.observe)
        self.target = target
        self.ctx = RunContext(self.target, Fixtures(self.target, self.tag), self.contract, self.seed)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, KeyboardInterrupt):  # however it came (a signal, or raised in-process)
            self.interruption.request(getattr(exc, "reason", "KeyboardInterrupt"))
        self.finish()

    def preflight(self) -> None:
        assert self.ctx is not None and self.target is not None
        with self.target.acting("preflight"):
            self.ctx.preflight()

    # -- units of work ---------------------------------------------------------------------------------------
    def _property_ground(self) -> PropertyGround | FixtureError | FixtureAnswerInvalid:
        """The stages' shared dashboards, created once (on first need); the refusal, if the target refused."""
        assert self.ctx is not None
        if self._ground is None:
            try:
                with self.ctx.target.acting("property stages"):
                    self._ground = PropertyGround(self.ctx)
            except (FixtureError, FixtureAnswerInvalid) as exc:
                self._ground = exc
        return self._ground

    def _case_seed(self, requirement: Requirement, case: Case) -> int:
        return zlib.crc32(f"{self.seed}:{requirement.id}:{case.name}".encode())

    def _run_case(self, requirement: Requirement, case: Case) -> CaseResult:
        assert self.ctx is not None
        with self.ctx.target.acting(f"{requirement.id} · {case.name}"):  # named for the coverage map
            return cases.run_case(self.ctx, requirement, case)

    def _workers(self) -> Pool | None:
        """The worker threads (started on first need), or None for a serial run."""
        assert self.ctx is not None
        if self.config.concurrency <= 1:
            return None
        if self._pool is None:
            self._pool = Pool(self.config.concurrency, self.ctx.target.baton)
        return self._pool

    def warm_up(self, stages: Sequence[str]) -> None:
        """Start generating the explicit stages' cases (CPU only, no request) on worker threads, so it overlaps
        the preflight's and the fixtures' round trips; a no-op for a serial run."""
        assert self.ctx is not None
        pool = self._workers()
        if pool is None:
            return
        for name in stages:
            if name in properties.EXPLICIT_STAGES and name not in self._generated:
                generate = partial(properties.generate_explicit, self.ctx, name, self.profile)
                self._generated[name] = pool.submit(generate, seed=properties.stage_seed(self.seed, name), priority=0)
                self._generating_since[name] = time.perf_counter()

    def prefetch(self, stages: Sequence[str], requirements: Sequence[Requirement]) -> None:
        """Start the named stages and the requirements' cases on worker threads (``config.concurrency`` of
        them); a no-op for a serial run. The property stages go first: their parts are the longest chains."""
        assert self.ctx is not None
        pool = self._workers()
        if pool is None or self._stage_jobs or self._case_jobs:
            return
        # From here this thread runs only while no worker does (concurrency.py); before, it only ran the preflight
        # (httpx and JSON), beside the workers generating cases.
        self.ctx.target.baton.take()
        self.warm_up(stages)
        for requirement in requirements:  # the workers start on these while this thread creates the stages' ground
            self._case_jobs[requirement.id] = [
                pool.submit(
                    partial(self._run_case, requirement, case), seed=self._case_seed(requirement, case), priority=2
                )
                for case in requirement.cases
            ]
        ground = self._property_ground() if stages else None
        for name in stages:
            if not isinstance(ground, PropertyGround):
                continue  # the stage reports the ground's refusal when asked (run_stages)
            stage = properties.stage_for(self.ctx, ground, name, self.profile)
            job = self._stage_jobs[name] = _StageJob(stage)
            if stage.needs_preparation:
                job.prepared_at = self._generating_since.get(name)
                self._generated[name].add_done_callback(partial(self._fan_out, job))
            else:
                job.parts.set_result(self._submit_parts(stage, None))

    def _submit_parts(self, stage: properties.Stage, prepared: Any) -> list[Future[properties.PartResult]]:
        assert self._pool is not None
        return [
            self._pool.submit(part, seed=properties.part_seed(stage.seed, index), priority=1)
            for index, part in enumerate(stage.parts(prepared))
        ]

    def _fan_out(self, job: _StageJob, prepared: Future[Any]) -> None:
        """An explicit stage's cases are generated: its slices join the queue (or its failure stands)."""
        error = prepared.exception()
        if error is not None:
            job.parts.set_exception(error)
        else:
            job.parts.set_result(self._submit_parts(job.stage, prepared.result()))

    def _collect(self, future: Future[Any]) -> Any:
        """A unit's result, waited for in the caller's thread; how it ended, as if it had run here."""
        try:
            assert self.ctx is not None
            with self.ctx.target.baton.released():  # the workers run while this thread waits
                return future.result()
        except (RunInterrupted, Halted):
            self.interruption.check()  # the run was stopped: the caller stops too
            raise SuiteError(f"the run cannot go on: {self.result.fatal or 'its workers stopped'}") from None
        except TargetUnavailable as exc:
            self._fatal(exc)
            raise

    def _fatal(self, exc: SuiteError) -> None:
        """The run cannot go on (the target stopped answering): said once, and the workers stop."""
        if self.result.fatal is None:
            self.result.fatal = f"{type(exc).__name__}: {exc}"
        if self._pool is not None:
            self.interruption.halt()
            self._pool.stop()

    # -- the run, in the order results are reported ------------------------------------------------------------
    def run_stages(self, names: tuple[str, ...] = properties.STAGES) -> list[StageResult]:
        stages = [self._stage(name) for name in names]
        for stage in stages:  # the target's text in findings must encode, whatever it held
            for finding in stage.findings.values():
                finding.title, finding.message = no_surrogates(finding.title), no_surrogates(finding.message)
        self.result.stages.extend(stages)
        return stages

    def _stage(self, name: str) -> StageResult:
        assert self.ctx is not None
        job = self._stage_jobs.get(name)
        if job is not None:
            parts = [self._collect(part) for part in self._collect(job.parts)]
            return properties.merge(name, job.stage.seed, parts, since=job.prepared_at)
        ground = self._property_ground()
        if not isinstance(ground, PropertyGround):
            return properties.failed_stage(self.ctx, name, ground)
        try:
            return self._serial_stage(ground, name)
        except TargetUnavailable as exc:
            self._fatal(exc)
            raise

    def _serial_stage(self, ground: PropertyGround, name: str) -> StageResult:
        assert self.ctx is not None
        started = time.perf_counter()
        stage = properties.stage_for(self.ctx, ground, name, self.profile)
        with seeded(stage.seed):
            prepared = stage.prepare()
        parts = []
        for index, part in enumerate(stage.parts(prepared)):
            with seeded(properties.part_seed(stage.seed, index)):
                parts.append(part())
        self.ctx.target.interruption.check()  # in case a stage's framework swallowed the stop
        return properties.merge(name, stage.seed, parts, since=started)

    def run_requirement(self, requirement: Requirement) -> RequirementResult:
        assert self.ctx is not None
        jobs = self._case_jobs.get(requirement.id)
        if jobs is not None:
            results = [self._collect(job) for job in jobs]
        else:
            results = []
            for case in requirement.cases:
                with seeded(self._case_seed(requirement, case)):
                    try:
                        results.append(self._run_case(requirement, case))
                    except TargetUnavailable as exc:
                        self._fatal(exc)
                        raise
        results += property_results(requirement, self.result.stages)
        reason = self.ctx.missing(requirement.requires)
        if reason and not any(r.status is not Status.SKIPPED for r in results):
            outcome = RequirementResult(requirement, Status.SKIPPED, reason, results)
        else:
            outcome = verdict(requirement, results)
        for judged in outcome.cases:  # the target's text in messages must encode, whatever it held
            judged.message = no_surrogates(judged.message)
        outcome.reason = no_surrogates(outcome.reason)
        self.result.requirements.append(outcome)
        return outcome

    def run_all(self) -> RunResult:
        """Everything, in the order the pytest plugin uses too: stages first, then requirements."""
        try:
            self.warm_up(properties.STAGES)
            self.preflight()
            self.prefetch(properties.STAGES, self.catalogue.requirements)
            self.run_stages()
            for requirement in self.catalogue.requirements:
                self.run_requirement(requirement)
        except SuiteError as exc:
            if self.result.fatal is None:
                self.result.fatal = f"{type(exc).__name__}: {exc}"
        return self.result

    def finish(self) -> RunResult:
        """Stop the workers, delete what the run created and close the target; after a stop, by the deadline
        it set (a worker's creating POST in flight gets POST_GRACE to answer first, so its id is known)."""
        with self.interruption.finishing():
            if self._pool is not None and self.target is not None:
                if not self.target.baton.held:  # a signal reached this thread while it waited for its turn
                    self.target.baton.take()  # from here the workers stay still
                self.interruption.halt()
                self._pool.stop()
                self.interruption.settle(POST_GRACE)
            try:
                self._clean_up()
            finally:
                self._generation.close()
                if self._pool is not None:
                    left = remaining(self.interruption.deadline())
                    self._pool.drain(DRAIN if left is None else max(0.0, min(DRAIN, left)))
                    self._pool = None
        return self.result

    def _clean_up(self) -> None:
        cleaned = ""
        if self.ctx is not None and self.target is not None:
            try:
                with self.target.acting("cleanup"):
                    report = self.ctx.fixtures.cleanup(deadline=self.interruption.deadline)
                cleaned = report.line(len(self.ctx.fixtures.ledger))
            finally:
                self.result.fixtures = self.ctx.fixtures.as_dict()
                if cleaned:
                    self.result.fixtures["cleanup"] = report.as_dict()
                self.result.refused = dict(self.ctx.fixtures.refused)
                self.result.preflight_errors = list(self.ctx.target_errors)
                self.result.requests = self.target.requests_sent
                self.result.throttle = self.target.throttle.as_dict()
                self.result.coverage = self.coverage.report()
                self.target.ledger.close()
                self.target.close()
                self.ctx = None
        if self.interruption.requested and self.result.interrupted is None:
            reason = self.interruption.reason
            self.result.interrupted = f"{reason} received; {cleaned or 'nothing had been created'}"
        if not self.result.finished_at:
            self.result.finished_at = utc_now()
            self.result.seconds = round(time.perf_counter() - self._started, 3)
