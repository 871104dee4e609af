"""Contract coverage: items derived from the fragment, observations from what the HTTP seam sent."""

from __future__ import annotations

import copy
import json
import random
import shutil
import threading
from pathlib import Path
from typing import Any

import yaml

from conformance import contract
from conformance.engine import coverage
from conformance.engine.catalogue import catalogue_dir, load
from conformance.engine.coverage import Collector, derive
from conformance.engine.profiles import get
from conformance.engine.runner import Engine
from conformance.engine.target import Sent, TargetConfig
from conformance.reporting import console
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

PATCH = "/dashboards/widgets/7/"


def _keys(c: contract.Contract, kind: str) -> list[str]:
    return [i.key for i in derive(c) if i.kind == kind]


def _sent(body: Any, *, tenant: str = "primary", status: int = 200, activity: str = "a case") -> Sent:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Sent(activity, tenant, "PATCH", PATCH, content, status)


def test_items_are_read_from_the_fragment() -> None:
    c = contract.default()
    values = _keys(c, coverage.VALUE)
    # Every enum member of every writable enum property, "" and null included where the enum lists them.
    for prop in ("chart_type", "data_type", "time_period", "aggregation_function"):
        members = c.enum_members("PatchedWidget", prop)
        assert members, prop
        for member in members:
            assert f"{prop}={coverage._member(member)}" in values, (prop, member)
    assert {'data_type=""', "data_type=null", "aggregation_function=null"} <= set(values)
    assert "chart_type=null" not in values and 'chart_type=""' not in values  # not members of chart_type
    # The filter language: every comparison operator and logical operator the fragment lists, nesting, {} and null.
    ops = c.schema("ComparisonOperatorEnum")["enum"]
    operators = c.schema("LogicalOperatorEnum")["enum"]
    assert len(ops) == 12 and len(operators) == 3
    assert [v for v in values if v.startswith("filters op=")] == [f"filters op={op}" for op in ops]
    assert [v for v in values if v.startswith("filters operator=")] == [f"filters operator={o}" for o in operators]
    assert {"filters: nested FilterGroup", "filters={}", "filters=null"} <= set(values)
    # Nullable properties, the maxLength boundary, and a property with no schema at all.
    assert {"dashboard=null", "metric=null", "name=null"} <= set(values) and "field=null" not in values
    assert {"name: 255 characters", "name: 256 characters", "field: 255 characters", "field: 256 characters"} <= set(
        values
    )
    assert "metadata: any value" in values
    # Read-only fields, the PATCH operation's documented answers, the supporting operations.
    assert _keys(c, coverage.READ_ONLY) == [f"{name} (read-only) sent" for name in c.read_only("PatchedWidget")]
    documented = list(c.operation("dashboards-widgets-partial-update").spec["responses"])
    assert _keys(c, coverage.STATUS) == [f"PATCH answered {code}" for code in documented]
    supporting = [op for op in c.operations() if op.supporting]
    assert len(_keys(c, coverage.OPERATION)) == len(supporting) > 5


def test_later_values_are_items_only_where_the_fragment_makes_them_members() -> None:
    c = contract.default()
    later = c.later_values("PatchedWidget", "chart_type") + c.later_values("PatchedWidget", "aggregation_function")
    assert later == ["stat", "p50", "p95", "p99"]
    values = set(_keys(c, coverage.VALUE))
    assert not any(key.endswith(f"={v}") for v in later for key in values)
    # Sending one counts for nothing in this revision.
    collector = Collector(c)
    collector.observe(_sent({"chart_type": "stat", "aggregation_function": "p95"}))
    assert not any(r["covered"] for r in collector.report()["items"] if r["kind"] == coverage.VALUE)

    # A revision whose fragment lists them as members, and adds a property, has them as items: nothing by hand.
    document = copy.deepcopy(dict(c.document))
    schemas = document["components"]["schemas"]
    for name in ("ChartTypeEnum", "AggregationFunctionEnum"):
        schemas[name]["enum"] += schemas[name].pop("x-cekura-later-values")
    schemas["PatchedWidget"]["properties"]["group_by"] = {"type": ["string", "null"], "maxLength": 64}
    live = contract.Contract(document=document, raw=json.dumps(document).encode())
    live_values = _keys(live, coverage.VALUE)
    assert {"chart_type=stat", "aggregation_function=p99", "group_by=null", "group_by: 65 characters"} <= set(
        live_values
    )
    assert len(live_values) == len(values) + 4 + 4


