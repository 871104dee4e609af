"""The fragment is a valid OpenAPI 3.1 document and says what the published Cekura docs say.

The expected values below are the test's oracle, copied from the factual reference (Part A3 of
shared/reference/cekura-dashboards-api.md, seed era); the product code reads them from the fragment only.
"""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from conformance import contract

PRIMARY = "dashboards-widgets-partial-update"
SUPPORTING = {
    "dashboards-widgets-list",
    "dashboards-widgets-create",
    "dashboards-widgets-retrieve",
    "dashboards-widgets-update",
    "dashboards-widgets-destroy",
    "dashboards-list",
    "dashboards-create",
    "dashboards-retrieve",
    "dashboards-update",
    "dashboards-partial-update",
    "dashboards-destroy",
    "metrics-v1-list",
}
ENUMS = {
    "chart_type": ["line", "bar", "pie"],
    "data_type": ["numeric", "boolean", "string", "datetime", "dynamic", "", None],
    "time_period": ["hour", "day", "week", "month", "", None],
    "aggregation_function": ["count", "sum", "avg", "min", "max", "", None],
}
LATER = {"chart_type": ["stat"], "aggregation_function": ["p50", "p95", "p99"]}
READ_ONLY = {"id", "effective_filters", "metric_name", "created_at", "updated_at"}
OPS = ["eq", "neq", "gt", "gte", "lt", "lte", "contains", "startswith", "endswith", "in", "isnull", "regex"]


@pytest.fixture(scope="module")
def fragment() -> contract.Contract:
    return contract.default()


def _accepts(fragment: contract.Contract, prop: str, value: Any) -> bool:
    return not fragment.errors({"$ref": f"#/components/schemas/PatchedWidget/properties/{prop}"}, value)


def test_the_fragment_is_a_valid_openapi_3_1_document(fragment: contract.Contract) -> None:
    assert fragment.document["openapi"] == "3.1.0"
    validate(dict(fragment.document))


def test_operations_primary_and_supporting(fragment: contract.Contract) -> None:
    ops = {op.operation_id: op for op in fragment.operations()}
    assert ops[PRIMARY].method == "PATCH" and ops[PRIMARY].path == "/dashboards/widgets/{id}/"
    assert not ops[PRIMARY].supporting
    assert set(ops) == {PRIMARY} | SUPPORTING
    assert all(ops[name].supporting for name in SUPPORTING)


def test_security_is_the_documented_api_key_header(fragment: contract.Contract) -> None:
    scheme = fragment.document["components"]["securitySchemes"]["api_key"]
    assert scheme == {**scheme, "type": "apiKey", "in": "header", "name": "X-CEKURA-API-KEY"}
    assert fragment.document["security"] == [{"api_key": []}]


@pytest.mark.parametrize(("prop", "members"), ENUMS.items())
def test_enum_members_are_the_published_ones(fragment: contract.Contract, prop: str, members: list[Any]) -> None:
    assert fragment.enum_members("Widget", prop) == members
    for member in members:
        assert _accepts(fragment, prop, member)
    assert not _accepts(fragment, prop, "undocumented")


def test_chart_type_has_no_blank_and_no_null(fragment: contract.Contract) -> None:
    assert not _accepts(fragment, "chart_type", "")
    assert not _accepts(fragment, "chart_type", None)


def test_members_added_later_are_marked_and_no_example_uses_them(fragment: contract.Contract) -> None:
    for prop, values in LATER.items():
        assert fragment.later_values("Widget", prop) == values
    examples = fragment.operation(PRIMARY).spec["requestBody"]["content"]["application/json"]["examples"]
    used = {(k, v) for example in examples.values() for k, v in example["value"].items() if isinstance(v, str)}
    assert not {(k, v) for k, v in used if v in LATER.get(k, [])}


def test_read_only_set(fragment: contract.Contract) -> None:
    assert set(fragment.read_only("Widget")) == READ_ONLY
    assert set(fragment.read_only("PatchedWidget")) == READ_ONLY
    assert set(fragment.schema("Widget")["x-cekura-read-only"]) == READ_ONLY


def test_lengths_and_nullability(fragment: contract.Contract) -> None:
    assert _accepts(fragment, "name", None) and _accepts(fragment, "name", "x" * 255)
    assert not _accepts(fragment, "name", "x" * 256)
    assert _accepts(fragment, "field", "x" * 255) and _accepts(fragment, "field", "")
    assert not _accepts(fragment, "field", "x" * 256) and not _accepts(fragment, "field", None)
    for prop in ("dashboard", "metric"):
        assert _accepts(fragment, prop, None) and _accepts(fragment, prop, 5)
        assert not _accepts(fragment, prop, "five")
    for prop in ("filters",):
        assert _accepts(fragment, prop, None) and _accepts(fragment, prop, {})
    assert _accepts(fragment, "metadata", {"position": [1, 2]}) and _accepts(fragment, "metadata", None)


