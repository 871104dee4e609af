"""The PATCH-semantics oracle's aspects, judged on hand-made observations (no engine run)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance import contract
from conformance.engine import oracle
from conformance.engine.properties.harness import PropertyEnv

WIDGET: dict[str, Any] = {
    "id": 7,
    "dashboard": None,
    "name": "w",
    "filters": None,
    "effective_filters": {},
    "chart_type": "pie",
    "data_type": None,
    "field": "metric_evaluations.value",
    "metric": 3,
    "metric_name": "Accuracy",
    "time_period": None,
    "aggregation_function": None,
    "metadata": None,
    "created_at": "2026-01-01T00:00:00.000000Z",
    "updated_at": "2026-01-01T00:00:00.000000Z",
}
LATER = "2026-01-01T00:00:01.000000Z"
KEYS = [*WIDGET, "operator", "conditions", "op", "value"]


def _judge(sent: dict[str, Any], after: dict[str, Any], answer: Any, status: int = 200) -> list[tuple[str, str]]:
    obs = oracle.Observation(WIDGET, after, {None: None}, {3: "Accuracy"}, sent)
    return oracle.judge(contract.default(), obs, status, answer)


def _aspects(problems: list[tuple[str, str]]) -> set[str]:
    return {aspect for aspect, _ in problems}


def test_a_correct_patch_raises_nothing() -> None:
    after = {**WIDGET, "name": "renamed", "updated_at": LATER}
    assert _judge({"name": "renamed"}, after, dict(after)) == []


def test_an_answer_with_another_id_or_another_state_is_a_response_problem() -> None:
    after = {**WIDGET, "name": "renamed", "updated_at": LATER}
    echoed = _judge({"name": "renamed", "id": 9}, after, {**after, "id": 9})
    assert _aspects(echoed) == {"response"} and "id is 9" in echoed[0][1]
    moved = {**WIDGET, "metadata": {"x": 1}, "updated_at": LATER}
    stale = _judge({"metadata": {"x": 1}}, moved, {**WIDGET, "metadata": {"x": 1}})  # the answer kept the old time
    assert _aspects(stale) == {"response"} and "updated_at" in stale[0][1]
    # A body that is not an object is the schema checks' to judge.
    assert _judge({"name": "renamed"}, after, None) == [
        ("applied", "name sent as 'renamed': response has None, a later GET 'renamed'")
    ]


def test_clearing_the_metric_must_drop_its_name() -> None:
    cleared = {**WIDGET, "field": "call_ended_reason", "metric": None, "updated_at": LATER}
    sent = {"field": "call_ended_reason", "metric": None}
    assert _judge(sent, {**cleared, "metric_name": None}, {**cleared, "metric_name": None}) == []
    assert _judge(sent, {k: v for k, v in cleared.items() if k != "metric_name"}, {**cleared}) != []  # response differs
    stale = {**cleared, "metric_name": "Accuracy"}
    assert _aspects(_judge(sent, stale, dict(stale))) == {"metric_name_cleared"}


def test_every_problem_names_a_registered_aspect() -> None:
    after = {**WIDGET, "name": "x", "metric": None, "created_at": LATER}  # several aspects at once
    for aspect, _ in _judge({"id": 1, "metric": None}, after, {**after, "id": 1}):
        assert oracle.check_key(aspect) == f"oracle:{aspect}"
    with pytest.raises(KeyError, match="unknown oracle aspect"):
        oracle.check_key("patch_semantics")


def test_a_501_to_an_undeclared_method_is_a_refusal_not_a_server_error() -> None:
    env = SimpleNamespace(contract=contract.default())
    path = "/dashboards/widgets/{id}/"

    def refused(method: str, status: int) -> bool:
        case = SimpleNamespace(method=method, operation=SimpleNamespace(path=path))
        return PropertyEnv.unrecognised_method_refused(env, case, SimpleNamespace(status_code=status))  # type: ignore[arg-type]

    assert refused("TRACE", 501) and refused("trace", 501)
    assert not refused("PATCH", 501)  # a declared method: 501 is a server failure
    assert not refused("TRACE", 500)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    after=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=8),
    body=JSON_VALUES,
    sent=st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=4),
    status=st.sampled_from([200, 201, 400, 404]),
)
def test_whatever_the_target_answers_the_oracle_judges_and_never_raises(
    after: dict[str, Any], body: Any, sent: dict[str, Any], status: int
) -> None:
    """A hostile answer (a group without conditions, a pk "abc" accepted) is the target's to fail, not a suite error."""
    obs = oracle.Observation(WIDGET, {**WIDGET, **after}, {None: None, 1: {"operator": "and"}}, {3: "Accuracy"}, sent)
    for aspect, message in oracle.judge(contract.default(), obs, status, body):
        assert aspect in oracle.ASPECTS and isinstance(message, str)
