"""Faulty variants of the emulator, each one deviation from the published behaviour, to prove the suite can fail."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from conformance._types import JSON
from conformance.contract import Contract
from conformance.emulator import jsonio, timestamps
from conformance.emulator.app import create_app
from conformance.emulator.behaviour import Behaviour, Reply
from conformance.emulator.errors import ApiError, DjangoPage, FieldError, message, not_found_page
from conformance.emulator.negotiation import unsupported
from conformance.emulator.routing import Route
from conformance.emulator.store import DashboardRow, Store, Tenant, WidgetRow
from conformance.emulator.validation import FieldSpec

_SNAKE = re.compile(r"(?<!^)(?=[A-Z])|(?<=[a-z])(?=[0-9])")


def _first_tenant(store: Store) -> Tenant:
    """The tenant seeded first: where a variant that ignores the key sends every request."""
    return Tenant(*store.query("SELECT id, key, name FROM tenants ORDER BY id LIMIT 1")[0])


def _filter_nodes(tree: JSON) -> Iterator[Mapping[str, JSON]]:
    """Every group and condition of a filter tree; iterative, so a hostile nesting depth costs no recursion."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            yield node
            children = node.get("conditions")
            if isinstance(children, list):
                stack.extend(children)


def _microseconds(value: JSON) -> int | None:
    """An ISO-8601 text as the store's integer microseconds (naive means UTC); None if it is not one."""
    try:
        return timestamps.parse(str(value))
    except ValueError:
        return None


class Fault(Behaviour):
    """A faulty variant of the emulator: one deviation, and the requirements a run must fail because of it."""

    #: Requirement ids that must be among the failed ones when the suite runs against this variant: MUSTs for a
    #: fault, the SHOULDs that notice it for a convention variant. ``selftest`` checks it.
    breaks: ClassVar[tuple[str, ...]] = ()
    #: Where a differential diff against the clean emulator must diverge, named as ``diff.json`` names places
    #: (``status``, ``header:Allow``, ``$.metric_name``, ``$.widgets[*].id``; a prefix covers what is under it).
    #: ``selftest --differential`` checks it, independently of the catalogue.
    touches: ClassVar[tuple[str, ...]] = ()
    #: The contract revisions the deviation exists in (empty: every revision). A variant of what the live revision
    #: adds has nothing to break where the seed revision is served.
    revisions: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def applies_to(cls, revision: str) -> bool:
        return not cls.revisions or revision in cls.revisions


# Authentication and tenancy ---------------------------------------------------------------------------


class AnyKeyAccepted(Fault):
    """A key no tenant owns is accepted (as the first tenant's) instead of answering 401."""

    breaks = ("WPATCH-AUTH-01",)
    touches = ("status",)

    def authenticate(self, key: str | None) -> Tenant:
        if key and self.store.tenant_by_key(key) is None:
            return _first_tenant(self.store)
        return super().authenticate(key)


class MissingKeyAccepted(Fault):
    """A request without the X-CEKURA-API-KEY header is served as the first tenant's instead of 401."""

    breaks = ("WPATCH-AUTH-01",)
    touches = ("status",)

    def authenticate(self, key: str | None) -> Tenant:
        return super().authenticate(key) if key else _first_tenant(self.store)


class CrossTenantVisible(Fault):
    """Lookups are not scoped to the caller: another tenant's widget can be read and patched."""

    breaks = ("WPATCH-TEN-01", "WPATCH-TEN-03")
    touches = ("status",)

    def can_see(self, tenant: Tenant, owner: int) -> bool:
        return True


class ForeignDashboardAccepted(Fault):
    """A dashboard id of another tenant is accepted in a body, attaching the widget to it."""

    breaks = ("WPATCH-DASH-02",)
    touches = ("status", "$.dashboard")

    def related_exists(self, tenant: Tenant, field_name: str, pk: int) -> bool:
        if field_name == "dashboard":
            return self.store.dashboard(pk) is not None
        return super().related_exists(tenant, field_name, pk)


class SecondTenantReachesFirst(Fault):
    """A one-way leak: the tenant seeded second reads and patches the first tenant's objects, not the reverse."""

    breaks = ("WPATCH-TEN-01", "WPATCH-TEN-03")
    touches = ("status",)

    def can_see(self, tenant: Tenant, owner: int) -> bool:
        return tenant.id > owner or super().can_see(tenant, owner)


