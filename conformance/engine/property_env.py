"""The property stages' shared ground: fixtures, sending generated cases through the suite's seam, judging."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup

from conformance import calibration
from conformance.engine import oracle, redact
from conformance.engine.context import RunContext
from conformance.engine.exchanges import exchange_of
from conformance.engine.findings import Finding
from conformance.engine.target import API_KEY_HEADER

PATCH_PATH = "/dashboards/widgets/{id}/"
# Read-only properties computed from sent ones: an invalid value there echoes the sent input.
DERIVED_FROM: dict[str, set[str]] = {"effective_filters": {"filters", "dashboard"}, "metric_name": {"metric"}}


class PropertyEnv:
    """Fixtures and helpers the stages share: dashboards with and without filters, one widget to PATCH."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.contract = ctx.contract
        # An explicit empty config: a schemathesis.toml in the working directory must not steer the suite.
        key = ctx.target.config.api_key or ""
        self.schema = schemathesis.openapi.from_dict(
            dict(ctx.contract.document),
            config=schemathesis.Config.from_dict({"auth": {"openapi": {"api_key": {"api_key": key}}}}),
        )
        self.schema.config.update(base_url=ctx.target.base_url, headers={API_KEY_HEADER: key})
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
        self.last_read: dict[str, Any] | None = None  # the widget as the last GET showed it
        self.metric_names: dict[int, str | None] = {m["id"]: m.get("name") for m in ctx.metrics}
        self.dashboards: list[int | None] = [d1["id"], d2["id"], d3["id"], None]
        self.metrics: list[int | None] = [*self.metric_names, None]
        self.group_by = calibration.documented_examples(ctx.contract, "group_by")  # the live revision's shapes

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
        try:
            body = response.json()
        except ValueError:
            body = None
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

    # -- judging -------------------------------------------------------------------------------------------
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
            exchanges=[exchange_of(response, scrub)],  # the exchange that broke the rule
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
            self._finding(
                oracle.check_key(aspect), f"PATCH semantics: {oracle.ASPECTS[aspect]}", msg, stage, case, response
            )
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
