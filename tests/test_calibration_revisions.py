"""Calibration on either revision: later members are never negatives; group_by keeps to its documented shapes."""

from __future__ import annotations

from types import SimpleNamespace

from conformance import calibration, contract, schemathesis_hooks

SEED, LIVE = contract.get("seed"), contract.get("live")
SHAPES = [{"type": "field", "field": "agent.id"}, {"type": "bucket", "interval": 3600000}, None]


def test_a_later_member_is_never_a_negative_on_the_seed_revision() -> None:
    for body in ({"chart_type": "stat"}, {"aggregation_function": "p99"}, {"chart_type": "stat", "name": "x"}):
        assert SEED.errors({"$ref": "#/components/schemas/PatchedWidget"}, body)  # invalid by the seed schema...
        assert calibration.drf_would_accept(SEED, "PatchedWidget", body)  # ...yet the live API accepts it
    assert calibration.drf_would_accept(SEED, "WidgetCreate", {"chart_type": "stat"})
    assert not calibration.drf_would_accept(SEED, "PatchedWidget", {"chart_type": "stat", "name": ["a list"]})
    assert not calibration.drf_would_accept(SEED, "PatchedWidget", {"chart_type": "donut"})
    assert not calibration.drf_would_accept(LIVE, "PatchedWidget", {"chart_type": "donut"})


def test_positive_group_by_keeps_to_the_documented_shapes() -> None:
    assert calibration.documented_examples(LIVE, "group_by") == SHAPES
    assert calibration.documented_examples(SEED, "group_by") == []
    for generated in ({"type": "x"}, [1, 2], "abc", 0, {}):
        fixed = calibration.fix_positive_body({"group_by": generated}, dashboards=[], metrics=[], group_by=SHAPES)
        assert fixed["group_by"] in SHAPES
        again = calibration.fix_positive_body({"group_by": generated}, dashboards=[], metrics=[], group_by=SHAPES)
        assert again == fixed  # deterministic in the generated value
    for shape in SHAPES:
        kept = calibration.fix_positive_body({"group_by": shape}, dashboards=[], metrics=[], group_by=SHAPES)
        assert kept == {"group_by": shape}
    assert calibration.fix_positive_body({"group_by": 7}, dashboards=[], metrics=[]) == {"group_by": 7}


def _case(document: object) -> SimpleNamespace:
    schema = SimpleNamespace(raw_schema=document)
    return SimpleNamespace(operation=SimpleNamespace(schema=schema, method="PATCH", path="/dashboards/widgets/{id}/"))


def test_the_schemathesis_hooks_follow_the_fragment_they_are_given() -> None:
    assert schemathesis_hooks._contract_of(_case(LIVE.document)) is LIVE
    assert schemathesis_hooks._contract_of(_case(SEED.document)) is SEED
    assert schemathesis_hooks._contract_of(_case({"info": {"x-cekura-revision": "staging"}})) is SEED
    assert schemathesis_hooks._contract_of(SimpleNamespace(operation=SimpleNamespace())) is SEED