class CrossTenantReadable(Fault):
    """Reads are not scoped to the caller: GET shows another tenant's widget, though a PATCH of it still gets 404."""

    breaks = ("WPATCH-TEN-03",)
    touches = ("status",)

    async def dashboards_widgets_retrieve(self, tenant: Tenant, request: Request) -> Reply:
        pk = self.parse_id(request.path_params["id"])
        row = None if pk is None else self.store.widget(pk)
        if row is None:
            raise self.not_found()
        return Reply(200, self.represent_widget(row))


class WidgetListUnscoped(Fault):
    """The widget list is not filtered by the caller: every tenant's widgets are listed."""

    breaks = ("WPATCH-TEN-04",)
    touches = ("$.results",)

    async def dashboards_widgets_list(self, tenant: Tenant, request: Request) -> Reply:
        dashboard = self.query_integer(request, "dashboard_id")
        rows = sorted(
            (row for owner in self.store.tenants() for row in self.store.widgets_page(owner.id, dashboard, 1 << 30, 0)),
            key=lambda row: row.id,
        )
        current = self.paginate(request, len(rows))
        shown = rows[current.offset : current.offset + current.size]
        return Reply(200, self.paginated(request, current, [self.represent_widget(row) for row in shown]))


class DashboardIdCrossesTenants(Fault):
    """``dashboard_id`` on the widget list scopes to that dashboard's owner, not to the caller: an IDOR."""

    breaks = ("WPATCH-TEN-04",)
    touches = ("$.count", "$.results")

    async def dashboards_widgets_list(self, tenant: Tenant, request: Request) -> Reply:
        dashboard = self.query_integer(request, "dashboard_id")
        row = self.store.dashboard(dashboard) if dashboard is not None else None
        if row is not None and row.tenant != tenant.id:
            tenant = next(owner for owner in self.store.tenants() if owner.id == row.tenant)
        return await super().dashboards_widgets_list(tenant, request)


class SecondTenantAttachesToFirstDashboards(Fault):
    """A one-way leak: the tenant seeded second may attach its widgets to the first tenant's dashboards."""

    breaks = ("WPATCH-DASH-02",)
    touches = ("status", "$.dashboard")

    def related_exists(self, tenant: Tenant, field_name: str, pk: int) -> bool:
        row = self.store.dashboard(pk) if field_name == "dashboard" else None
        return (row is not None and row.tenant < tenant.id) or super().related_exists(tenant, field_name, pk)


class ForeignMetricAccepted(Fault):
    """A metric id of another tenant is accepted in a body, so metric_name shows that tenant's metric name."""

    breaks = ("WPATCH-MET-05",)
    touches = ("status", "$.metric_name")

    def related_exists(self, tenant: Tenant, field_name: str, pk: int) -> bool:
        if field_name == "metric":
            return self.store.metric(pk) is not None
        return super().related_exists(tenant, field_name, pk)


# Partial update and read-only fields ------------------------------------------------------------------


class ClearsUnsentFields(Fault):
    """A PUT disguised as PATCH: every writable field absent from the body goes back to its default."""

    breaks = ("WPATCH-PARTIAL-01", "WPATCH-PARTIAL-02")
    touches = ("$.chart_type", "$.filters")

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        full = {name: spec.default() for name, spec in self.widget_fields.items()}
        return super().apply_widget_patch(widget, {**full, **changes})


