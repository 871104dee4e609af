"""Property and stateful stages: schemathesis generates, the suite's HTTP seam sends, the checks judge.

Every finding is keyed by the check that made it (``st:<schemathesis check>`` or ``oracle:<aspect>``); the
catalogue says which requirement each key counts against. Unit stages raise one exception type per key so
Hypothesis shrinks each kind of failure on its own, and the minimal example is kept with the finding.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import hypothesis
from hypothesis import HealthCheck, Phase, Verbosity
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi import checks as st_checks

from conformance.engine import oracle
from conformance.engine.context import RunContext
from conformance.engine.findings import StageResult, collect_raised, raise_finding
from conformance.engine.fixtures import FixtureAnswerInvalid, FixtureError
from conformance.engine.profiles import Profile
from conformance.engine.property_env import PropertyEnv

UNIT_STAGES = ("examples", "coverage", "fuzz-positive", "fuzz-negative")
STAGES = (*UNIT_STAGES, "stateful")
# The live API serves GET, PUT, PATCH and DELETE on the widget path (a DRF ModelViewSet) and HEAD/OPTIONS:
# only these are safe to expect a 405 for.
UNEXPECTED_METHODS = {"post", "trace"}
# Ids no suite fixture has; a step that would touch an object the run did not create is pointed here.
FOREIGN_ID_STANDIN = 2147480001

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


class UnitStage:
    """One of examples / coverage / fuzz-positive / fuzz-negative on the PATCH operation."""

    def __init__(self, env: PropertyEnv, name: str, profile: Profile, seed: int) -> None:
        self.env, self.name, self.profile, self.seed = env, name, profile, seed
        self.result = StageResult(name, seed=seed)
        self._auth_probed = False

    def _test(self, case: Any) -> None:
        env = self.env
        self.result.examples += 1
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        if mode == GenerationMode.POSITIVE:
            env.fix_positive(case)
        is_patch = case.method.upper() == "PATCH"
        # The previous example's GET after is this one's GET before, unless something was sent since.
        before = env.widget_before() if is_patch else None
        response = env.send_case(case)
        after = env.get_widget() if is_patch and response.status_code < 500 else None
        findings = env.st_findings(case, response, self.name, UNIT_CHECKS)
        if is_patch:
            findings += env.oracle_findings(case, response, before, after, self.name)
            if mode == GenerationMode.NEGATIVE and 200 <= response.status_code < 300:
                env.restore(before, case)
        if not self._auth_probed and is_patch and mode == GenerationMode.POSITIVE and 200 <= response.status_code < 300:
            self._auth_probed = True
            findings += env.auth_probe(case, response, self.name)
        for finding in findings:
            self.result.findings.setdefault(finding.check, finding)
        if findings and self.profile.shrink:
            raise_finding(findings[0])

    def run(self) -> StageResult:
        started = time.perf_counter()
        sent_before = self.env.ctx.target.requests_sent
        project = self.env.schema.config
        if self.name == "fuzz-positive":
            modes, count, gen = [HypothesisTestMode.FUZZING], self.profile.fuzz_examples, [GenerationMode.POSITIVE]
        elif self.name == "fuzz-negative":
            modes, count, gen = [HypothesisTestMode.FUZZING], self.profile.fuzz_examples, [GenerationMode.NEGATIVE]
        elif self.name == "coverage":
            modes, count, gen = [HypothesisTestMode.COVERAGE], 1, [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        else:
            modes, count, gen = [HypothesisTestMode.EXAMPLES], 1, [GenerationMode.POSITIVE]
        project.generation.update(modes=gen)
        project.phases.coverage.unexpected_methods = set(UNEXPECTED_METHODS)
        test = create_test(
            operation=self.env.patch_op,
            test_func=self._test,
            config=HypothesisTestConfig(
                project=project,
                modes=modes,
                settings=_hypothesis_settings(count, shrink=self.profile.shrink),
                seed=self.seed,
                override=Override(path_parameters={"id": str(self.env.widget_id)}),
            ),
        )
        try:
            test()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            # Hypothesis may fold an interruption into what it reports (explicit examples collect every
            # exception): a stopped run ends here, whatever was raised.
            self.env.ctx.target.interruption.check()
            raised = list(collect_raised(exc))
            if raised:
                for error in raised:
                    shrunk = error.finding
                    shrunk.shrunk = True
                    self.result.findings[shrunk.check] = shrunk
            else:
                from conformance.engine.errors import TargetUnavailable

                if isinstance(exc, TargetUnavailable):
                    raise
                self.result.error = self.env.ctx.target.scrub(f"{type(exc).__name__}: {exc}")[:2000]
        self.result.seconds = time.perf_counter() - started
        self.result.requests = self.env.ctx.target.requests_sent - sent_before
        return self.result


_ID_PATH = re.compile(r"^(?P<prefix>/dashboards/(?P<kind>widgets|dashboards)/)(?P<id>[^/]+)/$")


class StatefulStage:
    """Link-driven sequences (create -> patch -> get -> delete -> get) over the fragment's operations."""

    def __init__(self, env: PropertyEnv, profile: Profile, seed: int) -> None:
        self.env, self.profile, self.seed = env, profile, seed
        self.result = StageResult("stateful", seed=seed)

    def _owned(self, kind: str) -> set[str]:
        wanted = "widget" if kind == "widgets" else "dashboard"
        return {str(c.id) for c in self.env.ctx.fixtures.ledger if c.kind == wanted and not c.deleted}

    def _guard(self, url: str) -> str:
        """Never let a generated step modify or delete an object this run did not create.

        Only the URL sent changes: the case keeps its generated id, so no check mistakes the stand-in
        for a value that came through a link.
        """
        parts = urlsplit(url)
        match = _ID_PATH.match(parts.path)
        if match and match.group("id") not in self._owned(match.group("kind")):
            return url.replace(parts.path, f"{match.group('prefix')}{FOREIGN_ID_STANDIN}/", 1)
        return url

    def _prepare(self, case: Any) -> None:
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        if mode == GenerationMode.POSITIVE:
            self.env.fix_positive(case)
        if case.method.upper() == "POST" and isinstance(case.body, dict):
            name = case.body.get("name")
            case.body = {**case.body, "name": f"{self.env.ctx.tag} stateful {name or ''}"[:255]}

    def run(self) -> StageResult:
        from schemathesis.core.transport import Response

        started = time.perf_counter()
        sent_before = self.env.ctx.target.requests_sent
        env, stage = self.env, self

        config = env.schema.config
        config.phases.stateful.inference.algorithms = []  # only the fragment's explicit links
        config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
        base = env.schema.as_state_machine()

        class Machine(base):  # type: ignore[misc, valid-type]
            def call(self, case: Any, **kwargs: Any) -> Any:
                stage._prepare(case)
                stage.result.examples += 1
                writes = case.method.upper() in {"PATCH", "PUT", "DELETE"}
                # What a POST creates enters the run's ledger in the HTTP seam, as soon as its answer arrives.
                response = env.send_case(case, rewrite_url=stage._guard if writes else None)
                return Response.from_httpx(response, verify=True)

            def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
                for finding in env.st_findings(case, response, "stateful", STATEFUL_CHECKS, recorder=self.recorder):
                    stage.result.findings.setdefault(finding.check, finding)

        settings = _hypothesis_settings(
            self.profile.stateful_examples, shrink=False, stateful_steps=self.profile.stateful_steps
        )
        try:
            hypothesis.seed(self.seed)(Machine).run(settings=settings)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            from conformance.engine.errors import TargetUnavailable

            env.ctx.target.interruption.check()  # a stopped run ends here, whatever was raised
            if isinstance(exc, TargetUnavailable):
                raise
            self.result.error = env.ctx.target.scrub(f"{type(exc).__name__}: {exc}")[:2000]
        self.result.seconds = time.perf_counter() - started
        self.result.requests = env.ctx.target.requests_sent - sent_before
        return self.result


def run_stages(ctx: RunContext, profile: Profile, names: tuple[str, ...] = STAGES) -> list[StageResult]:
    """Run the named stages in order, their fixtures created once and always deleted."""
    results: list[StageResult] = []
    with ctx.fixtures.scope(), ctx.target.acting("property stages"):
        try:
            env = PropertyEnv(ctx)
        except (FixtureError, FixtureAnswerInvalid) as exc:
            # The target would not create the stages' fixtures: no stage can run; said once per stage.
            message = ctx.target.scrub(f"the stage's fixtures could not be created: {exc}")[:2000]
            return [
                StageResult(name, seed=ctx.seed + STAGES.index(name), error=message, target_error=exc.target_error)
                for name in names
            ]
        for name in names:
            seed = ctx.seed + STAGES.index(name)  # the same stage gets the same seed however it is run
            with ctx.target.acting(f"stage {name}"):
                if name == "stateful":
                    results.append(StatefulStage(env, profile, seed).run())
                else:
                    results.append(UnitStage(env, name, profile, seed).run())
            ctx.target.interruption.check()  # in case a stage's framework swallowed the stop
    return results
