"""engine/expectations.py: status matching, filter equivalence and the judging of a step's expect block."""

from __future__ import annotations

import httpx
import pytest

from conformance import contract
from conformance.engine import expectations
from conformance.engine.catalogue import expect_of
from conformance.engine.errors import ConformanceFailure


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
