"""The emulator's endpoint semantics: one small overridable method per decision."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from starlette.requests import Request
from starlette.responses import Response

from conformance._types import JSON
from conformance.contract import Contract
from conformance.emulator import jsonio
from conformance.emulator.body import read_limited
from conformance.emulator.browsable import browsable_page
from conformance.emulator.errors import (
    ApiError,
    DjangoPage,
    FieldError,
    bad_request_page,
    detail,
    message,
    not_found_page,
    permanent_redirect,
)
from conformance.emulator.filters import merge_and
from conformance.emulator.forms import (
    FormData,
    MultipartError,
    TooManyFields,
    html_input,
    parse_multipart,
    parse_urlencoded,
)
from conformance.emulator.guesses import Guesses
from conformance.emulator.metadata import SerializerInfo, determine_metadata
from conformance.emulator.negotiation import (
    BROWSABLE_RENDERER,
    JSON_RENDERER,
    PARSERS,
    PLAIN_JSON,
    Accepted,
    charset,
    select_parser,
    select_renderer,
    unsupported,
)
from conformance.emulator.pagination import PAGE, PAGE_SIZE, Page, links, page, page_size
from conformance.emulator.routing import Route, Router, build_routes
from conformance.emulator.store import DashboardRow, MetricRow, Store, Tenant, WidgetRow
from conformance.emulator.timestamps import advance, iso, now_us
from conformance.emulator.validation import (
    FieldSpec,
    FilterChecker,
    JSONText,
    char_content_errors,
    choice_value,
    coerce_char,
    coerce_integer,
    coerce_pk,
    echo,
    field_specs,
    first_surrogate,
    parse_json_text,
    schema_messages,
    value_type_problem,
)

#: Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` default: the largest JSON or form body DRF (3.17.2+) parses.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
_FORM, _MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"


@dataclass(slots=True)
class Reply:
    """What an operation answers: a status, a JSON body (``None``: no body) and extra headers.

    The pipeline completes it as DRF's ``finalize_response`` does (``accepted``: the negotiated renderer;
    ``allow``: the view's ``Allow`` header, sent with every answer; ``view``: the view's name; ``head``: headers
    only). ``page`` is an answer Django gives itself, outside DRF (its error pages, the slash redirect).
    """

    status: int
    body: JSON = None
    headers: Mapping[str, str] = field(default_factory=dict)
    accepted: Accepted = PLAIN_JSON
    allow: str | None = None
    view: str = ""
    head: bool = False
    page: DjangoPage | None = None


def route_path(scope: Mapping[str, Any]) -> str:
    """The path below the app's mount point (ASGI ``root_path``), as Django resolves PATH_INFO below SCRIPT_NAME."""
    path, root = str(scope["path"]), str(scope.get("root_path", ""))
    return path[len(root) :] if root and path.startswith(root) else path


