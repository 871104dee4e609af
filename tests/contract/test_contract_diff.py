"""``contract diff``: the two shipped revisions differ by exactly the documented changes, each classified; the
rules for the other kinds of change, on fragments changed one thing at a time."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance import contract, contractdiff
from tests.cli import run_cli

SCHEMAS = "#/components/schemas"
PATCH = "PATCH /dashboards/widgets/{id}/"
BOTH = {"request", "response"}

#: (location, kind, detail, clients, servers): the documented changes of OA-2604a..OA-2605 (reference Part 0, A3).
SEED_TO_LIVE = [
    (f"{SCHEMAS}/AggregationFunctionEnum", "enum-value-added", 'enum value "p50" added', "breaking", "compatible"),
    (f"{SCHEMAS}/AggregationFunctionEnum", "enum-value-added", 'enum value "p95" added', "breaking", "compatible"),
    (f"{SCHEMAS}/AggregationFunctionEnum", "enum-value-added", 'enum value "p99" added', "breaking", "compatible"),
    (f"{SCHEMAS}/ChartTypeEnum", "enum-value-added", 'enum value "stat" added', "breaking", "compatible"),
    (f"{SCHEMAS}/Widget/properties/field", "default-added", 'default "" added', "compatible", "compatible"),
    (f"{SCHEMAS}/Widget/properties/group_by", "property-added", "property group_by added", "compatible", "compatible"),
]


def _rows(changes: list[contractdiff.Change]) -> list[tuple[str, str, str, str, str]]:
    return [(c.location, c.kind, c.detail, c.verdict("clients"), c.verdict("servers")) for c in changes]


def test_seed_to_live_lists_exactly_the_documented_changes_each_classified() -> None:
    changes = contractdiff.diff(contract.get("seed"), contract.get("live"))
    assert _rows(changes) == SEED_TO_LIVE
    for change in changes:
        assert set(change.uses) == BOTH  # in the PATCH/PUT/POST bodies and in every answer that shows a widget
        assert PATCH in change.uses["request"] and PATCH in change.uses["response"]
        assert "GET /dashboards/dashboards/{id}/" in change.uses["response"]  # a dashboard's nested widgets
    stat = next(c for c in changes if "stat" in c.detail).as_dict()
    assert stat["directions"]["request"]["clients"]["verdict"] == "compatible"
    assert stat["directions"]["response"]["clients"]["verdict"] == "breaking"
    assert stat["directions"]["response"]["oasdiff"] == "response-property-enum-value-added"
    assert stat["directions"]["request"]["oasdiff"] == "request-property-enum-value-added"


def test_live_to_seed_is_breaking_for_both_sides() -> None:
    changes = contractdiff.diff(contract.get("live"), contract.get("seed"))
    assert [(c.kind, c.verdict("clients"), c.verdict("servers")) for c in changes] == [
        *[("enum-value-removed", "breaking", "breaking")] * 4,
        ("default-removed", "compatible", "compatible"),
        ("property-removed", "breaking", "compatible"),
    ]


def test_a_revision_against_itself_has_no_change() -> None:
    assert contractdiff.diff(contract.get("live"), contract.load(revision="live")) == []


def test_the_command_exits_by_the_side_asked(tmp_path: Path) -> None:
    assert run_cli("contract", "diff", "seed", "live", "--for", "servers").returncode == 0
    clients = run_cli("contract", "diff", "seed", "live", "--for", "clients")
    assert clients.returncode == 1
    assert "6 changes: 4 breaking for clients, 0 breaking for servers" in clients.stdout
    assert '#/components/schemas/ChartTypeEnum: enum value "stat" added [enum-value-added]' in clients.stdout
    assert clients.stdout.rstrip().endswith("BREAKING for clients (exit 1)")
    assert run_cli("contract", "diff", "seed", "live").returncode == 1  # both sides without --for
    assert run_cli("contract", "diff", "live", "seed", "--for", "servers").returncode == 1
    as_json = run_cli("contract", "diff", "seed", "live", "--for", "servers", "--format", "json")
    data = json.loads(as_json.stdout)
    assert data["exit_code"] == as_json.returncode == 0 and data["breaking"] == {"clients": 4, "servers": 0}
    assert [c["detail"] for c in data["changes"]] == [row[2] for row in SEED_TO_LIVE]
    assert data["new"] == {"name": "live", "revision": "live", "sha256": contract.get("live").sha256}
    listed = run_cli("contract", "revisions")
    assert listed.returncode == 0 and "seed (default)" in listed.stdout and contract.get("live").sha256 in listed.stdout


@pytest.mark.parametrize(
    ("content", "said"),
    [(None, "neither a revision"), ("a: [", "cannot be read"), ("just: text\n", "not an OpenAPI 3 document")],
)
def test_what_cannot_be_compared_is_a_usage_error(tmp_path: Path, content: str | None, said: str) -> None:
    path = tmp_path / "other.yaml"
    if content is not None:
        path.write_text(content)
    proc = run_cli("contract", "diff", "seed", str(path))
    assert proc.returncode == 2 and said in proc.stderr and "Traceback" not in proc.stderr


# The rules, one change at a time ---------------------------------------------------------------------------


def _changed(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> list[contractdiff.Change]:
    document = copy.deepcopy(dict(contract.get("seed").document))
    edit(document)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return contractdiff.diff(contract.get("seed"), contractdiff.load(str(path)))


def _schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]  # type: ignore[no-any-return]


def test_a_new_required_response_field_is_breaking_for_servers_only(tmp_path: Path) -> None:
    def edit(document: dict[str, Any]) -> None:
        widget = _schemas(document)["Widget"]
        widget["properties"]["owner"] = {"type": "integer"}
        widget["required"] = [*widget["required"], "owner"]

    [change] = _changed(tmp_path, edit)
    assert (change.kind, change.location) == ("required-property-added", f"{SCHEMAS}/Widget/properties/owner")
    assert set(change.uses) == {"response"} and change.as_dict()["directions"]["response"]["oasdiff"] == (
        "response-required-property-added"
    )
    assert (change.verdict("clients"), change.verdict("servers")) == ("compatible", "breaking")


def test_a_removed_member_is_breaking_for_both_sides(tmp_path: Path) -> None:
    [change] = _changed(tmp_path, lambda d: _schemas(d)["ChartTypeEnum"].update(enum=["line", "bar"]))
    assert (change.kind, change.detail) == ("enum-value-removed", 'enum value "pie" removed')
    assert (change.verdict("clients"), change.verdict("servers")) == ("breaking", "breaking")
    assert change.verdicts("response")[0].verdict == "compatible"  # a client receives less than it handles


def test_a_narrowed_length_breaks_clients_in_requests_and_servers_everywhere(tmp_path: Path) -> None:
    [change] = _changed(tmp_path, lambda d: _schemas(d)["Widget"]["properties"]["name"].update(maxLength=100))
    assert (change.kind, change.location, change.detail) == (
        "bound-tightened",
        f"{SCHEMAS}/Widget/properties/name",
        "maxLength 255 -> 100",
    )
    request, response = change.verdicts("request"), change.verdicts("response")
    assert [v.verdict for v in request] == ["breaking", "breaking"]
    assert [v.verdict for v in response] == ["compatible", "breaking"]
    assert change.oasdiff("request") == "request-property-max-length-decreased" and change.oasdiff("response") is None
    [wider] = _changed(tmp_path, lambda d: _schemas(d)["Widget"]["properties"]["name"].update(maxLength=300))
    assert (wider.kind, wider.verdict("clients"), wider.verdict("servers")) == (
        "bound-relaxed",
        "breaking",
        "compatible",
    )
    assert wider.oasdiff("response") == "response-property-max-length-increased"


def test_nullability_read_only_and_unknown_keywords(tmp_path: Path) -> None:
    [nullable] = _changed(
        tmp_path, lambda d: _schemas(d)["Widget"]["properties"]["field"].update(type=["string", "null"])
    )
    assert (nullable.kind, nullable.verdict("clients"), nullable.verdict("servers")) == (
        "became-nullable",
        "breaking",
        "compatible",
    )
    # A read-only property is ignored in requests (DRF): its change is judged in the answers only.
    [read_only] = _changed(tmp_path, lambda d: _schemas(d)["Widget"]["properties"]["id"].update(type="string"))
    assert (read_only.kind, set(read_only.uses)) == ("type-changed", {"response"})
    [unknown] = _changed(tmp_path, lambda d: _schemas(d)["Widget"]["properties"]["name"].update({"not": {"const": ""}}))
    assert (unknown.kind, unknown.verdict("clients"), unknown.verdict("servers")) == (
        "keyword-changed",
        "breaking",
        "breaking",
    )
    # Documentation is not a change of the contract.
    assert _changed(tmp_path, lambda d: _schemas(d)["Widget"].update(description="new words", **{"x-note": 1})) == []


def test_recursive_schemas_and_operations(tmp_path: Path) -> None:
    def drop_regex(document: dict[str, Any]) -> None:
        members = _schemas(document)["ComparisonOperatorEnum"]["enum"]
        members.remove("regex")

    [change] = _changed(tmp_path, drop_regex)  # reached through the recursive filter group, found once
    assert change.location == f"{SCHEMAS}/ComparisonOperatorEnum" and set(change.uses) == BOTH
    assert "PATCH /dashboards/dashboards/{id}/" in change.uses["request"]

    def drop_delete(document: dict[str, Any]) -> None:
        del document["paths"]["/dashboards/widgets/{id}/"]["delete"]

    [removed] = _changed(tmp_path, drop_delete)
    assert (removed.kind, removed.verdict("clients"), removed.verdict("servers")) == (
        "operation-removed",
        "breaking",
        "compatible",
    )