def test_what_a_patch_body_exercised() -> None:
    c = contract.default()
    collector = Collector(c)
    nested = {
        "operator": "and",
        "conditions": [
            {"field": "topic", "op": "isnull", "value": True},
            {"operator": "same_row", "conditions": [{"field": "x", "op": "regex", "value": "^a"}]},
        ],
    }
    collector.observe(_sent({"filters": nested, "aggregation_function": None, "name": "x" * 256, "id": 3}))
    collector.observe(_sent({"filters": {"field": "a", "op": "nearly", "value": 1}}))  # no documented op
    xor = {"operator": "xor", "conditions": [{"field": "a", "op": "eq", "value": 1}]}  # an undocumented group
    collector.observe(_sent({"filters": {"operator": "or", "conditions": [xor]}}, status=400))
    collector.observe(_sent({"chart_type": "bar"}, tenant="invalid", status=401))  # a body the target never reads
    collector.observe(_sent(b"\xff not json"))
    report = collector.report()
    covered = {r["item"] for r in report["items"] if r["covered"]}
    assert {
        "filters operator=and",
        "filters operator=or",
        "filters operator=same_row",
        "filters op=isnull",
        "filters op=regex",
        "filters: nested FilterGroup",
        "aggregation_function=null",
        "name: 256 characters",
        "id (read-only) sent",
        "PATCH answered 200",
        "PATCH answered 401",
        "PATCH answered 400",
    } == covered - {r["item"] for r in report["items"] if r["kind"] == coverage.OPERATION}
    assert "chart_type=bar" in report["missing"] and "name: a string" in report["missing"]  # 256 is over the limit
    assert report["total"] == len(report["missing"]) + report["covered"]


def test_the_collector_is_thread_safe_and_its_report_is_independent_of_arrival_order() -> None:
    c = contract.default()
    bodies = [{"chart_type": m} for m in c.enum_members("PatchedWidget", "chart_type")]
    bodies += [{"data_type": m} for m in c.enum_members("PatchedWidget", "data_type")]
    events = [_sent(b, activity=f"case {i % 7}", status=200 + (i % 2) * 200) for i, b in enumerate(bodies * 30)]

    def feed(collector: Collector, order: list[Sent], threads: int) -> dict[str, Any]:
        chunks = [order[i::threads] for i in range(threads)]
        workers = [
            threading.Thread(target=lambda chunk=chunk: [collector.observe(e) for e in chunk]) for chunk in chunks
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return collector.report()

    first = feed(Collector(c), events, 1)
    shuffled = list(events)
    random.Random(3).shuffle(shuffled)
    second = feed(Collector(c), shuffled, 8)
    assert first == second
    row = next(r for r in first["items"] if r["item"] == "chart_type=bar")
    assert row["by"] == sorted(row["by"]) and sum(row["answers"].values()) == 30


def test_a_removed_case_is_named_as_the_value_no_longer_sent(tmp_path: Path) -> None:
    """The catalogue alone covers every documented value; without the case that sends the aggregation members,
    the coverage report and the console name those values."""
    copy_dir = tmp_path / "catalogue"
    shutil.copytree(catalogue_dir(), copy_dir)
    roundtrip = copy_dir / "roundtrip.yaml"
    data = yaml.safe_load(roundtrip.read_text())
    requirement = next(r for r in data["requirements"] if r["id"] == "WPATCH-RT-01")
    requirement["cases"] = [c for c in requirement["cases"] if c["name"] != "aggregation_function members"]
    roundtrip.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))

    def catalogue_only(catalogue_path: Path | None) -> dict[str, Any]:
        config = TargetConfig(api_key=EMBEDDED_KEY, other_api_key=EMBEDDED_OTHER_KEY)
        with Engine(config, get("quick"), seed=7, catalogue=load(catalogue_path)) as engine:
            engine.preflight()
            for req in engine.catalogue.requirements:
                engine.run_requirement(req)
        return engine.result.coverage

    full = catalogue_only(None)
    assert full["percent"] == 100.0 and full["missing"] == []
    reduced = catalogue_only(copy_dir)
    lost = ["aggregation_function=count", "aggregation_function=sum", "aggregation_function=min"]
    assert reduced["missing"] == lost
    assert reduced["covered"] == full["covered"] - 3
    lines = console.coverage({"coverage": reduced}).splitlines()
    assert lines[0].startswith(f"contract coverage {coverage.figure(reduced)}: never sent aggregation_function=count")
    assert lines[1:4] == [f"  never sent: {m}" for m in lost]
    # A run that ended early or ran a selection says so in one line, without listing what it never reached.
    short = console.coverage({"coverage": reduced, "partial": "only a selection ran (5 of 53 requirements)"})
    assert short.splitlines() == [
        f"contract coverage {coverage.figure(reduced)}: {reduced['covered']} of {reduced['total']} documented "
        "values of PATCH /dashboards/widgets/{id}/ sent (only a selection ran)"
    ]
