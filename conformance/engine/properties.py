"""Property and stateful stages: schemathesis generates, the suite's HTTP seam sends, the checks judge.

Every finding is keyed by the check that made it (``st:<schemathesis check>`` or ``oracle:<aspect>``); the
catalogue says which requirement each key counts against. Unit stages raise one exception type per key so
Hypothesis shrinks each kind of failure on its own, and the minimal example is kept with the finding.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.generation.overrides import Override
from schemathesis.specs.openapi import checks as st_checks

from conformance import calibration
from conformance.engine import oracle, redact
from conformance.engine.context import RunContext
from conformance.engine.outcomes import Exchange
from conformance.engine.profiles import Profile
from conformance.engine.target import API_KEY_HEADER

PATCH_PATH = "/dashboards/widgets/{id}/"
UNIT_STAGES = ("examples", "coverage", "fuzz-positive", "fuzz-negative")
STAGES = (*UNIT_STAGES, "stateful")
# The live API serves GET, PUT, PATCH and DELETE on the widget path (a DRF ModelViewSet) and HEAD/OPTIONS:
# only these are safe to expect a 405 for.
UNEXPECTED_METHODS = {"post", "trace"}
# Read-only properties computed from sent ones: an invalid value there echoes the sent input.
DERIVED_FROM: dict[str, set[str]] = {"effective_filters": {"filters", "dashboard"}, "metric_name": {"metric"}}
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
    return keys | {f"oracle:{aspect}" for aspect in oracle.ASPECTS}


@dataclass
class Finding:
    check: str
    title: str
    message: str
    stage: str
    curl: str
    exchanges: list[Exchange] = field(default_factory=list)
    minimal_example: str | None = None
    shrunk: bool = False


@dataclass
class StageResult:
    name: str
    examples: int = 0
    requests: int = 0
    seconds: float = 0.0
    findings: dict[str, Finding] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None
    seed: int | None = None


class FindingRaised(AssertionError):
    """Raised inside a Hypothesis test; one subclass per check key keeps distinct bugs apart."""

    finding: Finding


_RAISED_TYPES: dict[str, type[FindingRaised]] = {}


def _raise(finding: Finding) -> None:
    kind = _RAISED_TYPES.get(finding.check)
    if kind is None:
        name = "Finding_" + re.sub(r"\W", "_", finding.check)
        kind = _RAISED_TYPES[finding.check] = type(name, (FindingRaised,), {})
    error = kind(f"{finding.check}: {finding.title}")
    error.finding = finding
    raise error


def _collect_raised(exc: BaseException) -> Iterator[FindingRaised]:
    if isinstance(exc, FindingRaised):
        yield exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _collect_raised(inner)


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


class PropertyEnv:
    """Fixtures and helpers the stages share: dashboards with and without filters, one widget to PATCH."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.contract = ctx.contract
        # An explicit empty config: a schemathesis.toml in the working directory must not steer the suite.
        self.schema = schemathesis.openapi.from_dict(
            dict(ctx.contract.document), config=schemathesis.Config.from_dict({})
        )
        # The key goes with every generated request, as a configured header; schemathesis still drops it on
        # purpose for its missing-header cases, and the auth probe sends none or a wrong one.
        self.schema.config.update(
            base_url=ctx.target.base_url, headers={API_KEY_HEADER: ctx.target.config.api_key or ""}
        )
        self.patch_op = self.schema[PATCH_PATH]["PATCH"]
        fx = ctx.fixtures
        filters_a = {"field": "timestamp", "op": "gte", "value": "now-7d"}
        filters_b = {"operator": "or", "conditions": [{"field": "success", "op": "eq", "value": True}]}
        d1 = fx.create("dashboard", {"filters": filters_a}, label="property-d1")
        d2 = fx.create("dashboard", {"filters": filters_b}, label="property-d2")
        d3 = fx.create("dashboard", {}, label="property-d3")
        self.dashboard_filters: dict[int | None, Any] = {d["id"]: d.get("filters") for d in (d1, d2, d3)}
        self.dashboard_filters[None] = None
        widget = fx.create(
            "widget",
            {
                "chart_type": "bar",
                "field": "duration",
                "dashboard": d1["id"],
                "filters": {"field": "duration", "op": "gte", "value": 60},
            },
            label="property-w",
        )
        self.widget_id: int = widget["id"]
        self.metric_names: dict[int, str | None] = {m["id"]: m.get("name") for m in ctx.metrics}
        self.dashboards: list[int | None] = [d1["id"], d2["id"], d3["id"], None]
        self.metrics: list[int | None] = [*self.metric_names, None]

    # -- sending -------------------------------------------------------------------------------------------
    def send_case(self, case: Any, *, auth: str = "primary", rewrite_url: Callable[[str], str] | None = None) -> Any:
        kwargs = case.as_transport_kwargs(base_url=self.ctx.target.base_url)
        if rewrite_url is not None:
            kwargs["url"] = rewrite_url(kwargs["url"])
        headers = dict(kwargs.get("headers") or {})
        if auth != "primary":
            headers = {k: v for k, v in headers.items() if k.lower() != API_KEY_HEADER.lower()}
            key = self.ctx.target.key_for(auth)
            if key is not None:
                headers[API_KEY_HEADER] = key
        content: bytes | None = None
        if "json" in kwargs:
            try:
                content = json.dumps(kwargs["json"], allow_nan=False).encode()
            except ValueError:
                hypothesis.reject()  # not representable as JSON; nothing a target could receive
        elif kwargs.get("data") is not None:
            data = kwargs["data"]
            content = data if isinstance(data, bytes) else str(data).encode()
        return self.ctx.target.send(
            kwargs["method"], kwargs["url"], headers=headers, content=content, params=kwargs.get("params") or None
        )

    def get_widget(self) -> dict[str, Any] | None:
        response = self.ctx.target.request("GET", f"/dashboards/widgets/{self.widget_id}/")
        try:
            body = response.json()
        except ValueError:
            return None
        return body if response.status_code == 200 and isinstance(body, dict) else None

    def restore(self, before: dict[str, Any] | None, case: Any) -> None:
        """Put back what an accepted invalid PATCH stored, so it does not taint the next examples' answers."""
        body = getattr(case, "body", None)
        if before is None or not isinstance(body, dict):
            return
        writable = set(self.contract.writable("Widget"))
        previous = {key: before.get(key) for key in body if key in writable}
        if previous:
            self.ctx.target.request("PATCH", f"/dashboards/widgets/{self.widget_id}/", json=previous)

    def fix_positive(self, case: Any) -> None:
        body = getattr(case, "body", None)
        if isinstance(body, dict):
            case.body = calibration.fix_positive_body(body, dashboards=self.dashboards, metrics=self.metrics)

    # -- judging -------------------------------------------------------------------------------------------
    def schema_name_for(self, case: Any) -> str:
        if "/dashboards/dashboards/" in case.operation.path:
            return "Dashboard"
        return "WidgetCreate" if case.operation.method.upper() == "POST" else "PatchedWidget"

    def st_findings(
        self, case: Any, response: Any, stage: str, checks: tuple[Callable[..., Any], ...], **kwargs: Any
    ) -> list[Finding]:
        found: list[Finding] = []
        for check in checks:
            try:
                case.validate_response(response, checks=[check], **kwargs)
            except (FailureGroup, Failure, AssertionError) as exc:
                failures = list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
                name = check.__name__
                if name == "negative_data_rejection" and calibration.drf_would_accept(
                    self.contract, self.schema_name_for(case), case.body
                ):
                    continue  # DRF's defaults accept this input: not a failure (calibration)
                key = f"st:{name}"
                if name == "response_schema_conformance":
                    key += "@2xx" if 200 <= response.status_code < 300 else "@4xx"
                    if key.endswith("@2xx") and self._echoes_accepted_invalid_input(case, response):
                        # Undocumented validation (e.g. of the filter language) let invalid input through and
                        # the response echoes it: that is input acceptance (a SHOULD), not a broken schema.
                        key = "st:negative_data_rejection"
                first = failures[0]
                title = getattr(first, "title", type(first).__name__)
                message = getattr(first, "message", str(first))
                found.append(self._finding(key, str(title), str(message), stage, case, response))
        return found

    def _echoes_accepted_invalid_input(self, case: Any, response: Any) -> bool:
        """True when a negative case was accepted and every schema error of the response is in a sent property."""
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        body = getattr(case, "body", None)
        if mode != GenerationMode.NEGATIVE or not isinstance(body, dict):
            return False
        try:
            answer = response.json()
        except ValueError:
            return False
        schema = "Dashboard" if "/dashboards/dashboards/" in case.operation.path else "Widget"
        errors = self.contract.errors({"$ref": f"#/components/schemas/{schema}"}, answer)
        paths = [list(e.absolute_path) for e in errors]
        return bool(paths) and all(
            p and (p[0] in body or DERIVED_FROM.get(str(p[0]), set()) & body.keys()) for p in paths
        )

    def _finding(self, key: str, title: str, message: str, stage: str, case: Any, response: Any) -> Finding:
        scrub = self.ctx.target.scrub
        request = response.request
        content = getattr(request, "content", None) if hasattr(request, "content") else getattr(request, "body", None)
        url = str(request.url)
        curl = scrub(redact.curl(str(request.method), url, dict(request.headers), content))
        body = getattr(case, "body", None)
        example = None
        if body is not None and type(body).__name__ != "NotSet":
            example = scrub(json.dumps(body, default=repr, ensure_ascii=False)[:4000])
        status_line = f"{request.method} {urlsplit(url).path} -> {response.status_code}"
        return Finding(
            check=key,
            title=title,
            message=scrub(f"{status_line}: {message}"[:3000]),
            stage=stage,
            curl=curl,
            minimal_example=example,
        )

    def oracle_findings(self, case: Any, response: Any, before: Any, after: Any, stage: str) -> list[Finding]:
        if before is None or after is None:
            return []
        sent = case.body if isinstance(getattr(case, "body", None), dict) else {}
        obs = oracle.Observation(before, after, self.dashboard_filters, self.metric_names, sent)
        try:
            body = response.json()
        except ValueError:
            body = None
        problems = oracle.judge(self.contract, obs, response.status_code, body)
        return [
            self._finding(f"oracle:{aspect}", f"PATCH semantics: {aspect}", msg, stage, case, response)
            for aspect, msg in problems
        ]

    def auth_probe(self, case: Any, response: Any, stage: str) -> list[Finding]:
        """schemathesis's ``ignored_auth``, sent through the suite's seam: no key and a wrong key are refused."""
        found: list[Finding] = []
        before = self.get_widget()
        for auth in ("none", "invalid"):
            probe = self.send_case(case, auth=auth)
            if probe.status_code not in (401, 403):
                found.append(
                    self._finding(
                        "st:ignored_auth",
                        "Authentication declared but not enforced",
                        f"the same PATCH with {'no' if auth == 'none' else 'a wrong'} key answered {probe.status_code}",
                        stage,
                        case,
                        probe,
                    )
                )
        after = self.get_widget()
        if before and after and before.get("updated_at") != after.get("updated_at") and not found:
            found.append(
                self._finding(
                    "st:ignored_auth",
                    "Unauthenticated PATCH was applied",
                    "updated_at advanced after PATCHes without a valid key",
                    stage,
                    case,
                    response,
                )
            )
        return found


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
        before = env.get_widget() if is_patch else None
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
            _raise(findings[0])

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
            raised = list(_collect_raised(exc))
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

    def _remember(self, case: Any, response: Any) -> None:
        if case.method.upper() != "POST" or response.status_code != 201:
            return
        try:
            created = response.json()
        except ValueError:
            return
        if isinstance(created, dict) and "id" in created:
            from conformance.engine.fixtures import Created

            kind = "widget" if "/widgets/" in case.operation.path else "dashboard"
            self.env.ctx.fixtures.ledger.append(Created(kind, created["id"], "primary", str(created.get("name"))))

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
                response = env.send_case(case, rewrite_url=stage._guard if writes else None)
                stage._remember(case, response)
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

            if isinstance(exc, TargetUnavailable):
                raise
            self.result.error = env.ctx.target.scrub(f"{type(exc).__name__}: {exc}")[:2000]
        self.result.seconds = time.perf_counter() - started
        self.result.requests = env.ctx.target.requests_sent - sent_before
        return self.result


def run_stages(ctx: RunContext, profile: Profile, names: tuple[str, ...] = STAGES) -> list[StageResult]:
    """Run the named stages in order, their fixtures created once and always deleted."""
    results: list[StageResult] = []
    with ctx.fixtures.scope():
        env = PropertyEnv(ctx)
        for name in names:
            seed = ctx.seed + STAGES.index(name)  # the same stage gets the same seed however it is run
            if name == "stateful":
                results.append(StatefulStage(env, profile, seed).run())
            else:
                results.append(UnitStage(env, name, profile, seed).run())
    return results
