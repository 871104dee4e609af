"""Property and stateful stages: schemathesis generates, the suite's HTTP seam sends, the checks judge.

Every finding is keyed by the check that made it (``st:<schemathesis check>`` or ``oracle:<aspect>``); the
catalogue says which requirement each key counts against. Unit stages raise one exception type per key so
Hypothesis shrinks each kind of failure on its own, and the minimal example is kept with the finding.

Each stage is cut into *parts* that can run side by side (``--concurrency``), each with its own widget (the
oracle's GET before and after never mixes two parts' requests) and its own schema object: the fuzzing stages
into Hypothesis runs of ``FUZZ_PART`` examples with seeds derived from the stage's, the stateful stage into
runs of ``STATEFUL_PART`` scenarios, and the examples and coverage stages, whose cases are fixed lists, into
slices of ``SLICE_PART`` cases generated once. The cut depends on the profile only, never on the concurrency,
so a seed gives the same cases at ``--concurrency 1`` and ``16``; parts merge in their order (a check's
finding is the first part's that has one), never in the order they finish.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from hypothesis.errors import UnsatisfiedAssumption
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi import checks as st_checks

from conformance.engine import oracle
from conformance.engine.context import RunContext
from conformance.engine.errors import RateLimited, TargetUnavailable
from conformance.engine.fixtures import FixtureAnswerInvalid, FixtureError
from conformance.engine.ledger import Created
from conformance.engine.profiles import Profile
from conformance.engine.properties.findings import Finding, StageResult, collect_raised, raise_finding
from conformance.engine.properties.harness import FOREIGN_WIDGET, PropertyEnv, PropertyGround
from conformance.engine.target import API_KEY_HEADER

UNIT_STAGES = ("examples", "coverage", "fuzz-positive", "fuzz-negative")
STAGES = (*UNIT_STAGES, "stateful")
EXPLICIT_STAGES = ("examples", "coverage")  # fixed lists of cases: generated once, then sliced
# The live API serves GET, PUT, PATCH and DELETE on the widget path (a DRF ModelViewSet) and HEAD/OPTIONS:
# only these are safe to expect a 405 for.
UNEXPECTED_METHODS = {"post", "trace"}
# Ids no suite fixture has; a step that would touch an object the run did not create is pointed here.
FOREIGN_ID_STANDIN = 2147480001
# How a stage is cut (the profile's numbers, never the concurrency): each part is a chain of requests one after
# another, so a part's length bounds the run's wall time at high latency; each costs a widget (POST, DELETE).
FUZZ_PART = 20  # Hypothesis examples per fuzzing part
SLICE_PART = 25  # examples or coverage cases per part
STATEFUL_PART = 5  # state-machine scenarios per part

UNIT_CHECKS: tuple[Callable[..., Any], ...] = (
    not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_headers_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.positive_data_acceptance,
    st_checks.missing_required_header,
    st_checks.unsupported_method,
)
STATEFUL_CHECKS: tuple[Callable[..., Any], ...] = (
    not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.negative_data_rejection,
    st_checks.use_after_free,
    st_checks.ensure_resource_availability,
)


def emitted_check_keys() -> set[str]:
    """Every key a finding can carry: schemathesis checks run, the auth probe, the oracle's aspects."""
    keys = {f"st:{check.__name__}" for check in (*UNIT_CHECKS, *STATEFUL_CHECKS)}
    keys.discard("st:response_schema_conformance")
    keys |= {"st:response_schema_conformance@2xx", "st:response_schema_conformance@4xx", "st:ignored_auth"}
    return keys | oracle.check_keys()


def stage_seed(run_seed: int, name: str) -> int:
    """The same stage gets the same seed however it is run."""
    return run_seed + STAGES.index(name)


def part_seed(seed: int, index: int) -> int:
    """Part 0 keeps the stage's seed (a stage of one part generates what it always did); the others derive."""
    return seed if index == 0 else zlib.crc32(f"{seed}:{index}".encode())


