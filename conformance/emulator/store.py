"""SQLite state: one connection behind a lock; a PATCH updates only the columns it sends."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from conformance._types import JSON

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant INTEGER NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, eval_type TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', enum_values TEXT);
CREATE TABLE IF NOT EXISTS dashboards (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant INTEGER NOT NULL, name TEXT, project TEXT, filters TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS widgets (
    id INTEGER PRIMARY KEY AUTOINCREMENT, tenant INTEGER NOT NULL, dashboard INTEGER, name TEXT,
    filters TEXT, chart_type TEXT NOT NULL, data_type TEXT, field TEXT NOT NULL DEFAULT '', metric INTEGER,
    time_period TEXT, aggregation_function TEXT, metadata TEXT,
    created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, group_by TEXT);
CREATE INDEX IF NOT EXISTS widgets_by_dashboard ON widgets (dashboard);
"""
# Columns added after the first release: a --db file written before them gets them on open.
_ADDED_COLUMNS = {
    "metrics": (("description", "TEXT NOT NULL DEFAULT ''"), ("enum_values", "TEXT")),
    "widgets": (("group_by", "TEXT"),),  # the live revision's widget field (only written when it is served)
}
_METRIC_SELECT = "SELECT id, tenant, name, type, eval_type, description, enum_values FROM metrics "
_DASHBOARD_SELECT = (
    "SELECT d.id, d.tenant, d.name, d.project, d.filters, d.created_at, d.updated_at, "
    "(SELECT COUNT(*) FROM widgets AS c WHERE c.dashboard = d.id) FROM dashboards AS d "
)

# Columns a write may set (SQL is only ever built from these names).
WIDGET_COLUMNS = (
    "dashboard", "name", "filters", "chart_type", "data_type", "field", "metric",
    "time_period", "aggregation_function", "metadata", "created_at", "group_by",
)  # fmt: skip
DASHBOARD_COLUMNS = ("name", "project", "filters", "created_at")
# Columns holding JSON text; `project` holds an integer as text, so any JSON integer fits.
_JSON_COLUMNS = frozenset({"filters", "metadata", "group_by"})
_TEXT_INTEGER_COLUMNS = frozenset({"project"})
_INT64 = range(-(2**63), 2**63)

_WIDGET_SELECT = """
SELECT w.id, w.tenant, w.dashboard, w.name, w.filters, w.chart_type, w.data_type, w.field, w.metric,
       w.time_period, w.aggregation_function, w.metadata, w.created_at, w.updated_at, d.filters, m.name, w.group_by
FROM widgets AS w
LEFT JOIN dashboards AS d ON d.id = w.dashboard
LEFT JOIN metrics AS m ON m.id = w.metric
"""


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class MetricRow:
    id: int
    tenant: int
    name: str
    type: str
    eval_type: str
    description: str = ""
    enum_values: JSON = None


@dataclass(frozen=True, slots=True)
class DashboardRow:
    id: int
    tenant: int
    name: str | None
    project: int | None
    filters: JSON
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class WidgetRow:
    id: int
    tenant: int
    dashboard: int | None
    name: str | None
    filters: JSON
    chart_type: str
    data_type: str | None
    field: str
    metric: int | None
    time_period: str | None
    aggregation_function: str | None
    metadata: JSON
    created_at: int
    updated_at: int
    dashboard_filters: JSON  # joined: the filters of the dashboard the widget is on now
    metric_name: str | None  # joined: the name of the metric the widget plots now
    group_by: JSON = None  # the live revision's field (null where the seed revision is served)


_WIDGET_FIELDS = WidgetRow.__slots__  # the constructor's order (dataclasses.replace is slow on the hot path)


def _loads(text: str | None) -> JSON:
    return None if text is None else _parsed(text)


@lru_cache(maxsize=4096)
def _parsed(text: str) -> JSON:
    # Every read of a widget parses its filters, its metadata and its dashboard's filters, mostly the same few
    # texts again. The values are shared between reads: nothing changes them (answers only serialize them).
    return json.loads(text)


def _encode(column: str, value: JSON) -> JSON:
    if value is None:
        return None
    if column in _JSON_COLUMNS:
        return json.dumps(value, separators=(",", ":"))
    if column in _TEXT_INTEGER_COLUMNS:
        return str(value)
    return value