def test_patched_widget_has_no_required_list_and_create_requires_chart_type(fragment: contract.Contract) -> None:
    assert "required" not in fragment.schema("PatchedWidget")
    assert not fragment.errors({"$ref": "#/components/schemas/PatchedWidget"}, {})
    assert fragment.errors({"$ref": "#/components/schemas/WidgetCreate"}, {"field": "duration"})


def test_the_filter_language(fragment: contract.Contract) -> None:
    assert fragment.schema("ComparisonOperatorEnum")["enum"] == OPS
    assert fragment.schema("LogicalOperatorEnum")["enum"] == ["and", "or", "same_row"]

    def ok(value: Any) -> bool:
        return not fragment.errors({"$ref": "#/components/schemas/Filter"}, value)

    nested = {
        "operator": "and",
        "conditions": [
            {"field": "timestamp", "op": "gte", "value": "today-7d"},
            {"operator": "or", "conditions": [{"field": "success", "op": "eq", "value": True}]},
        ],
    }
    assert ok(nested) and ok({}) and ok(None)
    assert all(ok({"field": "topic", "op": op, "value": "x"}) for op in OPS)
    assert not ok({"field": "topic", "op": "like", "value": "x"})
    assert not ok({"operator": "xor", "conditions": []})
    assert not ok({"operator": "and", "conditions": "not a list"})
    assert "x-cekura-max-depth" not in fragment.schema("Filter")  # DRF has no nesting limit


def test_lists_are_paginated_as_published(fragment: contract.Contract) -> None:
    for operation, param, item in (
        ("dashboards-widgets-list", "dashboard_id", "Widget"),
        ("dashboards-list", "project_id", "DashboardList"),
    ):
        spec = fragment.operation(operation).spec
        names = {fragment.resolve(p["$ref"])["name"] if "$ref" in p else p["name"] for p in spec["parameters"]}
        assert names == {"page", "page_size", param}, operation
        envelope = spec["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        schema = fragment.schema(envelope)
        assert set(schema["properties"]) == {"count", "next", "previous", "results"}
        assert schema["required"] == ["count", "results"]
        assert schema["properties"]["results"]["items"]["$ref"].endswith(f"/{item}")
    assert "widgets" not in fragment.properties("DashboardList")
    assert set(fragment.properties("DashboardList")) == set(fragment.properties("Dashboard")) - {"widgets"}


def test_put_takes_the_create_schema(fragment: contract.Contract) -> None:
    assert fragment.operation("dashboards-widgets-update").request_schema == "WidgetCreate"
    assert fragment.operation("dashboards-update").request_schema == "Dashboard"
    assert fragment.operation("dashboards-widgets-update").spec["requestBody"]["required"] is True


def test_metrics_carry_description_and_enum_values(fragment: contract.Contract) -> None:
    assert {"id", "name", "description", "type", "eval_type", "enum_values"} <= set(fragment.properties("Metric"))


def test_enum_labels_are_published_as_drf_spectacular_writes_them(fragment: contract.Contract) -> None:
    for name in ("ChartTypeEnum", "DataTypeEnum", "TimePeriodEnum", "AggregationFunctionEnum"):
        schema = fragment.schema(name)
        lines = [line for line in schema["description"].splitlines() if line.startswith("* `")]
        assert [line.split("`")[1] for line in lines] == schema["enum"], name


def test_django_pages_are_declared_where_django_answers_html(fragment: contract.Contract) -> None:
    components = fragment.document["components"]["responses"]
    assert set(components["NotFound"]["content"]) == {"application/json", "text/html"}
    assert set(components["ValidationFailed"]["content"]) == {"application/json", "text/html"}
    assert all("406" in op.spec["responses"] for op in fragment.operations())


def test_error_responses_are_declared_and_the_undocumented_ones_marked(fragment: contract.Contract) -> None:
    responses = fragment.operation(PRIMARY).spec["responses"]
    assert {"200", "400", "401", "403", "404", "405", "415"} <= set(responses)
    components = fragment.document["components"]["responses"]
    for status in ("400", "401", "403", "404", "405", "415"):
        name = responses[status]["$ref"].rsplit("/", 1)[-1]
        assert components[name]["x-cekura-source"] in {"drf-default", "inferred"}, status
    assert "Allow" in components["MethodNotAllowed"]["headers"]


def test_links_chain_create_to_the_id_operations(fragment: contract.Contract) -> None:
    links = fragment.operation("dashboards-widgets-create").spec["responses"]["201"]["links"]
    assert {link["operationId"] for link in links.values()} == {
        "dashboards-widgets-retrieve",
        PRIMARY,
        "dashboards-widgets-destroy",
    }
    assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())


def test_response_schemas_are_open_and_examples_validate(fragment: contract.Contract) -> None:
    assert fragment.schema("Widget").get("additionalProperties", True) is not False
    widget = dict(fragment.document["components"]["examples"]["Widget"]["value"])
    assert not fragment.errors({"$ref": "#/components/schemas/Widget"}, {**widget, "group_by": {"type": "field"}})
    dashboard = fragment.document["components"]["examples"]["Dashboard"]["value"]
    assert not fragment.errors({"$ref": "#/components/schemas/Dashboard"}, dashboard)
