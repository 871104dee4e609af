"""Judging the target, not the suite: whatever the target's answer lacks is its failure of the requirement
that needed it, never an errored case; only the suite's own defects (a template naming nothing) are errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.emulator import Behaviour
from conformance.emulator.behaviour import Reply
from conformance.engine import catalogue
from conformance.engine.errors import ConfigurationError, ConformanceFailure
from conformance.engine.fixtures import FixtureAnswerInvalid, FixtureError, Fixtures
from conformance.engine.outcomes import Status
from conformance.engine.profiles import get
from conformance.engine.runner import Engine, RunResult
from conformance.engine.target import Target, TargetConfig
from conformance.engine.template import MissingFromAnswer, TemplateError, render, undefined
from conformance.engine.verdict import Verdict

# -- templates --------------------------------------------------------------------------------------------


def test_a_key_the_targets_answer_lacks_is_the_targets_failure() -> None:
    answers = {"before": "the response saved as 'before'"}
    with pytest.raises(MissingFromAnswer) as raised:
        render({"value": "${before.metric_name}"}, {"before": {"id": 3}}, answers)
    assert isinstance(raised.value, ConformanceFailure)
    assert str(raised.value).startswith("`metric_name` is missing from the response saved as 'before'")


def test_a_name_the_case_never_defines_is_a_catalogue_bug() -> None:
    with pytest.raises(TemplateError):
        render("${nope.id}", {"before": {}}, {"before": "a response"})
    with pytest.raises(TemplateError):  # a key missing from the suite's own values is the suite's
        render("${tag.x}", {"tag": "cwc-x"}, {"before": "a response"})


def test_undefined_names_are_found_without_running_the_case() -> None:
    op = "dashboards-widgets-partial-update"
    case = catalogue.case_of(
        {
            "name": "c",
            "given": {"w": {"widget": {"dashboard": "${d.id}"}}},
            "steps": [
                {"request": {"operation": op, "path": {"id": "${w.id}"}}, "save": "before"},
                {
                    "request": {"operation": op, "json": {"name": "${chars:3} ${tag}"}},
                    "expect": {"body": {"name": "${before.name}"}},
                },
                {
                    "request": {"operation": op, "json": {"x": "${after.x}", "y": "${str:w.id}"}},
                    "expect": {"same_as": {"saved": "later"}},
                },
            ],
        }
    )
    assert undefined(case) == ["${d.id}", "${after.x}", "same_as 'later'"]


def test_the_catalogue_refuses_to_load_a_case_with_an_undefined_template(tmp_path: Path) -> None:
    source = catalogue.catalogue_dir() / "timestamps.yaml"
    broken = tmp_path / "timestamps.yaml"
    text = source.read_text()
    assert "${before.updated_at}" in text
    broken.write_text(text.replace("${before.updated_at}", "${bfore.updated_at}", 1))
    with pytest.raises(ConfigurationError, match=r"\$\{bfore\.updated_at\}.*catalogue bug"):
        catalogue.load(tmp_path)
    shutil.copy(source, broken)
    assert catalogue.load(tmp_path).requirements


# -- a target whose answers lack a documented field ------------------------------------------------------


class OmitsMetricName(Behaviour):
    """Every widget representation lacks ``metric_name`` (a documented, read-only response field)."""

    def represent_widget(self, row: Any) -> dict[str, Any]:
        body = super().represent_widget(row)
        body.pop("metric_name", None)
        return body


@pytest.fixture(scope="module")
def omits_metric_name() -> RunResult:
    from tests.suite.conftest import Embedded

    with Engine(Embedded(OmitsMetricName).config, get("quick"), seed=5) as engine:
        engine.preflight()
        engine.run_stages(("examples", "fuzz-positive"))  # the other stages only take longer to say the same
        for requirement in engine.catalogue.requirements:
            engine.run_requirement(requirement)
    return engine.result


def test_a_missing_field_fails_the_requirement_that_needed_it(omits_metric_name: RunResult) -> None:
    result = omits_metric_name
    assert result.fatal is None
    errored = [(r.requirement.id, r.reason) for r in result.requirements if r.status is Status.ERRORED]
    assert errored == []
    by_id = {r.requirement.id: r for r in result.requirements}
    assert by_id["WPATCH-MET-01"].status is Status.FAILED
    ro = by_id["WPATCH-RO-01"]  # templates on the saved body: `${before.metric_name}`
    assert ro.status is Status.FAILED
    messages = [c.message for c in ro.cases if c.status is Status.FAILED]
    assert any("`metric_name` is missing from the response" in m for m in messages), messages
    judgement = result.judgement
    assert judgement.verdict is Verdict.NOT_CONFORMANT and {"WPATCH-MET-01", "WPATCH-RO-01"} <= set(judgement.failed)


class CreateAnswersWithoutId(Behaviour):
    """The widget create answer (201) lacks the new widget's ``id``."""

    async def dashboards_widgets_create(self, tenant: Any, request: Any) -> Reply:
        reply = await super().dashboards_widgets_create(tenant, request)
        body = {k: v for k, v in reply.body.items() if k != "id"} if isinstance(reply.body, dict) else reply.body
        return Reply(reply.status, body, reply.headers)