def _widget(row: tuple[Any, ...]) -> WidgetRow:
    (wid, tenant, dashboard, name, filters, chart, data_type, field, metric, period, agg, meta, ca, ua) = row[:14]
    return WidgetRow(
        wid, tenant, dashboard, name, _loads(filters), chart, data_type, field, metric, period, agg,
        _loads(meta), ca, ua, _loads(row[14]), row[15], _loads(row[16]),
    )  # fmt: skip


def _dashboard(row: tuple[Any, ...]) -> DashboardRow:
    wid, tenant, name, project, filters, ca, ua = row[:7]
    return DashboardRow(wid, tenant, name, None if project is None else int(project), _loads(filters), ca, ua)


def _metric(row: tuple[Any, ...]) -> MetricRow:
    mid, tenant, name, type_, eval_type, description, enum_values = row
    return MetricRow(mid, tenant, name, type_, eval_type, description, _loads(enum_values))


class Store:
    """All state of the emulator; every method is atomic under one lock.

    In memory (no ``db`` file), widgets as last read or written are also kept as rows, so a widget's lookup (every
    PATCH, GET, PUT and DELETE starts with one) costs no query: a write through the store replaces or drops the
    row; any other write (a dashboard's filters, a deletion cascading, a transaction) drops them all. A ``db``
    file could be written by another process, so it is always read.
    """

    def __init__(self, db: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self._rows: dict[int, WidgetRow] | None = {} if db is None else None
        self._conn = sqlite3.connect(
            ":memory:" if db is None else str(db),
            check_same_thread=False,
            isolation_level=None,  # autocommit; multi-statement writes open their own transaction
            cached_statements=512,
        )
        if db is not None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)
        self._add_missing_columns()
        self._keys: dict[str, Tenant] = {}
        self._load_keys()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read-only query, for tests that inspect what is left in the store."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _forget(self, widget: int | None = None) -> None:
        """Drop the kept row of ``widget``, or every kept row (what a write may have changed is read again)."""
        if self._rows is not None:
            if widget is None:
                self._rows.clear()
            else:
                self._rows.pop(widget, None)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._forget()  # the caller writes through the connection: nothing kept can be trusted after
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            self._forget()

    def _add_missing_columns(self) -> None:
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns:
                if name not in present:
                    self._conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def _load_keys(self) -> None:
        rows = self._conn.execute("SELECT id, key, name FROM tenants").fetchall()
        self._keys = {key: Tenant(tid, key, name) for tid, key, name in rows}

    # Tenants and metrics ------------------------------------------------------------------------------

    def is_empty(self) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM tenants LIMIT 1").fetchone() is None

    def tenant_by_key(self, key: str) -> Tenant | None:
        return self._keys.get(key)

    def tenants(self) -> list[Tenant]:
        return sorted(self._keys.values(), key=lambda tenant: tenant.id)

    def add_tenant(self, key: str, name: str) -> Tenant:
        with self._lock:
            cursor = self._conn.execute("INSERT INTO tenants (key, name) VALUES (?, ?)", (key, name))
            self._load_keys()
            return Tenant(int(cursor.lastrowid or 0), key, name)

    def add_metric(self, tenant: int, values: Mapping[str, JSON], id_: int | None = None) -> int:
        """A metric: ``name``; optional ``type`` (basic), ``eval_type`` (numeric), ``description``, ``enum_values``."""
        enum_values = values.get("enum_values")
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO metrics (id, tenant, name, type, eval_type, description, enum_values) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    id_,
                    tenant,
                    values["name"],
                    values.get("type", "basic"),
                    values.get("eval_type", "numeric"),
                    values.get("description", ""),
                    None if enum_values is None else json.dumps(enum_values),
                ),
            )
            self._forget()  # a widget's metric_name could be this metric's
            return int(cursor.lastrowid or 0)

    def metric(self, id_: int) -> MetricRow | None:
        if id_ not in _INT64:
            return None
        with self._lock:
            row = self._conn.execute(_METRIC_SELECT + "WHERE id = ?", (id_,)).fetchone()
        return None if row is None else _metric(row)

    def metrics(self, tenant: int) -> list[MetricRow]:
        with self._lock:
            rows = self._conn.execute(_METRIC_SELECT + "WHERE tenant = ? ORDER BY id", (tenant,)).fetchall()
        return [_metric(row) for row in rows]

    # Dashboards ---------------------------------------------------------------------------------------

    def dashboard(self, id_: int) -> DashboardRow | None:
        if id_ not in _INT64:
            return None
        with self._lock:
            row = self._conn.execute(_DASHBOARD_SELECT + "WHERE d.id = ?", (id_,)).fetchone()
        return None if row is None else _dashboard(row)

    def dashboards_page(
        self, tenant: int, project: int | None, limit: int, offset: int
    ) -> list[tuple[DashboardRow, int]]:
        """One page of the tenant's dashboards (of ``project`` if given), by id, each with its widget count."""
        where, params = self._dashboard_filter(tenant, project)
        with self._lock:
            rows = self._conn.execute(
                _DASHBOARD_SELECT + where + " ORDER BY d.id LIMIT ? OFFSET ?", (*params, limit, offset)
            ).fetchall()
        return [(_dashboard(row), int(row[7])) for row in rows]

    def count_dashboards(self, tenant: int, project: int | None) -> int:
        where, params = self._dashboard_filter(tenant, project)
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM dashboards AS d " + where, params).fetchone()[0])

    @staticmethod
    def _dashboard_filter(tenant: int, project: int | None) -> tuple[str, tuple[Any, ...]]:
        if project is None:
            return "WHERE d.tenant = ?", (tenant,)
        return "WHERE d.tenant = ? AND d.project = ?", (tenant, str(project))

    def insert_dashboard(self, tenant: int, values: Mapping[str, JSON], now: int, id_: int | None = None) -> int:
        return self._insert("dashboards", DASHBOARD_COLUMNS, tenant, values, now, id_)

    def update_dashboard(self, id_: int, values: Mapping[str, JSON], bump: Callable[[int], int]) -> bool:
        with self._lock:
            self._forget()  # the widgets on it show its filters (effective_filters)
            return self._update("dashboards", DASHBOARD_COLUMNS, id_, values, bump)

    def delete_dashboard(self, id_: int) -> None:
        """Delete a dashboard and, like the documented cascade, every widget on it."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM widgets WHERE dashboard = ?", (id_,))
            conn.execute("DELETE FROM dashboards WHERE id = ?", (id_,))

    # Widgets ------------------------------------------------------------------------------------------

    def widget(self, id_: int) -> WidgetRow | None:
        if id_ not in _INT64:
            return None
        with self._lock:
            if self._rows is not None and id_ in self._rows:
                return self._rows[id_]
            row = self._conn.execute(_WIDGET_SELECT + "WHERE w.id = ?", (id_,)).fetchone()
            found = None if row is None else _widget(row)
            if found is not None and self._rows is not None:
                self._rows[id_] = found
        return found

    def widgets_on(self, dashboard: int) -> list[WidgetRow]:
        with self._lock:
            rows = self._conn.execute(_WIDGET_SELECT + "WHERE w.dashboard = ? ORDER BY w.id", (dashboard,))
            return [_widget(row) for row in rows.fetchall()]

    def widgets_page(self, tenant: int, dashboard: int | None, limit: int, offset: int) -> list[WidgetRow]:
        """One page of the tenant's widgets (on ``dashboard`` if given), by id."""
        where, params = self._widget_filter(tenant, dashboard)
        with self._lock:
            rows = self._conn.execute(
                _WIDGET_SELECT + where + " ORDER BY w.id LIMIT ? OFFSET ?", (*params, limit, offset)
            )
            return [_widget(row) for row in rows.fetchall()]

    def count_widgets(self, tenant: int, dashboard: int | None) -> int:
        where, params = self._widget_filter(tenant, dashboard)
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM widgets AS w " + where, params).fetchone()[0])

    @staticmethod
    def _widget_filter(tenant: int, dashboard: int | None) -> tuple[str, tuple[Any, ...]]:
        if dashboard is None:
            return "WHERE w.tenant = ?", (tenant,)
        if dashboard not in _INT64:
            return "WHERE 0", ()
        return "WHERE w.tenant = ? AND w.dashboard = ?", (tenant, dashboard)

    def insert_widget(self, tenant: int, values: Mapping[str, JSON], now: int, id_: int | None = None) -> int:
        return self._insert("widgets", WIDGET_COLUMNS, tenant, values, now, id_)

    def update_widget(self, id_: int, values: Mapping[str, JSON], bump: Callable[[int], int]) -> bool:
        with self._lock:
            self._forget(id_)
            return self._update("widgets", WIDGET_COLUMNS, id_, values, bump)

    def write_widget(self, row: WidgetRow, values: Mapping[str, JSON], bump: Callable[[int], int]) -> WidgetRow | None:
        """Set only the given columns and a bumped ``updated_at`` of the widget ``row`` was read as, and return it
        as a read would now find it, without reading it again (DRF answers from the instance it saved, too).

        One statement when nothing wrote the widget since ``row`` was read (its ``updated_at`` is unchanged):
        otherwise it is read again and written from there. Only a changed dashboard or metric costs a lookup
        (their filters and name are part of the answer). None: the widget is gone.
        """
        columns = [c for c in WIDGET_COLUMNS if c in values]
        encoded = {c: _encode(c, values[c]) for c in columns}
        assignments = "".join(f"{c} = ?, " for c in columns)
        sql = f"UPDATE widgets SET {assignments}updated_at = ? WHERE id = ? AND updated_at = ?"
        with self._lock:
            current: WidgetRow | None = row
            while current is not None:
                stamp = bump(current.updated_at)
                done = self._conn.execute(sql, [*encoded.values(), stamp, current.id, current.updated_at])
                if done.rowcount:
                    break
                self._forget(row.id)  # written meanwhile (or deleted): from what is there now
                current = self.widget(row.id)
            if current is None:
                return None
            changed: dict[str, JSON] = {c: _loads(v) if c in _JSON_COLUMNS else v for c, v in encoded.items()}
            if "dashboard" in changed and changed["dashboard"] != current.dashboard:
                found = self._conn.execute("SELECT filters FROM dashboards WHERE id = ?", (changed["dashboard"],))
                filters = found.fetchone()
                changed["dashboard_filters"] = None if filters is None else _loads(filters[0])
            if "metric" in changed and changed["metric"] != current.metric:
                found = self._conn.execute("SELECT name FROM metrics WHERE id = ?", (changed["metric"],))
                name = found.fetchone()
                changed["metric_name"] = None if name is None else name[0]
            changed["updated_at"] = stamp
            stored = WidgetRow(*[changed.get(name, getattr(current, name)) for name in _WIDGET_FIELDS])
            if self._rows is not None:
                self._rows[stored.id] = stored
        return stored

    def delete_widget(self, id_: int) -> None:
        with self._lock:
            self._forget(id_)
            self._conn.execute("DELETE FROM widgets WHERE id = ?", (id_,))

    # Shared writes ------------------------------------------------------------------------------------

    def _insert(
        self, table: str, allowed: tuple[str, ...], tenant: int, values: Mapping[str, JSON], now: int, id_: int | None
    ) -> int:
        columns = [c for c in allowed if c in values and c != "created_at"]
        names = ", ".join(["id", "tenant", *columns, "created_at", "updated_at"])
        marks = ", ".join("?" * (len(columns) + 4))
        params = [id_, tenant, *(_encode(c, values[c]) for c in columns), now, now]
        with self._lock:
            cursor = self._conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", params)
            return int(cursor.lastrowid or 0)

    def _update(
        self, table: str, allowed: tuple[str, ...], id_: int, values: Mapping[str, JSON], bump: Callable[[int], int]
    ) -> bool:
        """Set only the given columns and a bumped ``updated_at``, reading the old stamp under the same lock."""
        columns = [c for c in allowed if c in values]
        assignments = "".join(f"{c} = ?, " for c in columns)
        with self._lock:
            row = self._conn.execute(f"SELECT updated_at FROM {table} WHERE id = ?", (id_,)).fetchone()
            if row is None:
                return False
            params = [*(_encode(c, values[c]) for c in columns), bump(row[0]), id_]
            self._conn.execute(f"UPDATE {table} SET {assignments}updated_at = ? WHERE id = ?", params)
            return True
