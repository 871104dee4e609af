"""A mistake in a catalogue file is a load error naming the file, never a check that silently passes."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from conformance import contract
from conformance.engine import catalogue, expectations
from conformance.engine.errors import ConfigurationError, SuiteError

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "conformance" / "catalogue" / "catalogue.schema.json").read_text(encoding="utf-8"))

#: One small, valid requirement; each test below breaks one thing in it.
VALID: dict[str, Any] = {
    "area": "scratch",
    "requirements": [
        {
            "id": "WPATCH-SCRATCH-01",
            "title": "A scratch requirement for the loader tests",
            "level": "SHOULD",
            "source": {"kind": "drf-default"},
            "cases": [
                {
                    "name": "rename",
                    "given": {"w": {"widget": {"chart_type": "line", "field": "duration"}}},
                    "steps": [
                        {
                            "request": {
                                "operation": "dashboards-widgets-partial-update",
                                "path": {"id": "${w.id}"},
                                "json": {"name": "x"},
                            },
                            "expect": {"status": 200, "compare": [{"path": "name", "op": "eq", "value": "x"}]},
                        }
                    ],
                }
            ],
        }
    ],
}


def _step(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["requirements"][0]["cases"][0]["steps"][0]  # type: ignore[no-any-return]


def _load(tmp_path: Path, doc: dict[str, Any], name: str = "scratch.yaml") -> catalogue.Catalogue:
    (tmp_path / name).write_text(yaml.safe_dump(doc), encoding="utf-8")
    return catalogue.load(tmp_path)


def test_the_valid_scratch_file_loads(tmp_path: Path) -> None:
    loaded = _load(tmp_path, VALID)
    assert [r.id for r in loaded.requirements] == ["WPATCH-SCRATCH-01"]


def _comparison(op: str, **extra: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    _step(doc)["expect"]["compare"] = [{"path": "name", "op": op, **extra}]
    return doc


def _request_key(key: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    _step(doc)["request"][key] = value
    return doc


def _expect_key(key: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(VALID)
    _step(doc)["expect"][key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        (_comparison("equals", value="x"), "'equals' is not one of"),
        (_comparison("in", value="x"), "'x' is not of type 'array'"),
        (_comparison("eq"), "'value' is a required property"),
        (_comparison("absent", value=1), "should not be valid"),
        (_comparison("has_item", value={}), "should be non-empty"),
        (_expect_key("bodyy", {"name": "x"}), "'bodyy' was unexpected"),
        (_expect_key("compare", [{"path": "name", "op": "eq", "value": 1, "note": "x"}]), "'note' was unexpected"),
        (_request_key("jsn", {"name": "x"}), "'jsn' was unexpected"),
        (_request_key("method", "FETCH"), "'FETCH' is not one of"),
        (_request_key("auth", "admin"), "'admin' is not one of"),
    ],
    ids=[
        "unknown op",
        "in without a list",
        "eq without a value",
        "absent with a value",
        "has_item of nothing",
        "unknown expect key",
        "unknown comparison key",
        "unknown request key",
        "unknown method",
        "unknown auth",
    ],
)
def test_a_mistake_is_a_load_error_naming_the_file(tmp_path: Path, doc: dict[str, Any], needle: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        _load(tmp_path, doc, name="broken_area.yaml")
    message = str(info.value)
    assert "broken_area.yaml" in message and needle in message, message


def test_the_load_error_names_the_line_of_the_mistake(tmp_path: Path) -> None:
    for doc, needle in (
        (_expect_key("bodyy", {"name": "x"}), "bodyy:"),
        (_comparison("equals", value="x"), "op: equals"),
    ):
        (tmp_path / "broken_area.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
        lines = (tmp_path / "broken_area.yaml").read_text(encoding="utf-8").splitlines()
        line = next(number for number, text in enumerate(lines, start=1) if needle in text)
        with pytest.raises(ConfigurationError, match=rf"^catalogue file broken_area.yaml, line {line}: "):
            catalogue.load(tmp_path)


def test_records_are_frozen_and_read_by_attribute(tmp_path: Path) -> None:
    case = _load(tmp_path, VALID).requirements[0].cases[0]
    step = case.steps[0]
    assert (case.name, case.given["w"].kind, step.request.operation) == (
        "rename",
        "widget",
        "dashboards-widgets-partial-update",
    )
    assert step.expect.status == 200 and step.expect.compare == (catalogue.Comparison("name", "eq", "x"),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.save = "after"  # type: ignore[misc]


def test_the_schema_and_the_judge_know_the_same_ops() -> None:
    assert SCHEMA["$defs"]["comparison"]["properties"]["op"]["enum"] == list(expectations.COMPARISON_OPS)


def test_an_op_that_slips_past_the_schema_is_a_suite_error_not_a_pass() -> None:
    response = httpx.Response(200, json={"name": "x"}, request=httpx.Request("PATCH", "http://t/x/"))
    for body_key in ("name", "missing"):
        with pytest.raises(SuiteError, match="unknown comparison op 'equals'"):
            expectations.check(
                catalogue.expect_of({"compare": [{"path": body_key, "op": "equals", "value": "x"}]}),
                response,
                contract=contract.default(),
                variables={},
                saved={},
            )


def test_membership_ops_judge_list_items_by_the_keys_given() -> None:
    c = contract.default()
    body = {"widgets": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}], "n": 3}
    response = httpx.Response(200, json=body, request=httpx.Request("GET", "http://t/d/"))

    def check(*items: dict[str, Any]) -> None:
        expectations.check(catalogue.expect_of({"compare": list(items)}), response, contract=c, variables={}, saved={})

    check({"path": "widgets", "op": "has_item", "value": {"id": 2, "name": "b"}})
    check({"path": "widgets", "op": "lacks_item", "value": {"id": 2, "name": "a"}})
    with pytest.raises(AssertionError, match="has no item"):
        check({"path": "widgets", "op": "has_item", "value": {"id": 3}})
    with pytest.raises(AssertionError, match="still has an item"):
        check({"path": "widgets", "op": "lacks_item", "value": {"id": 1}})
    with pytest.raises(AssertionError, match="expected a list"):
        check({"path": "n", "op": "has_item", "value": {"id": 1}})


def test_if_accepted_is_judged_on_a_2xx_only_and_ne_or_absent_allows_a_missing_key() -> None:
    c = contract.default()
    expect = catalogue.expect_of(
        {
            "status": ["2xx", "4xx"],
            "if_accepted": {
                "body": {"id": 7},
                "compare": [{"path": "metric_name", "op": "ne_or_absent", "value": "Old"}],
            },
        }
    )

    def judge(status: int, body: Any) -> None:
        response = httpx.Response(status, json=body, request=httpx.Request("PATCH", "http://t/x/"))
        expectations.check(expect, response, contract=c, variables={}, saved={})

    judge(400, {"id": ["read-only"]})  # refused: the accepted-only expectations do not apply
    judge(200, {"id": 7, "metric_name": None})
    judge(200, {"id": 7})
    with pytest.raises(AssertionError, match="accepted with 200, but id is 9"):
        judge(200, {"id": 9, "metric_name": None})
    with pytest.raises(AssertionError, match='metric_name is "Old"'):
        judge(200, {"id": 7, "metric_name": "Old"})


def test_a_requirement_names_only_shipped_revisions(tmp_path: Path) -> None:
    doc = copy.deepcopy(VALID)
    doc["requirements"][0]["revisions"] = ["live"]
    loaded = _load(tmp_path, doc)
    assert loaded.requirements[0].revisions == ("live",)
    assert loaded.for_revision("seed").requirements == () and len(loaded.for_revision("live").requirements) == 1
    doc["requirements"][0]["revisions"] = ["staging"]
    with pytest.raises(ConfigurationError, match=r"scratch.yaml: WPATCH-SCRATCH-01 names unknown revisions staging"):
        _load(tmp_path, doc)
