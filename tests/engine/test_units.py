"""Unit tests of the engine's small pieces: templates, expectations, calibration, redaction, console."""

from __future__ import annotations

import httpx
import pytest

from conformance import calibration, contract
from conformance.engine import expectations, redact, verdict
from conformance.engine.catalogue import expect_of
from conformance.engine.errors import ConformanceFailure, PreconditionMissing
from conformance.engine.template import TemplateError, render
from conformance.reporting import console


def test_render_keeps_json_types_for_whole_templates_and_interpolates_inside_strings() -> None:
    variables = {"w": {"id": 7, "filters": {"field": "a", "op": "eq", "value": 1}}, "tag": "cwc-x"}
    assert render("${w.id}", variables) == 7
    assert render("${str:w.id}", variables) == "7"
    assert render("widget ${w.id} of ${tag}", variables) == "widget 7 of cwc-x"
    assert render({"f": "${w.filters}", "n": ["${chars:3}"]}, variables) == {
        "f": {"field": "a", "op": "eq", "value": 1},
        "n": ["xxx"],
    }


def test_render_rejects_unknown_names_and_skips_on_missing_metrics() -> None:
    with pytest.raises(TemplateError):
        render("${nope.id}", {})
    with pytest.raises(PreconditionMissing):
        render("${metric.id}", {"metric": None})
    with pytest.raises(PreconditionMissing):
        render("${metric.name}", {"metric": {"id": 3, "name": None}})


@pytest.mark.parametrize(
    ("status", "expected", "ok"),
    [(200, 200, True), (404, "4xx", True), (500, "4xx", False), (403, [401, 403], True), (200, ["2xx", "4xx"], True)],
)
def test_status_matching(status: int, expected: object, ok: bool) -> None:
    assert expectations.status_matches(status, expected) is ok


def test_filter_equivalence_unwraps_and_groups_of_one_and_drops_empty_sides() -> None:
    cond = {"field": "success", "op": "eq", "value": True}
    assert expectations.normalise_filter({"operator": "and", "conditions": [cond]}) == cond
    assert expectations.normalise_filter({"operator": "and", "conditions": [{}, cond]}) == cond
    assert expectations.normalise_filter({}) is None
    other = {"field": "duration", "op": "gt", "value": 3}
    nested = {"operator": "and", "conditions": [{"operator": "and", "conditions": [cond]}, other]}
    assert expectations.normalise_filter(nested) == {"operator": "and", "conditions": [cond, other]}
    assert expectations.normalise_filter({"operator": "or", "conditions": [cond]}) == {
        "operator": "or",
        "conditions": [cond],
    }


def _response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers, request=httpx.Request("PATCH", "http://t/x/"))


def test_check_reports_every_mismatch_and_passes_a_matching_response() -> None:
    c = contract.default()
    saved = {"before": {"id": 1, "name": "a", "updated_at": "2026-01-01T00:00:00Z"}}
    good = _response(200, {"id": 1, "name": "a", "updated_at": "2026-01-02T00:00:00Z"}, {"Allow": "GET, PATCH"})
    expect = expect_of(
        {
            "status": 200,
            "body": {"name": "a"},
            "headers": {"Allow": ["PATCH"]},
            "same_as": {"saved": "before", "except": ["updated_at"]},
            "compare": [{"path": "updated_at", "op": "gt", "value": "${before.updated_at}"}],
        }
    )
    expectations.check(expect, good, contract=c, variables=saved, saved=saved)
    bad = _response(200, {"id": 1, "name": "b", "updated_at": "2025-01-01T00:00:00Z"})
    with pytest.raises(ConformanceFailure) as info:
        expectations.check(expect, bad, contract=c, variables=saved, saved=saved)
    message = str(info.value)
    assert 'name is "b", expected "a"' in message
    assert "header Allow is missing" in message
    assert "name changed" in message
    assert "updated_at is" in message


def test_check_validates_bodies_against_fragment_schemas() -> None:
    c = contract.default()
    with pytest.raises(ConformanceFailure, match="detail"):
        expectations.check(
            expect_of({"schema": {"$ref": "#/components/schemas/Detail"}}),
            _response(404, {"x": 1}),
            contract=c,
            variables={},
            saved={},
        )
    expectations.check(
        expect_of({"schema": {"$ref": "#/components/schemas/Detail"}}),
        _response(404, {"detail": "Not found."}),
        contract=c,
        variables={},
        saved={},
    )


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


def test_redaction_covers_credential_headers_curl_and_free_text() -> None:
    assert redact.headers({"X-CEKURA-API-KEY": "k", "Authorization": "t", "Accept": "a"}) == {
        "X-CEKURA-API-KEY": redact.REDACTED,
        "Authorization": redact.REDACTED,
        "Accept": "a",
    }
    line = redact.curl("patch", "http://t/w/1/", {"X-CEKURA-API-KEY": "sekrit-key"}, b'{"a": 1}')
    assert "sekrit-key" not in line and redact.REDACTED in line and "--data-raw" in line
    scrub = redact.Scrubber(["sekrit-key"])
    assert scrub("error with sekrit-key inside") == f"error with {redact.REDACTED} inside"


def test_console_table_and_verdict_name_failed_musts() -> None:
    summary = {
        "target": {"base_url": "embedded"},
        "profile": "quick",
        "seed": 1,
        "totals": {"passed": 1, "failed": 1, "errored": 0, "skipped": 0},
        "requirements": [
            {"id": "WPATCH-A-01", "level": "MUST", "status": "failed", "reason": "status 500"},
            {"id": "WPATCH-B-01", "level": "SHOULD", "status": "passed", "reason": "2 checks passed"},
        ],
    }
    summary["verdict_line"] = verdict.from_summary(summary).line()
    text = console.table(summary)
    assert "WPATCH-A-01  MUST    FAIL" in text
    assert "NOT CONFORMANT: 1 MUST requirement(s) failed: WPATCH-A-01" in console.verdict(summary)


def test_the_template_builtins_are_the_run_contexts_variables() -> None:
    from conformance.engine.context import RunContext
    from conformance.engine.template import BUILTINS

    class _Fixtures:
        tag = "cwc-test"

    ctx = RunContext(target=None, fixtures=_Fixtures(), contract=contract.default(), seed=1)  # type: ignore[arg-type]
    assert set(ctx.variables()) == BUILTINS


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
