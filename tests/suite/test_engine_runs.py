"""The engine against embedded targets: verdicts, skips with reasons, cleanup after success, failure and Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance.emulator import Behaviour
from conformance.engine.catalogue import default as catalogue
from conformance.engine.ledger import read
from conformance.engine.outcomes import Status
from conformance.engine.profiles import get
from conformance.engine.runner import Engine

SEEDED = {"widgets": [1, 2], "dashboards": [1, 2]}


class ClearsUnsentFields(Behaviour):
    """A PUT disguised as PATCH: every field absent from the body goes back to its default."""

    def apply_widget_patch(self, widget: Any, changes: Any) -> Any:
        full = {name: spec.default() for name, spec in self.widget_fields.items()}
        return super().apply_widget_patch(widget, {**full, **changes})


def _only_seed_left(target: Any) -> None:
    for table, ids in SEEDED.items():
        assert [row[0] for row in target.rows(table)] == ids, f"run fixtures left in {table}: {target.rows(table)}"


def test_clean_emulator_passes_every_requirement_and_leaves_nothing(embedded: Callable[..., Any]) -> None:
    target = embedded()
    with Engine(target.config, get("quick"), seed=7) as engine:
        result = engine.run_all()
    assert result.fatal is None
    assert {r.requirement.id for r in result.requirements} == {
        r.id for r in catalogue().for_revision("seed").requirements
    }
    failing = [(r.requirement.id, r.reason) for r in result.requirements if r.status is not Status.PASSED]
    assert failing == []
    assert result.conformant and result.exit_code == 0
    assert result.fixtures["leftovers"] == []
    _only_seed_left(target)


def test_faulty_target_fails_its_musts_and_still_leaves_nothing(embedded: Callable[..., Any]) -> None:
    target = embedded(ClearsUnsentFields)
    with Engine(target.config, get("quick"), seed=7) as engine:
        result = engine.run_all()
    failed = {r.requirement.id for r in result.requirements if r.status is Status.FAILED}
    assert {"WPATCH-PARTIAL-01", "WPATCH-PARTIAL-02"} <= failed
    assert result.exit_code == 1 and not result.conformant
    partial = next(r for r in result.requirements if r.requirement.id == "WPATCH-PARTIAL-01")
    property_failures = [c for c in partial.cases if c.kind == "property" and c.status is Status.FAILED]
    assert property_failures and property_failures[0].curl and "[REDACTED]" in property_failures[0].curl
    assert property_failures[0].seed is not None  # every failure carries the seed that reproduces it
    _only_seed_left(target)


def test_ctrl_c_mid_case_still_deletes_the_fixtures(
    embedded: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from conformance.engine import cases

    target = embedded()
    calls = {"n": 0}
    original = cases.expectations.check

    def interrupted(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 25:  # in the middle of a case, its fixtures created
            raise KeyboardInterrupt
        original(*args, **kwargs)

    monkeypatch.setattr(cases.expectations, "check", interrupted)
    with pytest.raises(KeyboardInterrupt), Engine(target.config, get("quick"), seed=7) as engine:
        engine.preflight()
        for requirement in catalogue().for_revision("seed").requirements:
            engine.run_requirement(requirement)
    assert calls["n"] == 25
    assert engine.result.fixtures["created"], "the run created fixtures before the interrupt"
    assert engine.result.fixtures["leftovers"] == []
    _only_seed_left(target)


def test_missing_second_key_and_metrics_skip_with_a_reason(embedded: Callable[..., Any]) -> None:
    target = embedded(other_api_key=None, metric_id=None)
    with Engine(target.config, get("quick"), seed=3) as engine:
        engine.preflight()
        engine.ctx.metrics = []  # as if the target listed none
        engine.ctx.metric_note = "the target listed no metric"
        tenancy = engine.run_requirement(catalogue().by_id("WPATCH-TEN-01"))
        metric = engine.run_requirement(catalogue().by_id("WPATCH-MET-01"))
    assert tenancy.status is Status.SKIPPED and "--other-api-key" in tenancy.reason
    assert metric.status is Status.SKIPPED and "metric" in metric.reason


def test_the_same_seed_generates_the_same_requests(embedded: Callable[..., Any]) -> None:
    counts = []
    for _ in range(2):
        target = embedded()
        with Engine(target.config, get("quick"), seed=1234) as engine:
            engine.preflight()
            stages = engine.run_stages(("fuzz-positive", "fuzz-negative"))
        counts.append([(s.name, s.examples, s.requests) for s in stages])
    assert counts[0] == counts[1]


def test_every_object_the_stages_create_enters_the_ledger_by_id(embedded: Callable[..., Any], tmp_path: Any) -> None:
    """The stateful sequences create (and rename) widgets and dashboards through schemathesis: each is in the
    ledger, in memory and in the file, as soon as its answer arrived."""
    target = embedded()
    with Engine(target.config, get("quick"), seed=5, ledger_path=tmp_path / "ledger.jsonl") as engine:
        engine.preflight()
        engine.run_stages(("examples", "stateful"))
        store = target.apps[-1].state.store
        ledger = engine.target.ledger
        for table, kind in (("widgets", "widget"), ("dashboards", "dashboard")):
            [(last,)] = store.query("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,))
            # AUTOINCREMENT ids: every id after the seed's two was created by this run.
            assert {int(c.id) for c in ledger.entries if c.kind == kind} == set(range(3, last + 1)), table
        stateful = [c for c in ledger.entries if "stateful" in c.name]
        assert stateful, "the stateful stage created objects"
    recorded = read(tmp_path / "ledger.jsonl")
    assert {(c.kind, c.id) for c in recorded.entries} == {(c.kind, c.id) for c in engine.target.ledger.entries}
    assert recorded.leftovers() == [] and recorded.unanswered == []
    _only_seed_left(target)
