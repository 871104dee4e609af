"""Orchestrate a run: preflight, property stages, catalogue cases, per-requirement verdicts, cleanup."""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance.contract import Contract
from conformance.contract import default as default_contract
from conformance.engine import cases, coverage, properties
from conformance.engine.catalogue import Catalogue, Requirement
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.context import RunContext
from conformance.engine.errors import ConfigurationError, SuiteError
from conformance.engine.findings import StageResult
from conformance.engine.fixtures import Fixtures, new_tag
from conformance.engine.interrupt import Interruption
from conformance.engine.ledger import Ledger
from conformance.engine.outcomes import CaseResult, Status, worst
from conformance.engine.profiles import Profile
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


class Engine:
    """One run against one target. Use as a context manager: fixtures are always cleaned up on exit.

    ``ledger_path``: where the ledger file goes (for ``cekura-conformance cleanup`` after a kill); None keeps
    the ledger in memory. ``interruption``: the run's stop state, whose signal handlers the caller installs.
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
        self.result = RunResult(profile.name, self.seed, config.label, _now())
        self._started = time.perf_counter()
        self.target: Target | None = None
        self.ctx: RunContext | None = None
        self.interruption = interruption or Interruption()
        self.ledger_path = ledger_path

    def __enter__(self) -> Engine:
        target = Target(self.config, interruption=self.interruption)
        target.ledger = Ledger(self.tag, self.config.label, self.ledger_path, scrub=target.scrub)
        try:
            note = target.ledger.open(self.result.started_at)
        except OSError as exc:
            target.close()
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

    def run_stages(self, names: tuple[str, ...] = properties.STAGES) -> list[StageResult]:
        assert self.ctx is not None
        stages = properties.run_stages(self.ctx, self.profile, names)
        for stage in stages:  # the target's text in findings must encode, whatever it held
            for finding in stage.findings.values():
                finding.title, finding.message = no_surrogates(finding.title), no_surrogates(finding.message)
        self.result.stages.extend(stages)
        return stages

    def run_requirement(self, requirement: Requirement) -> RequirementResult:
        assert self.ctx is not None and self.target is not None
        results: list[CaseResult] = []
        for spec in requirement.cases:
            with self.target.acting(f"{requirement.id} · {spec['name']}"):
                results.append(cases.run_case(self.ctx, requirement, spec))
        results += property_results(requirement, self.result.stages)
        reason = self.ctx.missing(requirement.requires)
        if reason and not any(r.status is not Status.SKIPPED for r in results):
            outcome = RequirementResult(requirement, Status.SKIPPED, reason, results)
        else:
            outcome = verdict(requirement, results)
        for case in outcome.cases:  # the target's text in messages must encode, whatever it held
            case.message = no_surrogates(case.message)
        outcome.reason = no_surrogates(outcome.reason)
        self.result.requirements.append(outcome)
        return outcome

    def run_all(self) -> RunResult:
        """Everything, in the order the pytest plugin uses too: stages first, then requirements."""
        try:
            self.preflight()
            self.run_stages()
            for requirement in self.catalogue.requirements:
                self.run_requirement(requirement)
        except SuiteError as exc:
            self.result.fatal = f"{type(exc).__name__}: {exc}"
        return self.result

    def finish(self) -> RunResult:
        """Delete what the run created and close the target; after a stop, by the deadline it set."""
        with self.interruption.finishing():
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
                    self.result.coverage = self.coverage.report()
                    self.target.ledger.close()
                    self.target.close()
                    self.ctx = None
            if self.interruption.requested and self.result.interrupted is None:
                reason = self.interruption.reason
                self.result.interrupted = f"{reason} received; {cleaned or 'nothing had been created'}"
            if not self.result.finished_at:
                self.result.finished_at = _now()
                self.result.seconds = round(time.perf_counter() - self._started, 3)
        return self.result


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
