"""``cekura-conformance selftest``: run the suite against faulty emulator variants to prove that it can fail."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field

from conformance import contract as contract_module
from conformance.contract import DEFAULT_REVISION, Contract, UnknownRevision
from conformance.emulator import Behaviour, create_app
from conformance.emulator.faults import Fault, conventions_for, faults_for, get
from conformance.engine.catalogue import Catalogue
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.outcomes import Status
from conformance.engine.profiles import Profile
from conformance.engine.profiles import get as get_profile
from conformance.engine.runner import Engine, RunResult
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

# A fixed default seed: two sweeps of the same code give the same table, so a change in it means a change in code.
DEFAULT_SEED = 20260101
CLEAN = "clean emulator"
EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

Write = Callable[[str], None]


@dataclass
class Outcome:
    """One engine sweep against one emulator (a variant, or the unmodified one)."""

    name: str
    description: str
    kind: str  # "fault" (must fail a MUST), "convention" (must fail only SHOULDs) or "clean" (must pass)
    breaks: tuple[str, ...] = ()  # the requirement ids the variant declares it breaks (Fault.breaks)
    must_failed: list[str] = field(default_factory=list)  # counted MUST requirements that failed
    other_failed: list[str] = field(default_factory=list)  # SHOULD, MAY and tentative ones that failed
    errored: list[str] = field(default_factory=list)
    unclaimed: list[str] = field(default_factory=list)  # property findings whose check key no requirement owns
    totals: dict[str, int] = field(default_factory=dict)
    exit_code: int | None = None
    error: str | None = None  # the engine raised, or the run stopped early (fatal)
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        """A MUST failed: the verdict a vendor would get is "not conformant"."""
        return self.error is None and bool(self.must_failed)

    @property
    def unbroken(self) -> list[str]:
        """Declared requirements that did not fail as they should: the variant escaped the check meant for it."""
        failed = self.must_failed if self.kind == "fault" else self.other_failed
        return [rid for rid in self.breaks if rid not in failed]

    @property
    def ok(self) -> bool:
        """Whether this sweep came out as the self-test expects for its kind.

        An errored requirement is the suite breaking on what a variant answered: never a pass of the self-test.
        """
        if self.error is not None or self.errored:
            return False
        if self.kind == "fault":
            return self.killed and not self.unbroken
        if self.kind == "convention":
            # Noticed by its SHOULDs, and no MUST accuses a deviation the published docs do not forbid.
            return bool(self.other_failed) and not self.must_failed and not self.unbroken
        return self.exit_code == 0

    @property
    def verdict(self) -> str:
        if self.error is not None or self.errored:
            return "ERROR"
        if self.kind == "clean":
            return "PASS" if self.ok else "FAIL"
        if self.kind == "convention" and self.must_failed:
            return "MUST FAILED"
        if self.must_failed or self.other_failed:
            if self.unbroken:
                return "WRONG KILL"  # caught, but not by the requirement the variant exists to prove
            return "KILLED" if self.must_failed else "DETECTED"
        return "SURVIVED"

    def detail(self) -> str:
        if self.error is not None:
            return self.error.splitlines()[0][:200]
        if self.kind == "clean":
            counts = ", ".join(f"{n} {status}" for status, n in self.totals.items() if n)
            return f"exit {self.exit_code} ({counts})"
        notes = [f"declared {', '.join(self.unbroken)} did not fail"] if self.unbroken else []
        notes += [f"{len(self.errored)} errored"] if self.errored else []
        notes += [f"unclaimed findings: {', '.join(self.unclaimed)}"] if self.unclaimed else []
        tail = f"  [{'; '.join(notes)}]" if notes else ""
        if self.must_failed:
            extra = f" (+{len(self.other_failed)} SHOULD)" if self.other_failed else ""
            return f"by {', '.join(self.must_failed)}{extra}{tail}"
        if self.other_failed:
            note = "SHOULD only: no MUST failed" if self.kind == "fault" else "SHOULD"
            return f"by {', '.join(self.other_failed)} ({note}){tail}"
        return f"no requirement failed{tail}"


@dataclass
class Report:
    profile: str
    seed: int
    must_ids: list[str]
    outcomes: list[Outcome]  # faults and conventions, in registry order
    clean: Outcome
    full_sweep: bool  # every registered fault ran, so MUST coverage is judged
    seconds: float = 0.0
    revision: str = DEFAULT_REVISION

    @property
    def faults(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == "fault"]

    @property
    def conventions(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == "convention"]

    def kills_by_must(self) -> dict[str, list[str]]:
        """MUST id -> the fault variants its failure killed."""
        table: dict[str, list[str]] = {rid: [] for rid in self.must_ids}
        for outcome in self.faults:
            if outcome.killed:
                for rid in outcome.must_failed:
                    table.setdefault(rid, []).append(outcome.name)
        return table

    def idle_musts(self) -> list[str]:
        return [rid for rid, names in self.kills_by_must().items() if not names]

    @property
    def passed(self) -> bool:
        """Every fault killed by the MUSTs it names, every convention variant noticed by its SHOULDs and by no
        MUST (a MUST failing there would accuse a correct target), the clean emulator conformant, and (full
        sweeps) every MUST killing a variant."""
        coverage_ok = not self.full_sweep or not self.idle_musts()
        return self.clean.ok and all(o.ok for o in self.outcomes) and coverage_ok

    @property
    def exit_code(self) -> int:
        return EXIT_PASSED if self.passed else EXIT_FAILED


def outcome_of(
    name: str, description: str, kind: str, result: RunResult, catalogue: Catalogue, breaks: tuple[str, ...] = ()
) -> Outcome:
    """Sort a run's requirement verdicts into what the kill table needs."""
    failed = [r for r in result.requirements if r.status is Status.FAILED]
    claimed = {check for requirement in catalogue.requirements for check in requirement.checks}
    found = {key for stage in result.stages for key in stage.findings}
    return Outcome(
        name=name,
        description=description,
        kind=kind,
        breaks=breaks,
        must_failed=[r.requirement.id for r in failed if r.requirement.counts_for_conformance],
        other_failed=[r.requirement.id for r in failed if not r.requirement.counts_for_conformance],
        errored=[r.requirement.id for r in result.requirements if r.status is Status.ERRORED],
        unclaimed=sorted(found - claimed),
        totals=result.totals(),
        exit_code=result.exit_code,
        error=f"run stopped early: {result.fatal}" if result.fatal else None,
    )