class Behaviour:
    """How the emulated Cekura API (a Django REST Framework backend) answers, one decision per method.

    ``dispatch`` resolves the URL as Django does (no route: its 404 page, or the slash redirect); ``handle`` runs
    DRF's view in its order: negotiate the renderer, authenticate, check the method, look the object up, parse the
    body, validate, write, represent. Each step is a small method so that a *faulty variant* of the emulator is a
    tiny subclass overriding ONE of them, served with ``create_app(behaviour=Variant)``::

        class FrozenUpdatedAt(Behaviour):
            def next_timestamp(self, previous: int) -> int:
                return previous

    Operations are the methods named after the fragment's operationIds (``-`` becomes ``_``).
    """

    def __init__(
        self,
        store: Store,
        contract: Contract,
        *,
        max_body_bytes: int = DATA_UPLOAD_MAX_MEMORY_SIZE,
        guesses: Guesses | None = None,
    ) -> None:
        self.store = store
        self.contract = contract
        self.max_body_bytes = max_body_bytes
        self.guesses = guesses or Guesses()
        self.key_header: str = contract.document["components"]["securitySchemes"]["api_key"]["name"]
        self.widget_fields = field_specs(contract, "Widget", "WidgetCreate")
        self.serves_group_by = "group_by" in self.widget_fields  # the contract's revision declares it (live)
        self.dashboard_fields = field_specs(contract, "Dashboard", "Dashboard")
        self.router = Router(build_routes(contract))
        self.renderers = (JSON_RENDERER, BROWSABLE_RENDERER) if self.guesses.browsable_api else (JSON_RENDERER,)
        self._validators: dict[str, Draft202012Validator] = {}
        self.filter_checker = FilterChecker(contract)
        self._accepted: dict[tuple[str | None, str | None], Accepted | str] = {}
        self._parsers: dict[str | None, tuple[str, str] | None] = {}
        widget_info = SerializerInfo(
            contract, "Widget", "WidgetCreate", {n: s.kind for n, s in self.widget_fields.items()}
        )
        dashboard_info = SerializerInfo(
            contract, "Dashboard", "Dashboard", {n: s.kind for n, s in self.dashboard_fields.items()}
        )
        self.serializer_info = {"widget": widget_info.fields(), "dashboard": dashboard_info.fields(nested=widget_info)}

    # Pipeline -----------------------------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Reply:
        """Django's URL resolution, then the DRF view of the route the path reaches."""
        found = self.router.resolve(route_path(request.scope))
        if found is None:
            return self.page_reply(self.unresolved(request), request.method)
        route, params = found
        request.scope["path_params"] = params
        return await self.handle(route, request)

    async def handle(self, route: Route, request: Request) -> Reply:
        """One request to a route, in DRF's order; errors become their replies, completed like DRF's."""
        method = request.method
        try:
            accepted = self.negotiate(request)
        except ApiError as error:  # DRF renders a failed negotiation with its first renderer (JSON)
            reply, accepted = self.error_reply(error), PLAIN_JSON
        else:
            try:
                tenant = self.authenticate(request.headers.get(self.key_header))
                if method == "OPTIONS":
                    reply = self.options(route, tenant, request)
                else:
                    operation = self.operation(route, method)
                    if operation is None:
                        raise self.method_not_allowed(method, route)
                    reply = await getattr(self, operation)(tenant, request)
            except ApiError as error:
                reply = self.error_reply(error)
            except DjangoPage as page:  # raised past DRF's exception handler: Django answers
                return self.page_reply(page, method)
        reply.accepted = accepted
        reply.allow = self.allow_header(route)
        reply.view = route.view_name
        reply.head = method == "HEAD"
        return reply

    def operation(self, route: Route, method: str) -> str | None:
        """The name of the method serving ``method`` on ``route`` (HEAD is served as GET), if the view has one."""
        return route.operations.get(method)

    def unresolved(self, request: Request) -> DjangoPage:
        """No route matches: ``CommonMiddleware`` redirects to the slash path if that one matches (``APPEND_SLASH``,
        every method since ``DEBUG`` is off), else Django's 404 page."""
        path = route_path(request.scope)
        if self.router.slash_redirect(path):
            query = request.scope.get("query_string", b"").decode("latin-1")
            full = request.scope.get("root_path", "") + path
            location = quote(full, safe="/:@&+$,-_.!~*'()") + "/" + (f"?{query}" if query else "")
            return permanent_redirect(location)
        return not_found_page()

    def page_reply(self, page: DjangoPage, method: str) -> Reply:
        return Reply(page.status, page=page, head=method == "HEAD")

    # Content negotiation --------------------------------------------------------------------------------

    def negotiate(self, request: Request) -> Accepted:
        """The renderer for ``Accept`` and ``?format=``; 406 when none fits (remembered per header value)."""
        accept = request.headers.get("accept")
        format_ = request.query_params.get("format") if request.scope.get("query_string") else None
        key = (accept, format_)
        found = self._accepted.get(key)
        if found is None:
            try:
                found = select_renderer(accept, format_, self.renderers)
            except ApiError as error:
                found = str(error.body["detail"])
            if len(self._accepted) >= 1024:  # hostile headers must not grow the cache without bound
                self._accepted.clear()
            self._accepted[key] = found
        if isinstance(found, str):
            raise ApiError(406, {"detail": found})
        return found

    # Authentication -----------------------------------------------------------------------------------

    def authenticate(self, key: str | None) -> Tenant:
        """The tenant owning the API key; 401 (or 403, see ``Guesses``) when it is missing or unknown."""
        if not key:
            raise self.authentication_failed("not_authenticated")
        tenant = self.store.tenant_by_key(key)
        if tenant is None:
            raise self.authentication_failed("invalid_key")
        return tenant

    def authentication_failed(self, code: str) -> ApiError:
        """DRF answers 401 when the authentication class names a challenge, 403 when it names none."""
        if self.guesses.auth_failure_status == 403:
            return detail(403, code)
        return detail(401, code, self.challenge())

    def challenge(self) -> dict[str, str]:
        """Headers of a 401 (DRF answers 401 rather than 403 when it can name a challenge)."""
        return {"WWW-Authenticate": f'Api-Key header="{self.key_header}"'}

    # Methods ------------------------------------------------------------------------------------------

    def allow_header(self, route: Route) -> str:
        """DRF's ``Allow``: every method the view answers, on every response (not only on 405)."""
        return route.allow

    def method_not_allowed(self, method: str, route: Route) -> ApiError:
        return detail(405, "method_not_allowed", method=method)

    def options(self, route: Route, tenant: Tenant, request: Request) -> Reply:
        """DRF's ``SimpleMetadata``: the view, its renderers and parsers, and the fields PUT and POST take.

        PUT is described only when the object exists for the caller (DRF tries ``get_object()`` and leaves the
        action out on a 404); an unknown id still answers 200.
        """
        actions: dict[str, JSON] = {}
        fields = self.serializer_info.get(route.resource)
        if fields is not None and "PUT" in route.methods and self.visible(route, tenant, request):
            actions["PUT"] = fields
        if fields is not None and "POST" in route.methods:
            actions["POST"] = fields
        renders = [renderer.media_type for renderer in self.renderers]
        return Reply(200, determine_metadata(route.view_name, renders, list(PARSERS), actions))

    def visible(self, route: Route, tenant: Tenant, request: Request) -> bool:
        try:
            find = self.find_widget if route.resource == "widget" else self.find_dashboard
            find(tenant, request.path_params["id"])
        except ApiError:
            return False
        return True

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
        """The raw body; Django's 400 page past ``max_body_bytes`` (``RequestDataTooBig``)."""
        raw = await read_limited(request, self.max_body_bytes)
        if raw is None:
            raise self.request_too_big()
        return raw

    def request_too_big(self) -> DjangoPage:
        """``DATA_UPLOAD_MAX_MEMORY_SIZE`` exceeded: a SuspiciousOperation DRF does not handle, so Django's 400."""
        return bad_request_page()

    def select_parser(self, content_type: str | None) -> tuple[str, str]:
        """The parser (media type) and charset for a body of ``content_type``; 415 when no default parser takes it."""
        if content_type not in self._parsers:
            media_type = select_parser(content_type)
            if len(self._parsers) >= 1024:
                self._parsers.clear()
            self._parsers[content_type] = None if media_type is None else (media_type, charset(content_type))
        found = self._parsers[content_type]
        if found is None:
            raise unsupported(content_type)
        return found

    def decode_json(self, raw: bytes) -> JSON:
        try:
            return jsonio.loads_strict(raw)
        except ValueError as error:
            raise detail(400, "json_parse", reason=echo(error)) from None

    def parse_body(self, content_type: str | None, raw: bytes) -> Mapping[str, JSON]:
        """The body as DRF's ``request.data``: JSON, form or multipart; an empty body is empty data."""
        if not raw:
            return {}
        media_type, encoding = self.select_parser(content_type)
        try:
            if media_type == _FORM:
                return parse_urlencoded(raw, encoding)
            if media_type == _MULTIPART:
                return parse_multipart(content_type or "", raw, encoding)
        except MultipartError as error:
            raise detail(400, "multipart_parse", reason=echo(error)) from None
        except TooManyFields:
            raise bad_request_page() from None
        if encoding != "utf-8":
            try:
                raw = raw.decode(encoding).encode("utf-8", errors="surrogatepass")
            except UnicodeDecodeError as error:
                raise detail(400, "json_parse", reason=echo(error)) from None
        data = self.decode_json(raw)
        if data is None:
            raise ApiError(400, {"non_field_errors": [message("no_data")]})
        if not isinstance(data, dict):
            problem = message("not_a_dict", data_type=type(data).__name__)
            raise ApiError(400, {"non_field_errors": [problem]})
        return data

    async def request_data(self, request: Request) -> Mapping[str, JSON]:
        """DRF reads no body when Content-Length is 0, and picks the parser (415) before it reads one."""
        content_type = request.headers.get("content-type")
        declared = request.headers.get("content-length", "")
        if declared.isdigit():
            if int(declared) == 0:
                return {}
            self.select_parser(content_type)
        return self.parse_body(content_type, await self.read_body(request))

    # Validation ---------------------------------------------------------------------------------------

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        return self.validate(tenant, self.widget_fields, data, partial=partial)

    def validate_dashboard(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        return self.validate(tenant, self.dashboard_fields, data, partial=partial)

    def validate(
        self, tenant: Tenant, specs: Mapping[str, FieldSpec], data: Mapping[str, JSON], *, partial: bool
    ) -> dict[str, JSON]:
        """The writable fields of ``data``, validated; unknown and read-only keys are dropped, errors collected."""
        if isinstance(data, FormData):
            data = html_input(specs, data)
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
        if isinstance(value, JSONText):
            value = parse_json_text(value)
        if spec.kind == "pk" and value == "":
            value = None  # DRF's RelatedField.run_validation: "" means null for a relation
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
        """DRF PrimaryKeyRelatedField: an id of an object the caller owns (looked up with Django's ``int()``)."""
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
        """The fragment's ``Filter`` schema, at any depth (``value_type_problem``: see ``Guesses``)."""
        problem = self.filter_checker.problem(value)
        if problem is not None:
            raise FieldError([problem])
        if self.guesses.filter_value_types == "checked":
            problem = value_type_problem(value)
            if problem is not None:
                raise FieldError([problem])
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

    def field_default(self, spec: FieldSpec) -> JSON:
        """What a create stores for a field it does not send: the model default (``filters``: see ``Guesses``)."""
        return self.guesses.default_filters if spec.kind == "filter" else spec.default()

    def create_widget(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        defaults = {name: self.field_default(spec) for name, spec in self.widget_fields.items()}
        return self.store.insert_widget(tenant.id, {**defaults, **values}, self.now())

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        """Write only the sent fields (one UPDATE of those columns), bumping ``updated_at``; returns the widget as
        stored, which the answer shows without a read of its own (DRF answers from the instance it saved).

        PUT writes the same way: DRF's ``update()`` sets the validated fields only, so a field PUT does not send
        keeps its value; what differs is validation (required fields must be present).
        """
        stored = self.store.write_widget(widget, changes, self.next_timestamp)
        if stored is None:
            raise self.not_found()  # deleted while this request's body was being read
        return stored

    def delete_widget(self, widget: WidgetRow) -> None:
        self.store.delete_widget(widget.id)

    def create_dashboard(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        defaults = {name: self.field_default(spec) for name, spec in self.dashboard_fields.items()}
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
            # The live revision's serializer has group_by (after the seed-era fields); the seed one does not.
            **({"group_by": row.group_by} if self.serves_group_by else {}),
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

    def represent_dashboard_item(self, row: DashboardRow, widget_count: int) -> dict[str, JSON]:
        """A dashboard in the list (``DashboardList``: no nested widgets)."""
        return {
            "id": row.id,
            "name": row.name,
            "project": row.project,
            "filters": row.filters,
            "widget_count": widget_count,
            "created_at": self.format_timestamp(row.created_at),
            "updated_at": self.format_timestamp(row.updated_at),
        }

    def represent_metric(self, row: MetricRow) -> dict[str, JSON]:
        return {
            "id": row.id,
            "name": row.name,
            "description": row.description,
            "type": row.type,
            "eval_type": row.eval_type,
            "enum_values": row.enum_values,
        }

    # Lists --------------------------------------------------------------------------------------------

    def query_integer(self, request: Request, name: str) -> int | None:
        """An integer filter parameter (``dashboard_id``, ``project_id``); absent or empty means no filter."""
        raw = request.query_params.get(name) if request.scope.get("query_string") else None
        if raw is None or raw == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise ApiError(400, {name: [message("enter_a_number")]}) from None

    def paginate(self, request: Request, count: int) -> Page:
        """The page ``page``/``page_size`` ask for, out of ``count`` items (DRF's 404 "Invalid page.")."""
        params = request.query_params
        size = page_size(params.get(PAGE_SIZE), self.guesses.page_size, self.guesses.max_page_size)
        return page(params.get(PAGE), size, count)

    def paginated(self, request: Request, current: Page, results: list[JSON]) -> dict[str, JSON]:
        """DRF's envelope; the links are absolute URLs built from the request's own (Host header included)."""
        following, previous = links(str(request.url), current)
        return {"count": current.count, "next": following, "previous": previous, "results": results}

    # Responses ----------------------------------------------------------------------------------------

    def error_reply(self, error: ApiError) -> Reply:
        return Reply(error.status, error.body, error.headers)

    def render(self, reply: Reply) -> Response:
        """DRF's rendering: JSON (or the browsable page), ``Allow`` and ``Vary`` added; a reply without a body (204)
        has no Content-Type; HEAD gets the headers of GET and no body. Django's own pages are sent as they are."""
        if reply.page is not None:
            page_ = reply.page
            return self.response(page_.status, page_.content, page_.content_type, dict(page_.headers), head=reply.head)
        headers = dict(reply.headers)
        if reply.allow is not None:
            headers["Allow"] = reply.allow
        if len(self.renderers) > 1:
            headers["Vary"] = "Accept"
        if reply.body is None:
            return Response(status_code=reply.status, headers=headers)
        if reply.accepted.renderer is BROWSABLE_RENDERER:
            content = browsable_page(reply.view, reply.status, headers, reply.body)
            return self.response(reply.status, content, "text/html; charset=utf-8", headers, head=reply.head)
        content = jsonio.dumps(reply.body, reply.accepted.indent)
        return self.response(reply.status, content, "application/json", headers, head=reply.head)

    @staticmethod
    def response(status: int, content: bytes, media_type: str, headers: dict[str, str], *, head: bool) -> Response:
        """A response with ``headers`` (completed in place) and Content-Type set exactly as given (Starlette would
        append a charset to a text/* type; Django's pages have none)."""
        headers["content-type"] = media_type
        if head:  # the server sends the headers of the GET answer (its Content-Length too), not its body
            headers["content-length"] = str(len(content))
            content = b""
        return Response(content, status_code=status, headers=headers)

    # Operations (named after the fragment's operationIds) ---------------------------------------------

    def _widget_reply(self, tenant: Tenant, widget_id: int, status: int = 200) -> Reply:
        return Reply(status, self.represent_widget(self.find_widget(tenant, str(widget_id))))

    def _dashboard_reply(self, tenant: Tenant, dashboard_id: int, status: int = 200) -> Reply:
        return Reply(status, self.represent_dashboard(self.find_dashboard(tenant, str(dashboard_id))))

    async def dashboards_widgets_list(self, tenant: Tenant, request: Request) -> Reply:
        """The caller's widgets, by id, paginated; ``dashboard_id`` keeps those on one dashboard."""
        dashboard = self.query_integer(request, "dashboard_id")
        current = self.paginate(request, self.store.count_widgets(tenant.id, dashboard))
        rows = self.store.widgets_page(tenant.id, dashboard, current.size, current.offset)
        return Reply(200, self.paginated(request, current, [self.represent_widget(row) for row in rows]))

    async def dashboards_widgets_retrieve(self, tenant: Tenant, request: Request) -> Reply:
        return Reply(200, self.represent_widget(self.find_widget(tenant, request.path_params["id"])))

    async def dashboards_widgets_partial_update(self, tenant: Tenant, request: Request) -> Reply:
        """One read (the lookup), one write; the answer is the widget as written."""
        widget = self.find_widget(tenant, request.path_params["id"])
        changes = self.validate_widget(tenant, await self.request_data(request), partial=True)
        return Reply(200, self.represent_widget(self.apply_widget_patch(widget, changes)))

    async def dashboards_widgets_update(self, tenant: Tenant, request: Request) -> Reply:
        widget = self.find_widget(tenant, request.path_params["id"])
        values = self.validate_widget(tenant, await self.request_data(request), partial=False)
        return Reply(200, self.represent_widget(self.apply_widget_patch(widget, values)))

    async def dashboards_widgets_destroy(self, tenant: Tenant, request: Request) -> Reply:
        self.delete_widget(self.find_widget(tenant, request.path_params["id"]))
        return Reply(204)

    async def dashboards_widgets_create(self, tenant: Tenant, request: Request) -> Reply:
        values = self.validate_widget(tenant, await self.request_data(request), partial=False)
        return self._widget_reply(tenant, self.create_widget(tenant, values), 201)

    async def dashboards_list(self, tenant: Tenant, request: Request) -> Reply:
        """The caller's dashboards, by id, paginated, without their widgets; ``project_id`` keeps one project's."""
        project = self.query_integer(request, "project_id")
        current = self.paginate(request, self.store.count_dashboards(tenant.id, project))
        rows = self.store.dashboards_page(tenant.id, project, current.size, current.offset)
        results = [self.represent_dashboard_item(row, count) for row, count in rows]
        return Reply(200, self.paginated(request, current, results))

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

    async def dashboards_update(self, tenant: Tenant, request: Request) -> Reply:
        dashboard = self.find_dashboard(tenant, request.path_params["id"])
        values = self.validate_dashboard(tenant, await self.request_data(request), partial=False)
        self.apply_dashboard_patch(dashboard, values)
        return self._dashboard_reply(tenant, dashboard.id)

    async def dashboards_destroy(self, tenant: Tenant, request: Request) -> Reply:
        self.delete_dashboard(self.find_dashboard(tenant, request.path_params["id"]))
        return Reply(204)

    async def metrics_v1_list(self, tenant: Tenant, request: Request) -> Reply:
        return Reply(200, [self.represent_metric(m) for m in self.store.metrics(tenant.id)])
