"""The property stages' harness: the shared ground (fixtures), each part's environment that sends generated cases
through the suite's seam and turns what the checks and the oracle say into findings."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import schemathesis
from schemathesis import GenerationMode

from conformance import calibration
from conformance.engine import oracle, redact
from conformance.engine.answers import json_or_none
from conformance.engine.context import RunContext
from conformance.engine.exchanges import exchange_of
from conformance.engine.properties.findings import Finding
from conformance.engine.properties.judging import failures_by_check
from conformance.engine.target import API_KEY_HEADER

PATCH_PATH = "/dashboards/widgets/{id}/"
# The widget id cases are generated with before a part sends them to its own widget (no object has it).
FOREIGN_WIDGET = 2147480001
# The widget each PATCH stage part starts from (on the first dashboard).
WIDGET_FIXTURE: dict[str, Any] = {
    "chart_type": "bar",
    "field": "duration",
    "filters": {"field": "duration", "op": "gte", "value": 60},
}
# Read-only properties computed from sent ones: an invalid value there echoes the sent input.
DERIVED_FROM: dict[str, set[str]] = {"effective_filters": {"filters", "dashboard"}, "metric_name": {"metric"}}


class PropertyGround:
    """What every stage and part shares and nobody changes: three dashboards (with and without filters), the
    metrics. Created once per run; only widgets are PATCHed by the stages, and the stateful sequences may only
    touch what they create themselves, so the oracle's view of these never moves.

    It also creates one widget, which nothing changes: a target that cannot create the stages' fixtures (a 5xx
    to every POST of a widget) runs no stage at all, each stage saying why, rather than some stages judging the
    refusal as a finding while others cannot start."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        fx = ctx.fixtures
        filters_a = {"field": "timestamp", "op": "gte", "value": "now-7d"}
        filters_b = {"operator": "or", "conditions": [{"field": "success", "op": "eq", "value": True}]}
        d1 = fx.create("dashboard", {"filters": filters_a}, label="property-d1")
        d2 = fx.create("dashboard", {"filters": filters_b}, label="property-d2")
        d3 = fx.create("dashboard", {}, label="property-d3")
        self.dashboard_filters: dict[int | None, Any] = {d["id"]: d.get("filters") for d in (d1, d2, d3)}
        self.dashboard_filters[None] = None
        self.first_dashboard: int = d1["id"]
        fx.create("widget", WIDGET_FIXTURE | {"dashboard": d1["id"]}, label="property-w0")
        self.metric_names: dict[int, str | None] = {m["id"]: m.get("name") for m in ctx.metrics}
        self.dashboards: list[int | None] = [d1["id"], d2["id"], d3["id"], None]
        self.metrics: list[int | None] = [*self.metric_names, None]
        self.group_by = calibration.documented_examples(ctx.contract, "group_by")  # the live revision's shapes


