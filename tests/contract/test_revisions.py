"""Contract revisions: the live one is the seed one plus the documented changes, generated, never hand-edited.

The expected differences below are the test's oracle, taken from the factual reference (Part 0's dated spec
versions OA-2604a..OA-2605, A3, A7); the product code reads them from the overlay only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

from conformance import contract, overlay

ROOT = Path(__file__).resolve().parents[2]
WIDGET_PATH = "/paths/~1dashboards~1widgets~1{id}~1/patch/requestBody/content/application~1json/examples"
SCHEMAS = "/components/schemas"

#: Every place where the live revision differs from the seed one, and why (documented changes only).
DOCUMENTED_CHANGES = {
    # OA-2604a (2026-04-20): chart type stat; field default ""; chart_type required on create now published.
    f"{SCHEMAS}/ChartTypeEnum/enum": "stat added",
    f"{SCHEMAS}/ChartTypeEnum/description": "label line of stat",
    f"{SCHEMAS}/ChartTypeEnum/x-cekura-later-values": "stat is a plain member",
    f"{SCHEMAS}/ChartTypeEnum/x-cekura-note": "stat leaves field empty (OA-2604d key rules)",
    f"{SCHEMAS}/Widget/properties/field/default": 'field default ""',
    f"{SCHEMAS}/Widget/properties/field/description": "field is empty for stat",
    f"{SCHEMAS}/WidgetCreate/x-cekura-source": "chart_type required: documented",
    f"{SCHEMAS}/WidgetCreate/x-cekura-note": "chart_type required: documented",
    # OA-2604c (2026-04-25): group_by; OA-2604d: the Key rules description.
    f"{SCHEMAS}/Widget/properties/group_by": "group_by added",
    f"{SCHEMAS}/PatchedWidget/properties/group_by": "group_by writable",
    f"{SCHEMAS}/Widget/description": "Key rules",
    f"{SCHEMAS}/Widget/x-cekura-note": "group_by is declared now",
    "/components/examples/Widget/value/group_by": "the example answer shows group_by",
    # OA-2604e (2026-04-29) p95, p99; OA-2605 (2026-05-07) p50.
    f"{SCHEMAS}/AggregationFunctionEnum/enum": "p50, p95, p99 added",
    f"{SCHEMAS}/AggregationFunctionEnum/description": "label lines of the percentiles",
    f"{SCHEMAS}/AggregationFunctionEnum/x-cekura-later-values": "the percentiles are plain members",
    f"{SCHEMAS}/AggregationFunctionEnum/x-cekura-note": "applicability not documented",
    # The document itself, and request examples for the additions.
    "/info/title": "names the revision",
    "/info/description": "describes the revision",
    "/info/x-cekura-revision": "seed -> live",
    "/info/x-cekura-upstream/live-commits": "the dated spec versions",
    f"{WIDGET_PATH}/stat": "example",
    f"{WIDGET_PATH}/percentile": "example",
    f"{WIDGET_PATH}/group_by_field": "example",
    f"{WIDGET_PATH}/group_by_bucket": "example",
}


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def differences(old: Any, new: Any, pointer: str = "") -> set[str]:
    """JSON pointers where two documents differ: a member added, removed or changed; arrays as a whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        found: set[str] = set()
        for key in set(old) | set(new):
            here = f"{pointer}/{_escape(str(key))}"
            if key not in old or key not in new:
                found.add(here)
            else:
                found |= differences(old[key], new[key], here)
        return found
    return set() if old == new else {pointer}


def test_revisions_are_named_and_loaded() -> None:
    assert contract.revisions() == ["seed", "live"]
    assert contract.DEFAULT_REVISION == "seed" and contract.default() is contract.get("seed")
    for name in contract.revisions():
        loaded = contract.load(revision=name)
        assert loaded.revision == name and loaded.document["info"]["x-cekura-revision"] == name
        assert loaded.sha256 == contract.get(name).sha256
    assert contract.get("seed").sha256 != contract.get("live").sha256
    with pytest.raises(contract.UnknownRevision, match="choose one of seed, live"):
        contract.get("staging")
    # A file names its own revision (info.x-cekura-revision), else it is named after the file.
    assert contract.load(contract.fragment_path("live")).revision == "live"


def test_a_fragment_file_without_a_revision_marker_is_named_after_the_file(tmp_path: Path) -> None:
    document = dict(contract.get("seed").document)
    document["info"] = {k: v for k, v in document["info"].items() if k != "x-cekura-revision"}
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump(document))
    assert contract.load(path).revision == "candidate"