def sweep(
    name: str,
    behaviour: type[Behaviour],
    kind: str,
    profile: Profile,
    seed: int,
    catalogue: Catalogue,
    contract: Contract | None = None,
) -> Outcome:
    """The whole suite, on ``contract``'s revision (default: seed), against a fresh in-process emulator serving that
    revision with ``behaviour``; never raises an Exception."""
    description = (behaviour.__doc__ or "").strip().splitlines()[0] if behaviour.__doc__ else ""
    breaks = behaviour.breaks if issubclass(behaviour, Fault) else ()
    served = contract or contract_module.default()
    config = TargetConfig(
        api_key=EMBEDDED_KEY,
        other_api_key=EMBEDDED_OTHER_KEY,
        app_factory=lambda: create_app(behaviour=behaviour, contract=served),
    )
    started = time.perf_counter()
    engine: Engine | None = None
    try:
        engine = Engine(config, profile, seed=seed, catalogue=catalogue, contract=served)
        with engine:
            result = engine.run_all()
        outcome = outcome_of(name, description, kind, result, catalogue, breaks)
    except Exception as exc:  # one variant breaking the engine must not end the sweep of the others
        partial = engine.result if engine else None
        outcome = (
            outcome_of(name, description, kind, partial, catalogue, breaks)
            if partial
            else Outcome(name, description, kind, breaks)
        )
        outcome.error = f"{type(exc).__name__}: {exc}"
    outcome.seconds = time.perf_counter() - started
    return outcome


def _sweep_named(name: str, kind: str, profile: Profile, seed: int, revision: str) -> Outcome:
    """One sweep in a worker process, the variant found again by name (classes travel badly between processes)."""
    served = contract_module.get(revision)
    catalogue = default_catalogue().for_revision(revision)
    behaviour = Behaviour if kind == "clean" else next(b for n, b, _ in selected([name], revision))
    return sweep(name, behaviour, kind, profile, seed, catalogue, served)