def test_a_fixture_answer_without_id_fails_the_cases_requirement(embedded: Callable[..., Any]) -> None:
    target = embedded(CreateAnswersWithoutId)
    with Engine(target.config, get("quick"), seed=5) as engine:
        engine.preflight()
        outcome = engine.run_requirement(engine.catalogue.by_id("WPATCH-RO-01"))
        engine.run_requirement(engine.catalogue.by_id("WPATCH-PARTIAL-02"))
    assert outcome.status is Status.FAILED
    assert "POST /dashboards/widgets/ answered 201 with an object without `id`" in outcome.reason
    assert engine.result.judgement.verdict is Verdict.NOT_CONFORMANT


@pytest.mark.parametrize(
    ("status", "body", "raised", "said"),
    [
        (201, b"<html>created</html>", FixtureAnswerInvalid, "answered 201 with no JSON object"),
        (201, b'{"name": "no id"}', FixtureAnswerInvalid, "answered 201 with an object without `id`"),
        (200, b"[1, 2]", FixtureAnswerInvalid, "answered 200 with no JSON object"),
        (503, b"busy", FixtureError, "answered 503"),
        (400, b'{"chart_type": ["required"]}', FixtureError, "answered 400"),
    ],
)
def test_fixture_answers_are_judged_as_the_targets(status: int, body: bytes, raised: type, said: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body)

    target = Target(TargetConfig(base_url="http://target.invalid", api_key="k-123456"))
    target.client = httpx.Client(transport=httpx.MockTransport(answer), base_url="http://target.invalid")
    fixtures = Fixtures(target, "cwc-test")
    with target, pytest.raises(raised) as caught:
        fixtures.create("widget", {"chart_type": "bar"}, label="w")
    assert said in str(caught.value)
    assert caught.value.target_error.startswith(f"POST /dashboards/widgets/ answered {status}")
    assert issubclass(raised, ConformanceFailure) == (200 <= status < 300)
    assert fixtures.refused == ({} if 200 <= status < 300 else {f"POST /dashboards/widgets/ answered {status}": 1})


# -- a target that rate-limits every PATCH ------------------------------------------------------------------


class LimitsEveryPatch(Behaviour):
    """Every PATCH of a widget is answered 429, whatever the pause: a staging whose rate limit the run exceeds."""

    async def dashboards_widgets_partial_update(self, tenant: Any, request: Any) -> Reply:
        return Reply(429, {"detail": "Request was throttled."}, {"Retry-After": "0"})


def test_a_rate_limit_that_outlasts_the_retries_leaves_the_unit_unjudged_never_failed(
    embedded: Callable[..., Any],
) -> None:
    target = embedded(LimitsEveryPatch)
    with Engine(target.config, get("quick"), seed=5) as engine:
        engine.preflight()
        stages = engine.run_stages(("examples",))
        outcome = engine.run_requirement(engine.catalogue.by_id("WPATCH-PARTIAL-02"))
    assert outcome.status is Status.ERRORED, (outcome.status, outcome.reason)
    assert not [c for c in outcome.cases if c.status is Status.FAILED]
    said = " ".join(c.message for c in outcome.cases)
    assert "429 Too Many Requests 6 times" in said and "--max-rps" in said
    assert stages[0].error is not None and "429" in stages[0].error and not stages[0].findings
    assert engine.result.throttle["responses_429"] >= 6
    assert engine.result.judgement.verdict is not Verdict.CONFORMANT
    assert engine.result.judgement.verdict is not Verdict.NOT_CONFORMANT
