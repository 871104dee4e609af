"""engine/template.py: ``${...}`` templates rendered against a case's values."""

from __future__ import annotations

import pytest

from conformance import contract
from conformance.engine.errors import PreconditionMissing
from conformance.engine.template import TemplateError, render


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


def test_the_template_builtins_are_the_run_contexts_variables() -> None:
    from conformance.engine.context import RunContext
    from conformance.engine.template import BUILTINS

    class _Fixtures:
        tag = "cwc-test"

    ctx = RunContext(target=None, fixtures=_Fixtures(), contract=contract.default(), seed=1)  # type: ignore[arg-type]
    assert set(ctx.variables()) == BUILTINS