class PropertyEnv:
    """One part of a stage: its own schema (schemathesis's generation settings are per schema) and, for the
    PATCH stages, its own widget, whose GET-before/after bookkeeping (``last_read``) only this part changes."""

    def __init__(self, ctx: RunContext, ground: PropertyGround | None, *, widget: bool = True) -> None:
        """``ground`` None: an env that only generates (no fixture, nothing to calibrate against)."""
        self.ctx = ctx
        self.contract = ctx.contract
        self.ground = ground
        # An explicit empty config: a schemathesis.toml in the working directory must not steer the suite.
        key = ctx.target.config.api_key or ""
        self.schema = schemathesis.openapi.from_dict(
            dict(ctx.contract.document),
            config=schemathesis.Config.from_dict({"auth": {"openapi": {"api_key": {"api_key": key}}}}),
        )
        self.schema.config.update(base_url=ctx.target.base_url, headers={API_KEY_HEADER: key})
        self.patch_op = self.schema[PATCH_PATH]["PATCH"]
        self.dashboard_filters: dict[int | None, Any] = ground.dashboard_filters if ground else {}
        self.metric_names: dict[int, str | None] = ground.metric_names if ground else {}
        self.dashboards: list[int | None] = ground.dashboards if ground else []
        self.metrics: list[int | None] = ground.metrics if ground else []
        self.group_by = ground.group_by if ground else calibration.documented_examples(ctx.contract, "group_by")
        self.last_read: dict[str, Any] | None = None  # the widget as the last GET showed it
        self.widget_id: int = FOREIGN_WIDGET
        if widget and ground is not None:
            created = ctx.fixtures.create(
                "widget", WIDGET_FIXTURE | {"dashboard": ground.first_dashboard}, label="property-w"
            )
            self.widget_id = created["id"]

    # -- sending -------------------------------------------------------------------------------------------
    def send_case(self, case: Any, *, auth: str = "primary", rewrite_url: Callable[[str], str] | None = None) -> Any:
        self.last_read = None  # whatever this request does, the widget may have changed
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
        body = json_or_none(response)
        self.last_read = body if response.status_code == 200 and isinstance(body, dict) else None
        return self.last_read

    def widget_before(self) -> dict[str, Any] | None:
        """The widget as a GET last showed it, when nothing was sent since; else a fresh GET."""
        return self.last_read if self.last_read is not None else self.get_widget()

    def restore(self, before: dict[str, Any] | None, case: Any) -> None:
        """Put back what an accepted invalid PATCH stored, so it does not taint the next examples' answers."""
        body = getattr(case, "body", None)
        if before is None or not isinstance(body, dict):
            return
        writable = set(self.contract.writable("Widget"))
        previous = {key: before.get(key) for key in body if key in writable}
        if previous:
            self.last_read = None
            self.ctx.target.request("PATCH", f"/dashboards/widgets/{self.widget_id}/", json=previous)

    def fix_positive(self, case: Any) -> None:
        body = getattr(case, "body", None)
        if isinstance(body, dict):
            case.body = calibration.fix_positive_body(
                body, dashboards=self.dashboards, metrics=self.metrics, group_by=self.group_by
            )

    def fix_negative(self, case: Any) -> None:
        """A negative body's dashboard, if a target could read it as one, is one of the ground's (calibration)."""
        body = getattr(case, "body", None)
        if isinstance(body, dict):
            case.body = calibration.own_dashboard(body, dashboards=self.dashboards)

    def stored_invalid(self, after: dict[str, Any] | None) -> bool:
        """Whether the widget as read is unknown or breaks the Widget schema (an accepted invalid PATCH stored
        something every later answer would echo, failing the schema checks of examples that did nothing wrong)."""
        return after is None or bool(self.contract.errors({"$ref": "#/components/schemas/Widget"}, after))

    # -- judging -------------------------------------------------------------------------------------------
    def st_findings(
        self, case: Any, response: Any, stage: str, checks: tuple[Callable[..., Any], ...], **kwargs: Any
    ) -> list[Finding]:
        found: list[Finding] = []
        for check, failures in failures_by_check(case, response, checks, **kwargs):
            if failures:
                name = check.__name__
                if name == "not_a_server_error" and self.unrecognised_method_refused(case, response):
                    continue  # RFC 9110 §15.6.2: 501 is the right answer to a method the server does not recognise
                body_schema = self.contract.request_schema(case.operation.method, case.operation.path)
                if (
                    name == "negative_data_rejection"
                    and body_schema is not None
                    and calibration.drf_would_accept(self.contract, body_schema, case.body)
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

    def unrecognised_method_refused(self, case: Any, response: Any) -> bool:
        """A 501 to a method the fragment does not declare on the path: a refusal, not a server failure."""
        method = str(case.method).upper()
        return response.status_code == 501 and method not in self.contract.allowed_methods(case.operation.path)

    def _echoes_accepted_invalid_input(self, case: Any, response: Any) -> bool:
        """True when a negative case was accepted and every schema error of the response is in a sent property."""
        mode = case.meta.generation.mode if case.meta is not None else GenerationMode.POSITIVE
        body = getattr(case, "body", None)
        if mode != GenerationMode.NEGATIVE or not isinstance(body, dict):
            return False
        answer = json_or_none(response)  # not JSON: None, which no sent property explains
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
            exchanges=[exchange_of(response, scrub)],  # the exchange that broke the rule
            minimal_example=example,
        )

    def oracle_findings(self, case: Any, response: Any, before: Any, after: Any, stage: str) -> list[Finding]:
        if before is None or after is None:
            return []
        sent = case.body if isinstance(getattr(case, "body", None), dict) else {}
        obs = oracle.Observation(before, after, self.dashboard_filters, self.metric_names, sent)
        body = json_or_none(response)
        problems = oracle.judge(self.contract, obs, response.status_code, body)
        return [
            self._finding(
                oracle.check_key(aspect), f"PATCH semantics: {oracle.ASPECTS[aspect]}", msg, stage, case, response
            )
            for aspect, msg in problems
        ]

    def auth_probe(self, case: Any, response: Any, stage: str, *, known: dict[str, Any] | None = None) -> list[Finding]:
        """schemathesis's ``ignored_auth``, sent through the suite's seam: no key and a wrong key are refused.

        ``known``: the widget as a GET just showed it (nothing was sent since), so it is not read again."""
        found: list[Finding] = []
        before = known if known is not None else self.get_widget()
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
