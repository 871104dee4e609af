"""The emulator's endpoint semantics: one small overridable method per decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import Response

from conformance.contract import Contract
from conformance.emulator import jsonio
from conformance.emulator.body import read_limited
from conformance.emulator.errors import ApiError, FieldError, detail, message
from conformance.emulator.filters import group_depth, merge_and
from conformance.emulator.store import DashboardRow, MetricRow, Store, Tenant, WidgetRow
from conformance.emulator.timestamps import advance, iso, now_us
from conformance.emulator.validation import (
    FieldSpec,
    char_content_errors,
    choice_value,
    coerce_char,
    coerce_integer,
    coerce_pk,
    echo,
    field_specs,
    filter_problem,
    first_surrogate,
    schema_messages,
)

JSON = Any


@dataclass(frozen=True)
class Reply:
    """What an operation answers: a status, a JSON body (``None``: no body) and extra headers."""

    status: int
    body: JSON = None
    headers: Mapping[str, str] = field(default_factory=dict)


class Behaviour:
    """How the emulated Cekura API (a Django REST Framework backend) answers, one decision per method.

    ``handle`` runs DRF's order: authenticate, check the method, look the object up, parse the body,
    validate, write, represent. Each step is a small method so that a *faulty variant* of the emulator
    is a tiny subclass overriding ONE of them, served with ``create_app(behaviour=Variant)``::

        class FrozenUpdatedAt(Behaviour):
            def next_timestamp(self, previous: int) -> int:
                return previous

    Operations are the methods named after the fragment's operationIds (``-`` becomes ``_``).
    """

    def __init__(self, store: Store, contract: Contract, *, max_body_bytes: int = 1 << 20) -> None:
        self.store = store
        self.contract = contract
        self.max_body_bytes = max_body_bytes
        self.key_header: str = contract.document["components"]["securitySchemes"]["api_key"]["name"]
        self.widget_fields = field_specs(contract, "Widget", "WidgetCreate")
        self.dashboard_fields = field_specs(contract, "Dashboard", "Dashboard")
        self._validators: dict[str, Draft202012Validator] = {}
        self._operations = {(op.path, op.method): op.operation_id.replace("-", "_") for op in contract.operations()}

    # Pipeline -----------------------------------------------------------------------------------------

    async def handle(self, path: str, request: Request) -> Reply:
        """One request to a fragment path, in DRF's order; errors become their replies."""
        try:
            tenant = self.authenticate(request.headers.get(self.key_header))
            if request.method == "OPTIONS":
                return self.options(path)
            operation = self.operation(path, request.method)
            if operation is None:
                raise self.method_not_allowed(request.method, path)
            reply: Reply = await getattr(self, operation)(tenant, request)
            return reply
        except ApiError as error:
            return self.error_reply(error)

    def operation(self, path: str, method: str) -> str | None:
        """The name of the method serving ``method`` on ``path``, if the path allows it."""
        if method not in self.allowed_methods(path):
            return None
        return self._operations.get((path, method))

    # Authentication -----------------------------------------------------------------------------------

    def authenticate(self, key: str | None) -> Tenant:
        """The tenant owning the API key; 401 when it is missing or unknown."""
        if not key:
            raise detail(401, "not_authenticated", self.challenge())
        tenant = self.store.tenant_by_key(key)
        if tenant is None:
            raise detail(401, "invalid_key", self.challenge())
        return tenant

    def challenge(self) -> dict[str, str]:
        """Headers of a 401 (DRF answers 401 rather than 403 when it can name a challenge)."""
        return {"WWW-Authenticate": f'Api-Key header="{self.key_header}"'}

    # Methods ------------------------------------------------------------------------------------------

    def allowed_methods(self, path: str) -> list[str]:
        """The methods the fragment declares on ``path``."""
        return self.contract.allowed_methods(path)

    def allow_header(self, path: str) -> str:
        return ", ".join([*self.allowed_methods(path), "OPTIONS"])

    def method_not_allowed(self, method: str, path: str) -> ApiError:
        return detail(405, "method_not_allowed", {"Allow": self.allow_header(path)}, method=method)

    def options(self, path: str) -> Reply:
        """DRF's metadata answer to OPTIONS, cut down to what the emulator knows."""
        first = next(op for op in self.contract.operations() if op.path == path)
        body = {
            "name": first.spec.get("summary", path),
            "description": first.spec.get("description", "").strip(),
            "renders": ["application/json"],
            "parses": ["application/json"],
        }
        return Reply(200, body, {"Allow": self.allow_header(path)})

    # Lookup -------------------------------------------------------------------------------------------

    def parse_id(self, raw: str) -> int | None:
        """A path id as Django's integer lookup reads it; anything else finds nothing."""
        try:
            return int(raw)
        except ValueError:
            return None

    def can_see(self, tenant: Tenant, owner: int) -> bool:
        """Whether ``tenant`` may see an object owned by ``owner`` (queryset filtering: else 404)."""
        return tenant.id == owner

    def not_found(self) -> ApiError:
        return detail(404, "not_found")

    def find_widget(self, tenant: Tenant, raw_id: str) -> WidgetRow:
        pk = self.parse_id(raw_id)
        row = None if pk is None else self.store.widget(pk)
        if row is None or not self.can_see(tenant, row.tenant):
            raise self.not_found()
        return row

    def find_dashboard(self, tenant: Tenant, raw_id: str) -> DashboardRow:
        pk = self.parse_id(raw_id)
        row = None if pk is None else self.store.dashboard(pk)
        if row is None or not self.can_see(tenant, row.tenant):
            raise self.not_found()
        return row

    # Body ---------------------------------------------------------------------------------------------

    async def read_body(self, request: Request) -> bytes:
        """The raw body; 413 as soon as it exceeds ``max_body_bytes``."""
        raw = await read_limited(request, self.max_body_bytes)
        if raw is None:
            raise detail(413, "too_large", limit=self.max_body_bytes)
        return raw

    def is_json(self, content_type: str) -> bool:
        return content_type.split(";", 1)[0].strip().lower() == "application/json"

    def check_media_type(self, content_type: str | None, raw: bytes) -> None:
        """415 for a non-empty body the JSON parser does not take."""
        if raw and not self.is_json(content_type or ""):
            raise detail(415, "unsupported_media_type", media_type=content_type or "")

    def decode_json(self, raw: bytes) -> JSON:
        try:
            return jsonio.loads_strict(raw)
        except ValueError as error:
            raise detail(400, "json_parse", reason=echo(error)) from None

    def parse_body(self, content_type: str | None, raw: bytes) -> dict[str, JSON]:
        """The body as a dictionary; an empty body is an empty one (DRF's empty ``request.data``)."""
        if not raw:
            return {}
        self.check_media_type(content_type, raw)
        data = self.decode_json(raw)
        if data is None:
            raise ApiError(400, {"non_field_errors": [message("no_data")]})
        if not isinstance(data, dict):
            problem = message("not_a_dict", data_type=type(data).__name__)
            raise ApiError(400, {"non_field_errors": [problem]})
        return data

    async def request_data(self, request: Request) -> dict[str, JSON]:
        return self.parse_body(request.headers.get("content-type"), await self.read_body(request))

    # Validation ---------------------------------------------------------------------------------------

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        return self.validate(tenant, self.widget_fields, data, partial=partial)

    def validate_dashboard(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        return self.validate(tenant, self.dashboard_fields, data, partial=partial)

    def validate(
        self, tenant: Tenant, specs: Mapping[str, FieldSpec], data: Mapping[str, JSON], *, partial: bool
    ) -> dict[str, JSON]:
        """The writable fields of ``data``, validated; unknown and read-only keys are dropped, errors collected."""
        values: dict[str, JSON] = {}
        errors: dict[str, list[str]] = {}
        for name, spec in specs.items():
            if name not in data:
                if spec.required and not partial:
                    errors[name] = [message("required")]
                continue
            try:
                values[name] = self.validate_field(tenant, spec, data[name])
            except FieldError as error:
                errors[name] = error.messages
        if errors:
            raise ApiError(400, errors)
        return values

    def validate_field(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> JSON:
        if value is None:
            if spec.nullable:
                return None
            raise FieldError.of("null")
        if spec.kind == "pk":
            return self.validate_pk(tenant, spec, value)
        if spec.kind == "choice":
            return self.validate_choice(spec, value)
        if spec.kind == "char":
            return self.validate_char(spec, value)
        if spec.kind == "integer":
            return self.validate_integer(spec, value)
        if spec.kind == "filter":
            return self.validate_filters(spec, value)
        return self.validate_json(spec, value)

    def validate_choice(self, spec: FieldSpec, value: JSON) -> str:
        """A member of the fragment's enum; ``""`` only where the enum lists it."""
        return choice_value(spec, value)

    def validate_char(self, spec: FieldSpec, value: JSON) -> str:
        """DRF CharField: numbers become text, whitespace is trimmed, NUL and surrogates are refused."""
        text = coerce_char(value)
        if text == "" and not spec.allow_blank:
            raise FieldError.of("blank")
        errors = [*self.field_errors(spec, text), *char_content_errors(text)]
        if errors:
            raise FieldError(errors)
        return text

    def validate_integer(self, spec: FieldSpec, value: JSON) -> int:
        number = coerce_integer(value)
        errors = self.field_errors(spec, number)
        if errors:
            raise FieldError(errors)
        return number

    def validate_pk(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> int:
        """DRF PrimaryKeyRelatedField: an id of an object the caller owns."""
        pk = coerce_pk(value)
        if not self.related_exists(tenant, spec.name, pk):
            raise FieldError.of("pk_does_not_exist", pk_value=echo(value))
        return pk

    def related_exists(self, tenant: Tenant, field_name: str, pk: int) -> bool:
        """Whether ``pk`` names the caller's own dashboard or metric."""
        row: DashboardRow | MetricRow | None
        row = self.store.dashboard(pk) if field_name == "dashboard" else self.store.metric(pk)
        return row is not None and row.tenant == tenant.id

    def validate_filters(self, spec: FieldSpec, value: JSON) -> JSON:
        """The fragment's ``Filter`` schema and its ``x-cekura-max-depth`` nesting limit."""
        if spec.max_depth is not None and group_depth(value) > spec.max_depth:
            raise FieldError.of("filter_too_deep", limit=spec.max_depth)
        errors = list(self.validator(spec).iter_errors(value))
        if errors:
            raise FieldError([filter_problem(self.contract, errors)])
        return self.validate_json(spec, value)

    def validate_json(self, spec: FieldSpec, value: JSON) -> JSON:
        """Free JSON; only strings no database can store (lone surrogates) are refused."""
        surrogate = first_surrogate(value)
        if surrogate is not None:
            raise FieldError.of("surrogate_characters", code_point=surrogate)
        return value

    def field_errors(self, spec: FieldSpec, value: JSON) -> list[str]:
        """The fragment's constraints (max length...) on an already coerced value, in DRF's words."""
        return schema_messages(self.validator(spec).iter_errors(value))

    def validator(self, spec: FieldSpec) -> Draft202012Validator:
        # Built on the resolved property schema: no $ref hop per request for plain fields.
        found = self._validators.get(spec.pointer)
        if found is None:
            found = self._validators[spec.pointer] = self.contract.validator(spec.schema)
        return found

    # Writes -------------------------------------------------------------------------------------------

    def now(self) -> int:
        return now_us()

    def next_timestamp(self, previous: int) -> int:
        """The new ``updated_at``: strictly after ``previous`` even when the clock has not moved."""
        return advance(previous, self.now())

    def create_widget(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        defaults = {name: spec.default() for name, spec in self.widget_fields.items()}
        return self.store.insert_widget(tenant.id, {**defaults, **values}, self.now())

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> None:
        """Write only the sent fields (one UPDATE of those columns), bumping ``updated_at``."""
        if not self.store.update_widget(widget.id, changes, self.next_timestamp):
            raise self.not_found()  # deleted while this request's body was being read

    def delete_widget(self, widget: WidgetRow) -> None:
        self.store.delete_widget(widget.id)

    def create_dashboard(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        defaults = {name: spec.default() for name, spec in self.dashboard_fields.items()}
        return self.store.insert_dashboard(tenant.id, {**defaults, **values}, self.now())

    def apply_dashboard_patch(self, dashboard: DashboardRow, changes: Mapping[str, JSON]) -> None:
        if not self.store.update_dashboard(dashboard.id, changes, self.next_timestamp):
            raise self.not_found()

    def delete_dashboard(self, dashboard: DashboardRow) -> None:
        """Delete the dashboard and its widgets (documented cascade)."""
        self.store.delete_dashboard(dashboard.id)

    # Representation -----------------------------------------------------------------------------------

    def effective_filters(self, dashboard_filters: JSON, widget_filters: JSON) -> JSON:
        """Computed on every read, so it follows the widget's and its current dashboard's filters."""
        return merge_and(dashboard_filters, widget_filters)

    def format_timestamp(self, us: int | None) -> str | None:
        return iso(us)

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        return {
            "id": row.id,
            "dashboard": row.dashboard,
            "name": row.name,
            "filters": row.filters,
            "effective_filters": self.effective_filters(row.dashboard_filters, row.filters),
            "chart_type": row.chart_type,
            "data_type": row.data_type,
            "field": row.field,
            "metric": row.metric,
            "metric_name": row.metric_name if row.metric is not None else None,
            "time_period": row.time_period,
            "aggregation_function": row.aggregation_function,
            "metadata": row.metadata,
            "created_at": self.format_timestamp(row.created_at),
            "updated_at": self.format_timestamp(row.updated_at),
        }

    def represent_dashboard(self, row: DashboardRow) -> dict[str, JSON]:
        widgets = [self.represent_widget(w) for w in self.store.widgets_on(row.id)]
        return {
            "id": row.id,
            "name": row.name,
            "project": row.project,
            "filters": row.filters,
            "widgets": widgets,
            "widget_count": len(widgets),
            "created_at": self.format_timestamp(row.created_at),
            "updated_at": self.format_timestamp(row.updated_at),
        }

    def represent_metric(self, row: MetricRow) -> dict[str, JSON]:
        return {"id": row.id, "name": row.name, "type": row.type, "eval_type": row.eval_type}

    # Responses ----------------------------------------------------------------------------------------

    def error_reply(self, error: ApiError) -> Reply:
        return Reply(error.status, error.body, error.headers)

    def render(self, reply: Reply) -> Response:
        """Every body is ``application/json``; a reply without a body (204) has none."""
        if reply.body is None:
            return Response(status_code=reply.status, headers=dict(reply.headers))
        return Response(
            jsonio.dumps(reply.body),
            status_code=reply.status,
            headers=dict(reply.headers),
            media_type="application/json",
        )

    # Operations (named after the fragment's operationIds) ---------------------------------------------

    def _widget_reply(self, tenant: Tenant, widget_id: int, status: int = 200) -> Reply:
        return Reply(status, self.represent_widget(self.find_widget(tenant, str(widget_id))))

    def _dashboard_reply(self, tenant: Tenant, dashboard_id: int, status: int = 200) -> Reply:
        return Reply(status, self.represent_dashboard(self.find_dashboard(tenant, str(dashboard_id))))

    async def dashboards_widgets_retrieve(self, tenant: Tenant, request: Request) -> Reply:
        return Reply(200, self.represent_widget(self.find_widget(tenant, request.path_params["id"])))

    async def dashboards_widgets_partial_update(self, tenant: Tenant, request: Request) -> Reply:
        widget = self.find_widget(tenant, request.path_params["id"])
        changes = self.validate_widget(tenant, await self.request_data(request), partial=True)
        self.apply_widget_patch(widget, changes)
        return self._widget_reply(tenant, widget.id)

    async def dashboards_widgets_destroy(self, tenant: Tenant, request: Request) -> Reply:
        self.delete_widget(self.find_widget(tenant, request.path_params["id"]))
        return Reply(204)

    async def dashboards_widgets_create(self, tenant: Tenant, request: Request) -> Reply:
        values = self.validate_widget(tenant, await self.request_data(request), partial=False)
        return self._widget_reply(tenant, self.create_widget(tenant, values), 201)

    async def dashboards_create(self, tenant: Tenant, request: Request) -> Reply:
        values = self.validate_dashboard(tenant, await self.request_data(request), partial=False)
        return self._dashboard_reply(tenant, self.create_dashboard(tenant, values), 201)

    async def dashboards_retrieve(self, tenant: Tenant, request: Request) -> Reply:
        return Reply(200, self.represent_dashboard(self.find_dashboard(tenant, request.path_params["id"])))

    async def dashboards_partial_update(self, tenant: Tenant, request: Request) -> Reply:
        dashboard = self.find_dashboard(tenant, request.path_params["id"])
        changes = self.validate_dashboard(tenant, await self.request_data(request), partial=True)
        self.apply_dashboard_patch(dashboard, changes)
        return self._dashboard_reply(tenant, dashboard.id)

    async def dashboards_destroy(self, tenant: Tenant, request: Request) -> Reply:
        self.delete_dashboard(self.find_dashboard(tenant, request.path_params["id"]))
        return Reply(204)

    async def metrics_v1_list(self, tenant: Tenant, request: Request) -> Reply:
        return Reply(200, [self.represent_metric(m) for m in self.store.metrics(tenant.id)])