@pytest.mark.parametrize("name", ["seed", "live"])
def test_each_revision_is_a_complete_openapi_3_1_document(name: str) -> None:
    document = contract.get(name).document
    assert document["openapi"] == "3.1.0"
    validate(dict(document))


def test_the_live_revision_is_generated_byte_for_byte() -> None:
    """The committed file is what the overlay makes of the seed fragment: nobody edited it by hand."""
    committed = (ROOT / "openapi" / "widgets-live.yaml").read_bytes()
    assert overlay.generate("live") == committed, "run: python -m conformance.overlay"
    assert overlay.main(["--check"]) == 0


def test_the_revisions_differ_exactly_by_the_documented_changes() -> None:
    seed, live = contract.get("seed").document, contract.get("live").document
    assert differences(seed, live) == set(DOCUMENTED_CHANGES)


def test_later_values_of_the_seed_are_the_members_the_live_revision_adds() -> None:
    seed, live = contract.get("seed"), contract.get("live")
    for prop in ("chart_type", "data_type", "time_period", "aggregation_function"):
        added = [m for m in live.enum_members("Widget", prop) if m not in seed.enum_members("Widget", prop)]
        assert added == seed.later_values("Widget", prop)
        assert live.later_values("Widget", prop) == []
    assert live.enum_members("Widget", "chart_type") == ["line", "bar", "pie", "stat"]
    assert live.enum_members("Widget", "aggregation_function") == [
        *["count", "sum", "avg", "min", "max", "p50", "p95", "p99"],
        *["", None],
    ]


def test_group_by_in_the_live_revision_takes_any_json_and_documents_two_shapes() -> None:
    live = contract.get("live")
    assert "group_by" in live.writable("Widget") and "group_by" in live.writable("PatchedWidget")
    assert "group_by" not in contract.get("seed").properties("Widget")
    schema = live.property_schema("Widget", "group_by")
    assert schema["examples"] == [{"type": "field", "field": "agent.id"}, {"type": "bucket", "interval": 3600000}, None]
    for value in [*schema["examples"], {}, "", ["anything"]]:  # published as any JSON (oneOf [{}, null])
        assert not live.errors({"$ref": "#/components/schemas/PatchedWidget/properties/group_by"}, value)
    assert live.property_schema("Widget", "field")["default"] == ""


# The overlay applier -------------------------------------------------------------------------------------------


def _overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "t", "version": "1"}, "actions": list(actions)}


def test_overlay_update_merges_objects_and_appends_to_arrays() -> None:
    document = {"a": {"b": 1, "c": {"d": 2}}, "list": [1], "k/x": {"y": 1}}
    result = overlay.apply(
        document,
        _overlay(
            {"target": "$.a", "update": {"c": {"e": 3}, "f": 4}},
            {"target": "$.list", "update": {"g": 5}},
            {"target": "$['k/x']", "update": {"y": 2}},
        ),
    )
    assert result == {"a": {"b": 1, "c": {"d": 2, "e": 3}, "f": 4}, "list": [1, {"g": 5}], "k/x": {"y": 2}}
    assert document == {"a": {"b": 1, "c": {"d": 2}}, "list": [1], "k/x": {"y": 1}}  # the input is not touched


def test_overlay_remove_and_its_refusals() -> None:
    assert overlay.apply({"a": {"b": 1, "c": 2}}, _overlay({"target": "$.a.b", "remove": True})) == {"a": {"c": 2}}
    with pytest.raises(overlay.OverlayError, match="selects nothing"):
        overlay.apply({"a": {}}, _overlay({"target": "$.a.missing", "update": {"x": 1}}))
    with pytest.raises(overlay.OverlayError, match="only"):
        overlay.apply({"a": {}}, _overlay({"target": "$.paths.*.get", "update": {"x": 1}}))
    with pytest.raises(overlay.OverlayError, match="not an object or array"):
        overlay.apply({"a": 1}, _overlay({"target": "$.a", "update": {"x": 1}}))
    with pytest.raises(overlay.OverlayError, match=r"Overlay 1\.0"):
        overlay.apply({}, {"overlay": "2.0.0", "actions": []})


def test_every_overlay_action_names_its_reason() -> None:
    actions = yaml.safe_load((ROOT / "openapi" / "overlays" / "live.yaml").read_text())["actions"]
    assert actions and all(str(action.get("description", "")).strip() for action in actions)