class EmptyBodyRejected(Fault):
    """An empty PATCH body {} answers 400 "No data provided" although PatchedWidget requires nothing."""

    breaks = ("WPATCH-PARTIAL-02",)
    touches = ("status",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        if partial and not data:
            raise ApiError(400, {"non_field_errors": [message("no_data")]})
        return super().validate_widget(tenant, data, partial=partial)


class MissingBodyRejected(Fault):
    """A PATCH without a body answers 400 "No data provided" although the request body is not required."""

    breaks = ("WPATCH-PARTIAL-02",)
    touches = ("status",)

    async def request_data(self, request: Request) -> Mapping[str, JSON]:
        if request.headers.get("content-length", "0") == "0" and "transfer-encoding" not in request.headers:
            raise ApiError(400, {"non_field_errors": [message("no_data")]})
        return await super().request_data(request)


class FormBodiesRefused(Fault):
    """Form-encoded and multipart bodies answer 415 although the published spec declares both for the PATCH."""

    breaks = ("WPATCH-CT-02",)
    touches = ("status",)

    def select_parser(self, content_type: str | None) -> tuple[str, str]:
        found = super().select_parser(content_type)
        if found[0] != "application/json":
            raise unsupported(content_type)
        return found


class DashboardChangeIgnored(Fault):
    """The dashboard key of a PATCH body is silently dropped, so a widget can never be moved or detached."""

    breaks = ("WPATCH-RT-01", "WPATCH-EF-04")
    touches = ("$.dashboard",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        if partial:
            data = {key: value for key, value in data.items() if key != "dashboard"}
        return super().validate_widget(tenant, data, partial=partial)


class CreatedAtWritable(Fault):
    """A read-only created_at sent in a PATCH body overwrites the stored creation time."""

    breaks = ("WPATCH-RO-01",)
    touches = ("$.created_at",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        values = super().validate_widget(tenant, data, partial=partial)
        stamp = _microseconds(data["created_at"]) if partial and "created_at" in data else None
        if stamp is not None:  # the store's widget columns include created_at, so the UPDATE writes it
            values["created_at"] = stamp
        return values


class PatchAnswerEchoesSentId(Fault):
    """The 200 answer of a PATCH carries an id sent in the body instead of the id of the widget at the path."""

    breaks = ("WPATCH-RT-03",)
    touches = ("$.id",)

    async def dashboards_widgets_partial_update(self, tenant: Tenant, request: Request) -> Reply:
        widget = self.find_widget(tenant, request.path_params["id"])
        data = await self.request_data(request)
        body = self.represent_widget(self.apply_widget_patch(widget, self.validate_widget(tenant, data, partial=True)))
        sent = data.get("id")
        if isinstance(sent, int) and not isinstance(sent, bool):
            body["id"] = sent
        return Reply(200, body)


class MetadataNullRejected(Fault):
    """metadata refuses null with 400 although it is nullable."""

    breaks = ("WPATCH-RT-01",)
    touches = ("status", "$.metadata")

    def validate_field(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> JSON:
        if spec.name == "metadata" and value is None:
            raise FieldError.of("null")
        return super().validate_field(tenant, spec, value)


# Timestamps -------------------------------------------------------------------------------------------


class FrozenUpdatedAt(Fault):
    """updated_at keeps its old value on every PATCH."""

    breaks = ("WPATCH-TS-01",)
    touches = ("$.updated_at",)

    def next_timestamp(self, previous: int) -> int:
        return previous


class CreatedAtBumped(Fault):
    """created_at is set to the current time by every PATCH, like updated_at."""

    breaks = ("WPATCH-TS-02",)
    touches = ("$.created_at",)

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        return super().apply_widget_patch(widget, {**changes, "created_at": self.now()})


# Field validation -------------------------------------------------------------------------------------


class BlankTimePeriodRejected(Fault):
    """time_period refuses the documented blank "" (BlankEnum) with 400."""

    breaks = ("WPATCH-ENUM-01",)
    touches = ("status", "$.time_period")

    def validate_choice(self, spec: FieldSpec, value: JSON) -> str:
        if spec.name == "time_period" and value == "":
            raise FieldError.of("blank")
        return super().validate_choice(spec, value)


class NullDataTypeRejected(Fault):
    """data_type refuses the documented null (NullEnum) with 400."""

    breaks = ("WPATCH-ENUM-01",)
    touches = ("status", "$.data_type")

    def validate_field(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> JSON:
        if spec.name == "data_type" and value is None:
            raise FieldError.of("null")
        return super().validate_field(tenant, spec, value)


class ChartTypeUnchecked(Fault):
    """chart_type stores any text sent ("donut", "Line", ""), not only line|bar|pie."""

    breaks = ("WPATCH-ENUM-02",)
    touches = ("status", "$.chart_type")

    def validate_choice(self, spec: FieldSpec, value: JSON) -> str:
        return str(value) if spec.name == "chart_type" else super().validate_choice(spec, value)


class AggregationUnchecked(Fault):
    """aggregation_function stores any text sent ("median"), not only its documented members."""

    breaks = ("WPATCH-ENUM-03",)
    touches = ("status", "$.aggregation_function")

    def validate_choice(self, spec: FieldSpec, value: JSON) -> str:
        return str(value) if spec.name == "aggregation_function" else super().validate_choice(spec, value)


class NameNullRejected(Fault):
    """name refuses null with 400 although it is nullable."""

    breaks = ("WPATCH-LEN-01",)
    touches = ("status", "$.name")

    def validate_field(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> JSON:
        if spec.name == "name" and value is None:
            raise FieldError.of("null")
        return super().validate_field(tenant, spec, value)


class NameLengthUnchecked(Fault):
    """name's maxLength 255 is not enforced: a 256-character name is stored."""

    breaks = ("WPATCH-LEN-02",)
    touches = ("status", "$.name")

    def field_errors(self, spec: FieldSpec, value: JSON) -> list[str]:
        return [] if spec.name == "name" else super().field_errors(spec, value)


class FieldNullAccepted(Fault):
    """field takes null (stored as a blank) instead of refusing it: field is not nullable."""

    breaks = ("WPATCH-LEN-03",)
    touches = ("status", "$.field")

    def validate_field(self, tenant: Tenant, spec: FieldSpec, value: JSON) -> JSON:
        if spec.name == "field" and value is None:
            return ""  # the column is NOT NULL, as a non-nullable model field is
        return super().validate_field(tenant, spec, value)


# The filter language ----------------------------------------------------------------------------------


class RegexOperatorRejected(Fault):
    """A condition with the documented comparison operator regex is refused with 400."""

    breaks = ("WPATCH-FLT-01",)
    touches = ("status", "$.filters")

    def validate_filters(self, spec: FieldSpec, value: JSON) -> JSON:
        if any(node.get("op") == "regex" for node in _filter_nodes(value)):
            raise FieldError(["Unsupported operator: regex."])
        return super().validate_filters(spec, value)


class SameRowRejected(Fault):
    """A group with the documented logical operator same_row is refused with 400."""

    breaks = ("WPATCH-FLT-02",)
    touches = ("status", "$.filters")

    def validate_filters(self, spec: FieldSpec, value: JSON) -> JSON:
        if any(node.get("operator") == "same_row" for node in _filter_nodes(value)):
            raise FieldError(["Unsupported operator: same_row."])
        return super().validate_filters(spec, value)


class TodayDatesRejected(Fault):
    """The documented relative dates today and today-Nd are refused with 400 (only now-based ones parse)."""

    breaks = ("WPATCH-FLT-03",)
    touches = ("status", "$.filters")

    def validate_filters(self, spec: FieldSpec, value: JSON) -> JSON:
        for node in _filter_nodes(value):
            if isinstance(node.get("value"), str) and node["value"].startswith("today"):
                raise FieldError([f"Invalid relative date: {node['value']}."])
        return super().validate_filters(spec, value)


# effective_filters ------------------------------------------------------------------------------------


class EffectiveFiltersIgnoreDashboard(Fault):
    """effective_filters is the widget's filters alone; the dashboard's are left out."""

    breaks = ("WPATCH-EF-01", "WPATCH-EF-02")
    touches = ("$.effective_filters",)

    def effective_filters(self, dashboard_filters: JSON, widget_filters: JSON) -> JSON:
        return super().effective_filters(None, widget_filters)


class EffectiveFiltersWidgetFirst(Fault):
    """effective_filters ANDs the two sides in the wrong order: the widget's filters first."""

    breaks = ("WPATCH-EF-01",)
    touches = ("$.effective_filters",)

    def effective_filters(self, dashboard_filters: JSON, widget_filters: JSON) -> JSON:
        return super().effective_filters(widget_filters, dashboard_filters)


class EffectiveFiltersKeepEmptySide(Fault):
    """effective_filters is always an and-group of both sides, an empty ({} or null) side included."""

    breaks = ("WPATCH-SCHEMA-01",)
    touches = ("$.effective_filters",)

    def effective_filters(self, dashboard_filters: JSON, widget_filters: JSON) -> JSON:
        return {"operator": "and", "conditions": [dashboard_filters, widget_filters]}


class EffectiveFiltersStaleAfterMove(Fault):
    """effective_filters keeps the first dashboard's filters after the widget moves to another one (or none)."""

    breaks = ("WPATCH-EF-04",)
    touches = ("$.effective_filters",)

    def __init__(self, store: Store, contract: Contract, **options: Any) -> None:
        super().__init__(store, contract, **options)
        self.pinned: dict[int, JSON] = {}  # widget id -> the filters of the dashboard it was on before moving

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        if "dashboard" in changes and changes["dashboard"] != widget.dashboard:
            self.pinned.setdefault(widget.id, widget.dashboard_filters)
        return super().apply_widget_patch(widget, changes)

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        body = super().represent_widget(row)
        if row.id in self.pinned:
            body["effective_filters"] = self.effective_filters(self.pinned[row.id], row.filters)
        return body


class EffectiveFiltersMissDashboardEdits(Fault):
    """effective_filters is computed when the widget is written: later edits of the dashboard's filters never show."""

    breaks = ("WPATCH-EF-04",)
    touches = ("$.effective_filters", "$.widgets[*].effective_filters")

    def __init__(self, store: Store, contract: Contract, **options: Any) -> None:
        super().__init__(store, contract, **options)
        self.materialised: dict[int, JSON] = {}  # widget id -> effective_filters as of its last write

    def _materialise(self, widget_id: int) -> None:
        row = self.store.widget(widget_id)
        if row is not None:
            self.materialised[widget_id] = self.effective_filters(row.dashboard_filters, row.filters)

    def create_widget(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        widget_id = super().create_widget(tenant, values)
        self._materialise(widget_id)
        return widget_id

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        stored = super().apply_widget_patch(widget, changes)
        self._materialise(widget.id)
        return stored

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        body = super().represent_widget(row)
        if row.id in self.materialised:
            body["effective_filters"] = self.materialised[row.id]
        return body


# metric_name ------------------------------------------------------------------------------------------


class MetricNameOfFirstMetric(Fault):
    """metric_name is the name of the caller's first metric, whichever metric the widget plots."""

    breaks = ("WPATCH-MET-01",)
    touches = ("$.metric_name",)

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        body = super().represent_widget(row)
        metrics = self.store.metrics(row.tenant)
        if row.metric is not None and metrics:
            body["metric_name"] = metrics[0].name
        return body


class MetricNameStaleAfterClear(Fault):
    """After metric is set to null, metric_name keeps naming the metric the widget plotted before."""

    breaks = ("WPATCH-MET-04",)
    touches = ("$.metric_name",)

    def __init__(self, store: Store, contract: Contract, **options: Any) -> None:
        super().__init__(store, contract, **options)
        self.stale: dict[int, str | None] = {}  # widget id -> the name of the metric it had before clearing

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        if "metric" in changes:
            if changes["metric"] is not None:
                self.stale.pop(widget.id, None)
            elif widget.metric is not None:
                self.stale[widget.id] = widget.metric_name
        return super().apply_widget_patch(widget, changes)

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        body = super().represent_widget(row)
        if row.metric is None and row.id in self.stale:
            body["metric_name"] = self.stale[row.id]
        return body


# A dashboard and its widgets --------------------------------------------------------------------------


class NestedWidgetsStayOnFirstDashboard(Fault):
    """A dashboard keeps listing and counting the widgets created on it after they move away or are detached."""

    breaks = ("WPATCH-DASH-03",)
    touches = ("$.widgets", "$.widget_count")

    def __init__(self, store: Store, contract: Contract, **options: Any) -> None:
        super().__init__(store, contract, **options)
        self.home: dict[int, int | None] = {}  # widget id -> the dashboard it was created on

    def create_widget(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        widget_id = super().create_widget(tenant, values)
        self.home[widget_id] = values.get("dashboard")
        return widget_id

    def represent_dashboard(self, row: DashboardRow) -> dict[str, JSON]:
        body = super().represent_dashboard(row)
        ids = {w.id for w in self.store.widgets_on(row.id) if self.home.get(w.id, row.id) == row.id}
        ids |= {widget_id for widget_id, home in self.home.items() if home == row.id}
        rows = [w for w in (self.store.widget(i) for i in sorted(ids)) if w is not None]
        body["widgets"] = [self.represent_widget(w) for w in rows]
        body["widget_count"] = len(rows)
        return body


class NestedWidgetsSnapshot(Fault):
    """A dashboard shows its widgets as they were created: a PATCH of a widget never reaches the nested copy."""

    breaks = ("WPATCH-DASH-04",)
    touches = ("$.widgets",)

    def __init__(self, store: Store, contract: Contract, **options: Any) -> None:
        super().__init__(store, contract, **options)
        self.snapshots: dict[int, dict[str, JSON]] = {}  # widget id -> its representation at creation

    def create_widget(self, tenant: Tenant, values: Mapping[str, JSON]) -> int:
        widget_id = super().create_widget(tenant, values)
        row = self.store.widget(widget_id)
        if row is not None:
            self.snapshots[widget_id] = self.represent_widget(row)
        return widget_id

    def represent_dashboard(self, row: DashboardRow) -> dict[str, JSON]:
        body = super().represent_dashboard(row)
        body["widgets"] = [self.snapshots.get(w["id"], w) for w in body["widgets"]]
        return body


class DashboardDeleteDetachesWidgets(Fault):
    """Deleting a dashboard detaches its widgets (dashboard becomes null) instead of deleting them with it."""

    breaks = ("WPATCH-DASH-05",)
    touches = ("status",)

    def delete_dashboard(self, dashboard: DashboardRow) -> None:
        for widget in self.store.widgets_on(dashboard.id):
            self.store.update_widget(widget.id, {"dashboard": None}, self.next_timestamp)
        super().delete_dashboard(dashboard)


# Representation and protocol --------------------------------------------------------------------------


class IdAsString(Fault):
    """A widget's id is represented as a JSON string ("17") instead of the documented integer."""

    breaks = ("WPATCH-SCHEMA-01",)
    touches = ("$.id",)

    def represent_widget(self, row: WidgetRow) -> dict[str, JSON]:
        return {**super().represent_widget(row), "id": str(row.id)}


class HtmlContentType(Fault):
    """Every JSON body is served as text/html instead of application/json."""

    breaks = ("WPATCH-SCHEMA-01",)
    touches = ("header:Content-Type",)

    def render(self, reply: Reply) -> Response:
        if reply.body is None:
            return super().render(reply)
        return Response(
            jsonio.dumps(reply.body), status_code=reply.status, headers=dict(reply.headers), media_type="text/html"
        )


class MalformedJsonCrashes(Fault):
    """A body that is not valid JSON escapes the parser: 500 instead of a 400."""

    breaks = ("WPATCH-HTTP-01",)
    touches = ("status",)

    def decode_json(self, raw: bytes) -> JSON:
        return jsonio.loads_strict(raw)  # the ValueError reaches the last-resort handler


class DeleteIsANoOp(Fault):
    """DELETE answers 204 but the widget stays readable and patchable."""

    breaks = ("WPATCH-STATE-01",)
    touches = ("status", "$.results")

    def delete_widget(self, widget: WidgetRow) -> None:
        return None


# Deviations from DRF conventions only (SHOULD-level): the published docs do not forbid them ---------------


class NoAllowOn405(Fault):
    """A 405 answer carries no Allow header."""

    breaks = ("WPATCH-METHOD-01",)
    touches = ("header:Allow",)

    def render(self, reply: Reply) -> Response:
        if reply.status == 405:
            reply.allow = None
        return super().render(reply)


class FiltersUnvalidated(Fault):
    """filters is a plain JSON field: malformed filters (unknown op, unknown operator) are stored as sent."""

    breaks = ("WPATCH-FLT-04",)
    touches = ("status", "$.filters")

    def validate_filters(self, spec: FieldSpec, value: JSON) -> JSON:
        return self.validate_json(spec, value)


class ForbiddenForeignWidget(Fault):
    """Another tenant's widget answers 403 (revealing that the id exists) instead of DRF's 404."""

    breaks = ("WPATCH-TEN-02",)
    touches = ("status",)

    def find_widget(self, tenant: Tenant, raw_id: str) -> WidgetRow:
        pk = self.parse_id(raw_id)
        row = None if pk is None else self.store.widget(pk)
        if row is not None and not self.can_see(tenant, row.tenant):
            raise ApiError(403, {"detail": "You do not have permission to perform this action."})
        return super().find_widget(tenant, raw_id)


class UnknownKeysRejected(Fault):
    """A PATCH body with a key the Widget schema does not declare answers 400 instead of ignoring it."""

    breaks = ("WPATCH-PARTIAL-03",)
    touches = ("status",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        unknown = sorted(set(data) - set(self.contract.schema("Widget")["properties"]))
        if partial and unknown:
            raise ApiError(400, {key: ["Unknown field."] for key in unknown})
        return super().validate_widget(tenant, data, partial=partial)


class MissingSlashNotRedirected(Fault):
    """A path without its trailing slash gets a 404 (APPEND_SLASH off) instead of Django's 301 to the slash path."""

    breaks = ("WPATCH-SLASH-01",)
    touches = ("status",)

    def unresolved(self, request: Request) -> DjangoPage:
        return not_found_page()


class HeadAndOptionsRefused(Fault):
    """HEAD and OPTIONS answer 405, as if the view served only the methods the docs have pages for."""

    breaks = ("WPATCH-METHOD-02",)
    touches = ("status",)

    def operation(self, route: Route, method: str) -> str | None:
        return None if method == "HEAD" else super().operation(route, method)

    def options(self, route: Route, tenant: Tenant, request: Request) -> Reply:
        raise self.method_not_allowed("OPTIONS", route)


class UnrecognisedMethodsAnswered501(Fault):
    """A method Django does not route (TRACE or an unknown one) answers 501 Not Implemented instead of DRF's 405."""

    breaks = ("WPATCH-METHOD-01",)
    touches = ("status",)

    def method_not_allowed(self, method: str, route: Route) -> ApiError:
        if method.upper() not in {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}:
            return ApiError(501, {"detail": f'Method "{method}" is not implemented.'})
        return super().method_not_allowed(method, route)


# What the live revision adds (stat, p50/p95/p99, group_by) ---------------------------------------------------


class StatRefused(Fault):
    """chart_type stat is refused as "not a valid choice", as the seed-era enum refuses it."""

    breaks = ("WPATCH-STAT-01",)
    touches = ("status", "$.chart_type")
    revisions = ("live",)

    def validate_choice(self, spec: FieldSpec, value: JSON) -> str:
        if spec.name == "chart_type" and value == "stat":
            raise FieldError.of("invalid_choice", input=value)
        return super().validate_choice(spec, value)


class StatFieldFilled(Fault):
    """A stat widget created or patched with an empty field gets "total_calls" stored in it instead."""

    breaks = ("WPATCH-STAT-02",)
    touches = ("$.field",)
    revisions = ("live",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        values = super().validate_widget(tenant, data, partial=partial)
        if values.get("chart_type") == "stat" and not values.get("field"):
            values["field"] = "total_calls"
        return values


class PercentileNotStored(Fault):
    """aggregation_function p50 (the newest member) is accepted but not stored: the widget keeps its previous one."""

    breaks = ("WPATCH-PCT-01",)
    touches = ("$.aggregation_function",)
    revisions = ("live",)

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        if changes.get("aggregation_function") == "p50":
            changes = {key: value for key, value in changes.items() if key != "aggregation_function"}
        return super().apply_widget_patch(widget, changes)


class GroupByDropped(Fault):
    """group_by is accepted but never stored (a serializer that keeps it read-only): every answer shows null."""

    breaks = ("WPATCH-GRP-01",)
    touches = ("$.group_by",)
    revisions = ("live",)

    def validate_widget(self, tenant: Tenant, data: Mapping[str, JSON], *, partial: bool) -> dict[str, JSON]:
        values = super().validate_widget(tenant, data, partial=partial)
        values.pop("group_by", None)
        return values


class GroupByClearedByUnrelatedPatch(Fault):
    """A PATCH that does not send group_by sets it back to null (a default applied on every save)."""

    breaks = ("WPATCH-GRP-02",)
    touches = ("$.group_by",)
    revisions = ("live",)

    def apply_widget_patch(self, widget: WidgetRow, changes: Mapping[str, JSON]) -> WidgetRow:
        return super().apply_widget_patch(widget, {"group_by": None, **changes})


class NestedWidgetsWithoutGroupBy(Fault):
    """A dashboard's nested widgets leave group_by out (a nested serializer without the new field)."""

    breaks = ("WPATCH-GRP-03",)
    touches = ("$.widgets[*].group_by",)
    revisions = ("live",)

    def represent_dashboard(self, row: DashboardRow) -> dict[str, JSON]:
        shown = super().represent_dashboard(row)
        shown["widgets"] = [{k: v for k, v in w.items() if k != "group_by"} for w in shown["widgets"]]
        return shown


def _registry(*classes: type[Fault]) -> dict[str, type[Fault]]:
    # snake_case names from the class names: one spelling to keep in sync, not two.
    return {_SNAKE.sub("_", cls.__name__).lower(): cls for cls in classes}


#: Deviations from the published behaviour: each must make a MUST requirement fail (a "not conformant" verdict).
VARIANTS: dict[str, type[Fault]] = _registry(
    AnyKeyAccepted,
    MissingKeyAccepted,
    CrossTenantVisible,
    SecondTenantReachesFirst,
    CrossTenantReadable,
    ForeignDashboardAccepted,
    WidgetListUnscoped,
    DashboardIdCrossesTenants,
    SecondTenantAttachesToFirstDashboards,
    ForeignMetricAccepted,
    ClearsUnsentFields,
    EmptyBodyRejected,
    MissingBodyRejected,
    FormBodiesRefused,
    DashboardChangeIgnored,
    CreatedAtWritable,
    PatchAnswerEchoesSentId,
    MetadataNullRejected,
    FrozenUpdatedAt,
    CreatedAtBumped,
    BlankTimePeriodRejected,
    NullDataTypeRejected,
    ChartTypeUnchecked,
    AggregationUnchecked,
    NameNullRejected,
    NameLengthUnchecked,
    FieldNullAccepted,
    RegexOperatorRejected,
    SameRowRejected,
    TodayDatesRejected,
    EffectiveFiltersIgnoreDashboard,
    EffectiveFiltersWidgetFirst,
    EffectiveFiltersKeepEmptySide,
    EffectiveFiltersStaleAfterMove,
    EffectiveFiltersMissDashboardEdits,
    MetricNameOfFirstMetric,
    MetricNameStaleAfterClear,
    NestedWidgetsStayOnFirstDashboard,
    NestedWidgetsSnapshot,
    DashboardDeleteDetachesWidgets,
    IdAsString,
    HtmlContentType,
    MalformedJsonCrashes,
    DeleteIsANoOp,
)

#: Deviations from Django REST Framework conventions the docs do not state: SHOULD requirements should notice
#: them, and no MUST may (a "not conformant" verdict for them would be a false accusation).
CONVENTION_VARIANTS: dict[str, type[Fault]] = _registry(
    NoAllowOn405,
    FiltersUnvalidated,
    ForbiddenForeignWidget,
    UnknownKeysRejected,
    UnrecognisedMethodsAnswered501,
    MissingSlashNotRedirected,
    HeadAndOptionsRefused,
)


#: Deviations in what the live revision adds: each must make one of its MUSTs fail (``selftest --revision live``).
LIVE_VARIANTS: dict[str, type[Fault]] = _registry(
    StatRefused,
    StatFieldFilled,
    PercentileNotStored,
    GroupByDropped,
    GroupByClearedByUnrelatedPatch,
    NestedWidgetsWithoutGroupBy,
)


def faults_for(revision: str) -> dict[str, type[Fault]]:
    """The fault variants that apply where ``revision`` is served (the live revision adds its own)."""
    every = {**VARIANTS, **LIVE_VARIANTS}
    return {name: cls for name, cls in every.items() if cls.applies_to(revision)}


def conventions_for(revision: str) -> dict[str, type[Fault]]:
    return {name: cls for name, cls in CONVENTION_VARIANTS.items() if cls.applies_to(revision)}


def get(name: str) -> type[Fault]:
    """The variant called ``name`` in any registry; KeyError names the known ones."""
    found = VARIANTS.get(name) or LIVE_VARIANTS.get(name) or CONVENTION_VARIANTS.get(name)
    if found is None:
        known = ", ".join([*VARIANTS, *LIVE_VARIANTS, *CONVENTION_VARIANTS])
        raise KeyError(f"unknown variant {name!r}; known: {known}")
    return found


def create_variant_app(name: str, **options: Any) -> Starlette:
    """A fresh emulator (its own in-memory store and default seed) running the variant ``name``; a variant that
    exists in one revision only is served on it unless ``revision`` or ``contract`` says otherwise."""
    variant = get(name)
    if len(variant.revisions) == 1 and "revision" not in options and "contract" not in options:
        options["revision"] = variant.revisions[0]
    return create_app(behaviour=variant, **options)


__all__ = [
    "CONVENTION_VARIANTS",
    "LIVE_VARIANTS",
    "VARIANTS",
    "Fault",
    "conventions_for",
    "create_variant_app",
    "faults_for",
    "get",
]