def _sweep_in_processes(
    chosen: list[tuple[str, type[Fault], str]],
    profile: Profile,
    seed: int,
    revision: str,
    jobs: int,
    on_outcome: Callable[[Outcome], None] | None,
) -> tuple[list[Outcome], Outcome]:
    # spawn, not fork: the parent may hold threads (a pytest session's servers) that fork would copy mid-state.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures: list[Future[Outcome]] = [
            pool.submit(_sweep_named, name, kind, profile, seed, revision) for name, _, kind in chosen
        ]
        futures.append(pool.submit(_sweep_named, CLEAN, "clean", profile, seed, revision))
        done: list[Outcome] = []
        for future in futures:  # in the table's order, whichever ends first
            done.append(future.result())
            if on_outcome:
                on_outcome(done[-1])
    return done[:-1], done[-1]


class NotOnRevision(ValueError):
    """A variant asked for by name that does not exist where the chosen revision is served."""


def selected(only: Iterable[str] | None, revision: str = DEFAULT_REVISION) -> list[tuple[str, type[Fault], str]]:
    """(name, behaviour, kind) for the requested variants of ``revision``; KeyError for an unknown name,
    NotOnRevision for one of another revision."""
    faults, conventions = faults_for(revision), conventions_for(revision)
    every: list[tuple[str, type[Fault], str]] = [(n, b, "fault") for n, b in faults.items()] + [
        (n, b, "convention") for n, b in conventions.items()
    ]
    if only is None:
        return every
    wanted = list(dict.fromkeys(only))
    unknown = []
    for name in wanted:
        try:
            get(name)
        except KeyError:
            unknown.append(name)
    if unknown:
        raise KeyError(", ".join(unknown))
    elsewhere = [n for n in wanted if n not in faults and n not in conventions]
    if elsewhere:
        where = "; ".join(f"{n} exists in revision {', '.join(get(n).revisions)} only" for n in elsewhere)
        raise NotOnRevision(f"{where}: not in revision {revision}")
    return [item for item in every if item[0] in wanted]


def run(
    profile: Profile,
    seed: int,
    *,
    only: Iterable[str] | None = None,
    catalogue: Catalogue | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    revision: str = DEFAULT_REVISION,
    jobs: int = 1,
) -> Report:
    """Sweep the selected variants of ``revision`` and the unmodified emulator, the suite judging that revision;
    shrinking is off (a kill needs no minimal example).

    ``jobs`` above 1 sweeps in that many processes (each sweep is a whole run in one process: threads would only
    take turns); the outcomes are the same, reported in the same order. A given ``catalogue`` sweeps serially.
    """
    started = time.perf_counter()
    catalogue_given = catalogue
    profile = dataclasses.replace(profile, shrink=False)
    served = contract_module.get(revision)
    chosen = selected(only, revision)
    catalogue = (catalogue or default_catalogue()).for_revision(revision)
    if jobs > 1 and catalogue_given is None:
        outcomes, clean = _sweep_in_processes(chosen, profile, seed, revision, jobs, on_outcome)
    else:
        outcomes = []
        for name, behaviour, kind in chosen:
            outcomes.append(sweep(name, behaviour, kind, profile, seed, catalogue, served))
            if on_outcome:
                on_outcome(outcomes[-1])
        clean = sweep(CLEAN, Behaviour, "clean", profile, seed, catalogue, served)
        if on_outcome:
            on_outcome(clean)
    return Report(
        profile=profile.name,
        seed=seed,
        must_ids=[r.id for r in catalogue.requirements if r.counts_for_conformance],
        outcomes=outcomes,
        clean=clean,
        full_sweep=only is None,
        seconds=time.perf_counter() - started,
        revision=revision,
    )


# Console -----------------------------------------------------------------------------------------------


def row(outcome: Outcome, width: int) -> str:
    return f"{outcome.name:<{width}}  {outcome.verdict:<11} {outcome.detail()}  [{outcome.seconds:.1f} s]"