def shares(total: int, size: int) -> list[int]:
    """``total`` cut into parts of at most ``size``, as even as possible (40 by 20: [20, 20]; 15 by 5: [5, 5, 5])."""
    count = max(1, -(-total // size))
    return [total // count + (1 if n < total % count else 0) for n in range(count)]


def _hypothesis_settings(max_examples: int, *, shrink: bool, stateful_steps: int | None = None) -> Any:
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if shrink else [])
    return hypothesis.settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        phases=phases,
        report_multiple_bugs=True,
        print_blob=False,
        stateful_step_count=stateful_steps or 50,  # Hypothesis's default; unused outside state machines
    )


def case_fingerprint(case: Any) -> str:
    """What was generated, independent of the run: ids the target assigned and the run's tag are not in it
    (the path as its template, the body as generated, before calibration or renaming; no key value)."""
    body = getattr(case, "body", None)
    if type(body).__name__ == "NotSet":
        body = None
    elif isinstance(body, bytes):
        body = {"<bytes>": body.hex()}
    mode = case.meta.generation.mode.value if case.meta is not None else ""
    headers = {k: ("<key>" if k.lower() == API_KEY_HEADER.lower() else v) for k, v in (case.headers or {}).items()}
    parts = [case.method.upper(), case.operation.path, mode, case.query or {}, headers, body]
    return json.dumps(parts, sort_keys=True, default=repr, ensure_ascii=False)


@dataclass
class PartResult:
    """What one part of a stage did; a stage's result is its parts merged in order."""

    examples: int = 0
    requests: int = 0
    findings: dict[str, Finding] = field(default_factory=dict)
    error: str | None = None
    target_error: str | None = None
    fingerprints: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0


def merge(name: str, seed: int, parts: list[PartResult], *, since: float | None = None) -> StageResult:
    """The stage's result from its parts, in part order: the numbers add up, a check's finding is the first
    part's, the first error stands for the stage, and the digest covers every generated case in order.
    Its seconds: from ``since`` (or its first part's start) to its last part's end."""
    first = min([p.started for p in parts] + ([since] if since is not None else []), default=time.perf_counter())
    last = max((p.finished or p.started for p in parts), default=first)
    result = StageResult(name, seed=seed, seconds=max(0.0, last - first))
    digest = hashlib.sha256()
    for part in parts:
        result.examples += part.examples
        result.requests += part.requests
        for key, finding in part.findings.items():
            result.findings.setdefault(key, finding)
        if part.error and result.error is None:
            result.error, result.target_error = part.error, part.target_error
        for fingerprint in part.fingerprints:
            digest.update(fingerprint.encode())
            digest.update(b"\n")
    result.digest = digest.hexdigest()
    return result


def _part_fixtures_failed(ctx: RunContext, part: PartResult, exc: FixtureError | FixtureAnswerInvalid) -> None:
    """The target would not create a part's fixtures: the part cannot run; said as the stage's error."""
    part.error = ctx.target.scrub(f"the stage's fixtures could not be created: {exc}")[:2000]
    part.target_error = exc.target_error


def _broken(ctx: RunContext, part: PartResult, exc: BaseException) -> None:
    """What a part's framework raised that is no finding: a stop ends the run, a silent target too."""
    if isinstance(exc, KeyboardInterrupt):
        raise exc
    # Hypothesis may fold an interruption into what it reports (explicit examples collect every exception):
    # a stopped run ends here, whatever was raised.
    ctx.target.interruption.check()
    if isinstance(exc, TargetUnavailable):
        raise exc
    part.error = ctx.target.scrub(f"{type(exc).__name__}: {exc}")[:2000]


class UnitJudge:
    """Sends one generated PATCH-operation case through a part's widget and judges it (schemathesis's checks,
    the PATCH-semantics oracle, once the auth probe); the part's findings keep the first per check."""

    def __init__(self, env: PropertyEnv, stage: str, part: PartResult, *, probe_auth: bool) -> None:
        self.env, self.stage, self.part = env, stage, part
        self._auth_probed = not probe_auth

    def judge(self, case: Any) -> list[Finding]:
        env = self.env
        self.part.examples += 1
        self.part.fingerprints.append(case_fingerprint(case))
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        if mode == GenerationMode.POSITIVE:
            env.fix_positive(case)
        else:
            env.fix_negative(case)
        is_patch = case.method.upper() == "PATCH"
        # The previous example's GET after is this one's GET before, unless something was sent since.
        before = env.widget_before() if is_patch else None
        response = env.send_case(case)
        after = env.get_widget() if is_patch and response.status_code < 500 else None
        findings = env.st_findings(case, response, self.stage, UNIT_CHECKS)
        if is_patch:
            findings += env.oracle_findings(case, response, before, after, self.stage)
            if mode == GenerationMode.NEGATIVE and 200 <= response.status_code < 300 and env.stored_invalid(after):
                env.restore(before, case)  # else the stored state is valid: the GET after is the next one's before
        if not self._auth_probed and is_patch and mode == GenerationMode.POSITIVE and 200 <= response.status_code < 300:
            self._auth_probed = True
            findings += env.auth_probe(case, response, self.stage, known=after)
        for finding in findings:
            self.part.findings.setdefault(finding.check, finding)
        return findings


def _test_config(env: PropertyEnv, name: str, profile: Profile, seed: int, count: int, widget: int) -> Any:
    project = env.schema.config
    if name == "fuzz-positive":
        modes, gen = [HypothesisTestMode.FUZZING], [GenerationMode.POSITIVE]
    elif name == "fuzz-negative":
        modes, gen = [HypothesisTestMode.FUZZING], [GenerationMode.NEGATIVE]
    elif name == "coverage":
        modes, gen = [HypothesisTestMode.COVERAGE], [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    else:
        modes, gen = [HypothesisTestMode.EXAMPLES], [GenerationMode.POSITIVE]
    project.generation.update(modes=gen)
    project.phases.coverage.unexpected_methods = set(UNEXPECTED_METHODS)
    return HypothesisTestConfig(
        project=project,
        modes=modes,
        settings=_hypothesis_settings(count, shrink=profile.shrink),
        seed=seed,
        override=Override(path_parameters={"id": str(widget)}),
    )


PartBody = Callable[[PartResult, PropertyEnv, list[Created]], None]


class Stage:
    """A stage cut into parts. ``prepare`` runs first (it sends nothing); each of ``parts(prepared)`` is a
    function that runs one part (its own fixtures, created and deleted inside) and returns its result."""

    needs_preparation = False

    def __init__(self, ctx: RunContext, ground: PropertyGround, name: str, profile: Profile) -> None:
        self.ctx, self.ground, self.name, self.profile = ctx, ground, name, profile
        self.seed = stage_seed(ctx.seed, name)

    def prepare(self) -> Any:
        return None

    def parts(self, prepared: Any) -> list[Callable[[], PartResult]]:
        raise NotImplementedError

    def run_part(
        self, body: Callable[[PartResult, PropertyEnv, list[Created]], None], *, widget: bool = True
    ) -> PartResult:
        """A part's frame: its fixtures (and whatever its requests create) in a scope of its own, deleted at its
        end; its requests counted; its fixtures' refusal said. ``body`` gets the part, its env and that scope."""
        part = PartResult()
        ctx = self.ctx
        with ctx.target.acting(f"stage {self.name}"), ctx.target.tally() as tally:
            try:
                with ctx.fixtures.scope() as created:
                    try:
                        env = PropertyEnv(ctx, self.ground, widget=widget)
                    except (FixtureError, FixtureAnswerInvalid) as exc:
                        _part_fixtures_failed(ctx, part, exc)
                        return part
                    body(part, env, created)
            finally:
                part.requests = tally.requests
                part.finished = time.perf_counter()
        return part


class FuzzStage(Stage):
    """fuzz-positive / fuzz-negative: Hypothesis runs of FUZZ_PART examples, each on its own widget."""

    def parts(self, prepared: Any) -> list[Callable[[], PartResult]]:
        counts = shares(self.profile.fuzz_examples, FUZZ_PART)
        return [partial(self._part, index, count) for index, count in enumerate(counts)]

    def _part(self, index: int, count: int) -> PartResult:
        seed = part_seed(self.seed, index)

        def body(part: PartResult, env: PropertyEnv, created: list[Created]) -> None:
            judge = UnitJudge(env, self.name, part, probe_auth=index == 0)
            shrink = self.profile.shrink

            def test(case: Any) -> None:
                if part.error:
                    return  # rate limited: the part is unjudged already, and Hypothesis must not shrink a 429
                try:
                    findings = judge.judge(case)
                except RateLimited as exc:
                    _broken(self.ctx, part, exc)
                    return
                if findings and shrink:
                    raise_finding(findings[0])

            config = _test_config(env, self.name, self.profile, seed, count, env.widget_id)
            try:
                create_test(operation=env.patch_op, test_func=test, config=config)()
            except BaseException as exc:
                raised = list(collect_raised(exc))
                if not raised:
                    _broken(self.ctx, part, exc)
                for error in raised:
                    shrunk = error.finding
                    shrunk.shrunk = True
                    part.findings[shrunk.check] = shrunk

        return self.run_part(body)


class ExplicitStage(Stage):
    """examples / coverage: the cases are a fixed list (the fragment's examples, schemathesis's coverage
    phase), generated once without sending anything, then sent in slices of SLICE_PART, each on its own widget.
    Explicit cases are never shrunk: a finding's example is the case itself."""

    needs_preparation = True

    def prepare(self) -> list[Any]:
        return generate_explicit(self.ctx, self.name, self.profile)

    def parts(self, prepared: list[Any]) -> list[Callable[[], PartResult]]:
        out: list[Callable[[], PartResult]] = []
        start = 0
        for index, count in enumerate(shares(len(prepared), SLICE_PART) if prepared else []):
            chunk = prepared[start : start + count]
            start += count
            out.append(partial(self._part, index, chunk))
        return out

    def _part(self, index: int, cases: list[Any]) -> PartResult:
        def body(part: PartResult, env: PropertyEnv, created: list[Created]) -> None:
            judge = UnitJudge(env, self.name, part, probe_auth=index == 0)
            for case in cases:
                _aim(case, env.widget_id)
                try:
                    judge.judge(case)
                except UnsatisfiedAssumption:
                    continue  # not representable as JSON: nothing a target could receive
                except BaseException as exc:
                    _broken(self.ctx, part, exc)
                    return

        return self.run_part(body)


def generate_explicit(ctx: RunContext, name: str, profile: Profile) -> list[Any]:
    """An explicit stage's cases, generated without sending anything (nor needing any fixture)."""
    env = PropertyEnv(ctx, None, widget=False)
    cases: list[Any] = []
    baton = ctx.target.baton

    def collect(case: Any) -> None:
        cases.append(case)
        baton.pause()  # generating a few hundred cases takes a while: the other workers' answers wait

    config = _test_config(env, name, profile, stage_seed(ctx.seed, name), 1, FOREIGN_WIDGET)
    create_test(operation=env.patch_op, test_func=collect, config=config)()
    return cases


def _aim(case: Any, widget: int) -> None:
    """Point a case generated for the stand-in widget at the part's own."""
    standin = str(FOREIGN_WIDGET)
    if case.path_parameters and str(case.path_parameters.get("id")) == standin:
        case.path_parameters = {**case.path_parameters, "id": str(widget)}
    override = getattr(case, "_override", None)
    if override is not None and str(override.path_parameters.get("id")) == standin:
        override.path_parameters = {**override.path_parameters, "id": str(widget)}


_ID_PATH = re.compile(r"^(?P<prefix>/dashboards/(?P<kind>widgets|dashboards)/)(?P<id>[^/]+)/$")


class StatefulStage(Stage):
    """Link-driven sequences (create -> patch -> get -> delete -> get) over the fragment's operations, in runs
    of STATEFUL_PART scenarios; each run may only touch what it created itself."""

    def parts(self, prepared: Any) -> list[Callable[[], PartResult]]:
        counts = shares(self.profile.stateful_examples, STATEFUL_PART)
        return [partial(self._part, index, count) for index, count in enumerate(counts)]

    def _part(self, index: int, count: int) -> PartResult:
        seed = part_seed(self.seed, index)
        return self.run_part(partial(self._run_machine, seed=seed, count=count), widget=False)

    def _run_machine(self, part: PartResult, env: PropertyEnv, owned: list[Created], *, seed: int, count: int) -> None:
        from schemathesis.core.transport import Response

        ctx = self.ctx
        config = env.schema.config
        config.phases.stateful.inference.algorithms = []  # only the fragment's explicit links
        config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
        base = env.schema.as_state_machine()

        def guard(url: str) -> str:
            """Never let a generated step modify or delete an object this part did not create.

            Only the URL sent changes: the case keeps its generated id, so no check mistakes the stand-in
            for a value that came through a link.
            """
            parts = urlsplit(url)
            match = _ID_PATH.match(parts.path)
            if match:
                wanted = "widget" if match.group("kind") == "widgets" else "dashboard"
                if match.group("id") not in {str(c.id) for c in owned if c.kind == wanted and not c.deleted}:
                    return url.replace(parts.path, f"{match.group('prefix')}{FOREIGN_ID_STANDIN}/", 1)
            return url

        def prepare(case: Any) -> None:
            part.fingerprints.append(case_fingerprint(case))
            mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
            if mode == GenerationMode.POSITIVE:
                env.fix_positive(case)
            else:
                env.fix_negative(case)
            if case.method.upper() == "POST" and isinstance(case.body, dict):
                name = case.body.get("name")
                case.body = {**case.body, "name": f"{ctx.tag} stateful {name or ''}"[:255]}

        class Machine(base):  # type: ignore[misc, valid-type]
            def call(self, case: Any, **kwargs: Any) -> Any:
                prepare(case)
                part.examples += 1
                writes = case.method.upper() in {"PATCH", "PUT", "DELETE"}
                # What a POST creates enters the run's ledger in the HTTP seam, as soon as its answer arrives.
                response = env.send_case(case, rewrite_url=guard if writes else None)
                return Response.from_httpx(response, verify=True)

            def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
                for finding in env.st_findings(case, response, "stateful", STATEFUL_CHECKS, recorder=self.recorder):
                    part.findings.setdefault(finding.check, finding)

        settings = _hypothesis_settings(count, shrink=False, stateful_steps=self.profile.stateful_steps)
        try:
            hypothesis.seed(seed)(Machine).run(settings=settings)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            _broken(ctx, part, exc)


def stage_for(ctx: RunContext, ground: PropertyGround, name: str, profile: Profile) -> Stage:
    if name in EXPLICIT_STAGES:
        return ExplicitStage(ctx, ground, name, profile)
    if name == "stateful":
        return StatefulStage(ctx, ground, name, profile)
    return FuzzStage(ctx, ground, name, profile)


def failed_stage(ctx: RunContext, name: str, exc: FixtureError | FixtureAnswerInvalid) -> StageResult:
    """A stage that could not start: the target would not create the property stages' shared fixtures."""
    message = ctx.target.scrub(f"the stage's fixtures could not be created: {exc}")[:2000]
    return StageResult(name, seed=stage_seed(ctx.seed, name), error=message, target_error=exc.target_error)
