"""calibration.py: what DRF would accept, and generated bodies fixed to what every reading accepts."""

from __future__ import annotations

from conformance import calibration, contract


def test_calibration_accepts_what_drf_coerces_and_nothing_else() -> None:
    c = contract.default()
    assert calibration.drf_would_accept(c, "PatchedWidget", {"metric": "5", "name": 12, "id": "x", "extra": []})
    assert calibration.drf_would_accept(c, "PatchedWidget", {"dashboard": 5.0})
    assert calibration.drf_would_accept(c, "PatchedWidget", {"dashboard": "", "metric": ""})  # "" is null
    assert calibration.drf_would_accept(c, "PatchedWidget", {"field": " " + "*" * 255})  # trimmed to 255
    assert not calibration.drf_would_accept(c, "PatchedWidget", {"field": "*" * 256})
    assert calibration.drf_would_accept(c, "Dashboard", {"project": "5", "name": 3})
    assert calibration.drf_would_accept(c, "Dashboard", {"project": "5.0"})
    assert not calibration.drf_would_accept(c, "Dashboard", {"project": "5.5"})
    assert not calibration.drf_would_accept(c, "WidgetCreate", {"field": "duration"})  # chart_type is required
    assert calibration.drf_would_accept(c, "WidgetCreate", {"chart_type": "bar", "metric": "2"})
    assert not calibration.drf_would_accept(c, "PatchedWidget", {"metric": "abc"})
    assert not calibration.drf_would_accept(c, "PatchedWidget", {"metric": True})
    assert not calibration.drf_would_accept(c, "PatchedWidget", {"chart_type": ""})
    assert not calibration.drf_would_accept(c, "PatchedWidget", [])
    fixed = calibration.fix_positive_body({"dashboard": 99, "metric": 5, "name": "a\x00b"}, dashboards=[3], metrics=[4])
    assert fixed == {"dashboard": 3, "metric": 4, "name": "ab"}


def test_positive_filters_keep_to_values_every_reading_of_their_operator_accepts() -> None:
    body = {
        "filters": {
            "operator": "and",
            "conditions": [
                {"field": "topic", "op": "in", "value": "x"},
                {"operator": "or", "conditions": [{"field": "topic", "op": "isnull", "value": 0}]},
                {"field": "topic", "op": "in", "value": ["a"]},
                {"field": "topic", "op": "eq", "value": "y"},
            ],
        }
    }
    fixed = calibration.fix_positive_body(body, dashboards=[None], metrics=[None])
    conditions = fixed["filters"]["conditions"]
    assert conditions[0]["value"] == ["x"] and conditions[1]["conditions"][0]["value"] is False
    assert conditions[2]["value"] == ["a"] and conditions[3]["value"] == "y"
    assert body["filters"]["conditions"][0]["value"] == "x"  # the generated case itself is left as it was