def summary(report: Report) -> list[str]:
    faults, conventions = report.faults, report.conventions
    killed = sum(o.killed for o in faults)
    lines = [""]
    if faults:
        lines.append(f"kill rate: {killed}/{len(faults)} fault variants killed by a MUST ({killed / len(faults):.0%})")
        survivors = [o for o in faults if not o.killed]
        if survivors:
            lines.append("not killed: " + ", ".join(f"{o.name} ({o.verdict})" for o in survivors))
    broken = [o.name for o in [*report.outcomes, report.clean] if o.error is None and o.errored]
    if broken:
        lines.append("the suite errored (its own defect) on: " + ", ".join(broken))
    wrong = [o for o in report.outcomes if o.error is None and o.unbroken and (o.must_failed or o.other_failed)]
    if wrong:
        lines.append(
            "caught, but not by the requirements they name (breaks): "
            + "; ".join(f"{o.name} names {', '.join(o.unbroken)}" for o in wrong)
        )
    if conventions:
        noticed = sum(o.ok for o in conventions)
        lines.append(f"convention variants noticed by a SHOULD and by no MUST: {noticed}/{len(conventions)}")
        accused = [f"{o.name} by {', '.join(o.must_failed)}" for o in conventions if o.must_failed]
        if accused:
            lines.append("  MUST failed on a deviation the catalogue calls acceptable: " + "; ".join(accused))
    unclaimed = sorted({key for o in [*report.outcomes, report.clean] for key in o.unclaimed})
    if unclaimed:
        lines.append(f"property findings no requirement owns (lost evidence): {', '.join(unclaimed)}")
    idle = report.idle_musts()
    if report.full_sweep:
        lines.append(f"MUST requirements that killed no variant: {', '.join(idle) if idle else 'none'}")
    lines.append("MUST requirements and the variants they kill:")
    width = max((len(rid) for rid in report.must_ids), default=0)
    for rid, names in report.kills_by_must().items():
        lines.append(f"  {rid:<{width}}  {', '.join(names) if names else '-'}")
    lines.append(f"clean emulator: {report.clean.verdict} {report.clean.detail()}")
    lines.append(
        f"wall time: {report.seconds:.1f} s (revision {report.revision}, profile {report.profile}, shrinking off, "
        f"seed {report.seed})"
    )
    lines.append("SELFTEST PASSED" if report.passed else "SELFTEST FAILED")
    return lines


def main(
    *,
    profile: str = "quick",
    seed: int | None = None,
    only: Sequence[str] | None = None,
    write: Write | None = None,
    revision: str = DEFAULT_REVISION,
    differential: bool = False,
    jobs: int = 1,
) -> int:
    """The CLI entry: the kill table as each sweep ends, then the summary; 0 only if everything came out as expected.
    ``differential``: the differential kill table instead (``conformance.differential.selftest``)."""
    out: Write = write or (lambda line: print(line, flush=True))
    try:
        contract_module.get(revision)
        chosen_profile = get_profile(profile)
        chosen = selected(only, revision)
    except KeyError as exc:
        known = ", ".join([*faults_for(revision), *conventions_for(revision)])
        out(f"error: unknown variant {exc}; known in revision {revision}: {known}")
        return EXIT_USAGE
    except (UnknownRevision, NotOnRevision) as exc:
        out(f"error: {exc}")
        return EXIT_USAGE
    except Exception as exc:  # ConfigurationError: an unknown profile
        out(f"error: {exc}")
        return EXIT_USAGE
    fixed = chosen_profile.fixed_seed
    if seed is not None and fixed is not None and seed != fixed:
        out(f"error: the {chosen_profile.name} profile always runs with seed {fixed}")
        return EXIT_USAGE
    seed = fixed or (seed if seed is not None else DEFAULT_SEED)
    if differential:
        from conformance.differential import selftest as differential_selftest

        return differential_selftest.run(chosen_profile, seed, chosen, revision=revision, write=out)
    width = max([len(CLEAN), *(len(name) for name, _, _ in chosen)])
    out(
        f"selftest: {len(chosen)} variants and the clean emulator · revision {revision} · profile "
        f"{chosen_profile.name} · seed {seed}"
    )
    headings = {
        "fault": "\nfault variants (deviations from the published docs; KILLED: the MUSTs a variant names failed):",
        "convention": "\nconvention variants (DRF habits the docs leave open; DETECTED: its SHOULDs failed, no MUST):",
        "clean": "\nunmodified emulator:",
    }
    shown: list[str] = []

    def show(outcome: Outcome) -> None:
        # Each kind gets its heading before its first row, so the kill table reads on its own.
        if outcome.kind not in shown:
            shown.append(outcome.kind)
            out(headings[outcome.kind])
        out(row(outcome, width))

    report = run(chosen_profile, seed, only=only, on_outcome=show, revision=revision, jobs=jobs)
    for line in summary(report):
        out(line)
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
