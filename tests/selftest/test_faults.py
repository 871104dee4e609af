"""The self-test: every faulty variant fails a MUST, every MUST fails a variant, the clean emulator passes."""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest

from conformance import cli, selftest
from conformance.emulator import Behaviour
from conformance.emulator.faults import CONVENTION_VARIANTS, LIVE_VARIANTS, VARIANTS, create_variant_app
from conformance.engine.catalogue import default as catalogue
from conformance.engine.profiles import get
from conformance.engine.runner import Engine, RunResult

ALL = {**VARIANTS, **LIVE_VARIANTS, **CONVENTION_VARIANTS}


@pytest.fixture(scope="module")
def report() -> selftest.Report:
    """One sweep of every variant and the clean emulator, shared by the slow tests below (two processes: the
    machine's two cores; the outcomes are those of a serial sweep, see the test of jobs)."""
    return selftest.run(get("quick"), selftest.DEFAULT_SEED, jobs=2)


@pytest.fixture(scope="module")
def live_report() -> selftest.Report:
    """The live revision's own variants and the clean emulator serving the live revision (the full live sweep,
    seed variants included, is `cekura-conformance selftest --revision live`: a script, not a test)."""
    return selftest.run(get("quick"), selftest.DEFAULT_SEED, only=list(LIVE_VARIANTS), revision="live", jobs=2)


# Fast: the registries themselves -------------------------------------------------------------------------


def _overridden(cls: type[Behaviour]) -> list[str]:
    """Behaviour's methods the variant (or a class between it and Behaviour) replaces."""
    return [
        name
        for name, value in vars(Behaviour).items()
        if callable(value) and not name.startswith("__") and getattr(cls, name) is not value
    ]


@pytest.mark.parametrize("name", list(ALL))
def test_each_variant_is_one_documented_deviation(name: str) -> None:
    cls = ALL[name]
    assert issubclass(cls, Behaviour) and cls is not Behaviour
    doc = (cls.__doc__ or "").strip()
    assert doc and "\n" not in doc, f"{name}: the docstring must be one line saying the deviation"
    assert _overridden(cls), f"{name} changes no method of Behaviour"
    assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name), f"{name} is not snake_case"


def _by_id() -> dict[str, Any]:
    return {r.id: r for r in catalogue().requirements}


@pytest.mark.parametrize("name", list(ALL))
def test_each_variant_names_requirements_of_the_right_level(name: str) -> None:
    """A fault names MUSTs that count for conformance; a convention variant names SHOULDs (no MUST may notice it)."""
    cls = ALL[name]
    assert cls.breaks, f"{name} names no requirement in `breaks`"
    assert len(set(cls.breaks)) == len(cls.breaks), f"{name}: {cls.breaks} repeats an id"
    known = _by_id()
    unknown = [rid for rid in cls.breaks if rid not in known]
    assert not unknown, f"{name}: {unknown} are not in the catalogue"
    for rid in cls.breaks:
        requirement = known[rid]
        if name not in CONVENTION_VARIANTS:
            assert requirement.counts_for_conformance, f"{name}: {rid} is {requirement.level.value}, not a counted MUST"
        else:
            assert requirement.level.value == "SHOULD", f"{name}: {rid} is {requirement.level.value}, not a SHOULD"


def test_every_must_requirement_is_named_by_a_fault_variant() -> None:
    """The fast half of "the suite can fail": a MUST no variant names has never been shown to catch anything."""
    named = {rid for cls in [*VARIANTS.values(), *LIVE_VARIANTS.values()] for rid in cls.breaks}
    unnamed = [r.id for r in catalogue().requirements if r.counts_for_conformance and r.id not in named]
    assert unnamed == []


def test_each_revision_has_its_variants_for_its_musts() -> None:
    """A variant applies where its requirements are judged: live variants name live-only MUSTs, and each revision's
    MUSTs are named by variants that apply to it."""
    for name, cls in LIVE_VARIANTS.items():
        assert cls.revisions == ("live",), name
        assert all(catalogue().by_id(rid).revisions == ("live",) for rid in cls.breaks), name
    for name, cls in [*VARIANTS.items(), *CONVENTION_VARIANTS.items()]:
        assert all(cls.applies_to(revision) for revision in ("seed", "live")), name
    for revision in ("seed", "live"):
        named = {rid for _, cls, kind in selftest.selected(None, revision) if kind == "fault" for rid in cls.breaks}
        musts = {r.id for r in catalogue().for_revision(revision).requirements if r.counts_for_conformance}
        assert musts <= named, revision
    assert [n for n, _, _ in selftest.selected(None, "live")][: len(VARIANTS)] == list(VARIANTS)
    with pytest.raises(selftest.NotOnRevision, match="stat_refused exists in revision live only"):
        selftest.selected(["stat_refused"], "seed")


def test_a_variant_killed_only_by_other_musts_fails_the_selftest() -> None:
    musts = [r.id for r in catalogue().requirements if r.counts_for_conformance]
    clean = selftest.Outcome(selftest.CLEAN, "", "clean", exit_code=0)
    wrong = selftest.Outcome("v", "", "fault", breaks=("WPATCH-TEN-03",), must_failed=["WPATCH-TEN-01"])
    assert wrong.killed and not wrong.ok and wrong.unbroken == ["WPATCH-TEN-03"]
    assert wrong.verdict == "WRONG KILL" and "declared WPATCH-TEN-03 did not fail" in wrong.detail()
    report = selftest.Report("quick", 1, musts, [wrong], clean, full_sweep=False)
    assert not report.passed
    assert "v names WPATCH-TEN-03" in "\n".join(selftest.summary(report))
    right = selftest.Outcome("v", "", "fault", breaks=("WPATCH-TEN-01",), must_failed=["WPATCH-TEN-01", "WPATCH-X"])
    assert right.ok and right.verdict == "KILLED"
    broke = selftest.Outcome("v", "", "fault", breaks=("WPATCH-TEN-01",), must_failed=["WPATCH-TEN-01"], errored=["E"])
    assert not broke.ok and broke.verdict == "ERROR" and "1 errored" in broke.detail()  # the suite broke
    summary = "\n".join(selftest.summary(selftest.Report("quick", 1, musts, [broke], clean, full_sweep=False)))
    assert "the suite errored (its own defect) on: v" in summary and "SELFTEST FAILED" in summary
    assert selftest.Report("quick", 1, musts, [right], clean, full_sweep=False).passed


def test_a_convention_variant_is_judged_by_its_shoulds_and_never_by_a_must() -> None:
    musts = [r.id for r in catalogue().requirements if r.counts_for_conformance]
    clean = selftest.Outcome(selftest.CLEAN, "", "clean", exit_code=0)
    noticed = selftest.Outcome("c", "", "convention", breaks=("WPATCH-METHOD-01",), other_failed=["WPATCH-METHOD-01"])
    assert noticed.ok and noticed.verdict == "DETECTED"
    elsewhere = selftest.Outcome("c", "", "convention", breaks=("WPATCH-METHOD-01",), other_failed=["WPATCH-VAL-01"])
    assert not elsewhere.ok and elsewhere.verdict == "WRONG KILL"
    accused = selftest.Outcome(
        "c", "", "convention", breaks=("WPATCH-METHOD-01",), other_failed=["WPATCH-METHOD-01"], must_failed=["M"]
    )
    assert not accused.ok and accused.verdict == "MUST FAILED"
    assert not selftest.Report("quick", 1, musts, [accused], clean, full_sweep=False).passed


def test_registries_are_large_disjoint_and_build_fresh_apps() -> None:
    assert len(VARIANTS) >= 20
    assert not set(VARIANTS) & set(CONVENTION_VARIANTS)
    first, second = create_variant_app("frozen_updated_at"), create_variant_app("frozen_updated_at")
    assert type(first.state.behaviour) is VARIANTS["frozen_updated_at"]
    assert first.state.store is not second.state.store
    assert not set(LIVE_VARIANTS) & (set(VARIANTS) | set(CONVENTION_VARIANTS))
    assert create_variant_app("stat_refused").state.contract.revision == "live"  # served where it exists
    assert create_variant_app("frozen_updated_at", revision="live").state.contract.revision == "live"
    with pytest.raises(KeyError, match="unknown variant"):
        create_variant_app("no_such_variant")


def test_an_engine_crash_is_an_error_row_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    class Exploding(Engine):
        def run_all(self) -> RunResult:
            raise RuntimeError("boom")

    monkeypatch.setattr(selftest, "Engine", Exploding)
    profile = get("quick")
    outcome = selftest.sweep("frozen_updated_at", VARIANTS["frozen_updated_at"], "fault", profile, 1, catalogue())
    assert outcome.verdict == "ERROR" and outcome.error == "RuntimeError: boom"
    assert not outcome.killed and not outcome.ok
    clean = selftest.Outcome(selftest.CLEAN, "", "clean", exit_code=0)
    musts = [r.id for r in catalogue().requirements if r.counts_for_conformance]
    assert not selftest.Report("quick", 1, musts, [outcome], clean, full_sweep=False).passed


def test_cli_delegates_and_refuses_unknown_names(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def fake(**kwargs: Any) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(selftest, "main", fake)
    assert cli.main(["selftest", "--seed", "5", "--only", "frozen_updated_at", "delete_is_a_no_op"]) == 0
    only = ["frozen_updated_at", "delete_is_a_no_op"]
    assert seen == {"profile": "quick", "seed": 5, "only": only, "revision": "seed", "differential": False, "jobs": 1}
    assert cli.main(["selftest", "--revision", "live"]) == 0 and seen["revision"] == "live"
    assert cli.main(["selftest", "--jobs", "2"]) == 0 and seen["jobs"] == 2
    assert cli.main(["selftest", "--differential"]) == 0 and seen["differential"] is True
    monkeypatch.undo()
    lines: list[str] = []
    assert selftest.main(only=["no_such_variant"], write=lines.append) == selftest.EXIT_USAGE
    assert "no_such_variant" in lines[0] and "frozen_updated_at" in lines[0]
    for kwargs, said in (
        ({"only": ["group_by_dropped"]}, "group_by_dropped exists in revision live only"),
        ({"revision": "staging"}, "unknown contract revision 'staging'"),
    ):
        lines.clear()
        assert selftest.main(write=lines.append, **kwargs) == selftest.EXIT_USAGE  # type: ignore[arg-type]
        assert said in lines[0]
    assert isinstance(cli.build_parser().parse_args(["selftest"]), argparse.Namespace)


# Slow: one sweep of the whole suite per variant ----------------------------------------------------------


@pytest.mark.slow
def test_every_fault_variant_is_killed_by_the_musts_it_names(report: selftest.Report) -> None:
    assert [o.name for o in report.faults] == list(VARIANTS)
    missed = {o.name: f"{o.verdict}: {o.detail()}" for o in report.faults if not o.ok}
    assert missed == {}


@pytest.mark.slow
def test_every_must_requirement_kills_at_least_one_variant(report: selftest.Report) -> None:
    musts = [r.id for r in catalogue().for_revision("seed").requirements if r.counts_for_conformance]
    assert report.must_ids == musts
    assert report.idle_musts() == []


@pytest.mark.slow
def test_the_clean_emulator_passes_every_requirement(report: selftest.Report) -> None:
    clean = report.clean
    assert clean.error is None and clean.exit_code == 0
    assert clean.must_failed == [] and clean.other_failed == [] and clean.errored == []


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CONVENTION_VARIANTS))
def test_a_convention_variant_is_noticed_by_a_should_and_by_no_must(report: selftest.Report, name: str) -> None:
    outcome = next(o for o in report.conventions if o.name == name)
    assert outcome.error is None
    assert outcome.other_failed, f"{name}: no SHOULD noticed it"
    assert outcome.must_failed == [], f"{name}: a MUST failed on a deviation the catalogue calls acceptable"
    assert outcome.unbroken == [], f"{name}: the SHOULDs it names did not notice it ({outcome.detail()})"


@pytest.mark.slow
def test_the_selftest_verdict_and_summary(report: selftest.Report) -> None:
    assert report.passed and report.exit_code == selftest.EXIT_PASSED
    text = "\n".join(selftest.summary(report))
    assert f"kill rate: {len(VARIANTS)}/{len(VARIANTS)}" in text
    assert "MUST requirements that killed no variant: none" in text
    assert "SELFTEST PASSED" in text


# The live revision's variants (one sweep each, about 20 s in all) ---------------------------------------


@pytest.mark.slow
def test_every_live_variant_is_killed_by_the_musts_it_names(live_report: selftest.Report) -> None:
    assert live_report.revision == "live" and [o.name for o in live_report.faults] == list(LIVE_VARIANTS)
    missed = {o.name: f"{o.verdict}: {o.detail()}" for o in live_report.faults if not o.ok}
    assert missed == {}
    live_only = {r.id for r in catalogue().requirements if r.revisions == ("live",)}
    killers = {rid: names for rid, names in live_report.kills_by_must().items() if rid in live_only}
    assert all(killers.values()), killers
    assert live_report.passed


@pytest.mark.slow
def test_the_clean_emulator_serving_the_live_revision_passes_it(live_report: selftest.Report) -> None:
    clean = live_report.clean
    assert clean.error is None and clean.exit_code == 0 and clean.errored == [] and clean.other_failed == []
    assert clean.totals["passed"] == len(catalogue().for_revision("live").requirements)


def test_every_variant_declares_where_a_diff_sees_it() -> None:
    """``selftest --differential`` checks each variant's ``touches``; a variant without any could not be caught."""
    from conformance.differential.normalise import ALLOW, CONTENT_TYPE, STATUS

    for name, variant in ALL.items():
        assert variant.touches, f"{name} declares no touches"
        for place in variant.touches:
            assert place in (STATUS, ALLOW, CONTENT_TYPE) or place.startswith("$."), (name, place)


def test_a_sweep_in_processes_has_the_serial_sweeps_outcomes_in_its_order() -> None:
    only = ["created_at_writable", "no_allow_on_405"]
    serial = selftest.run(get("quick"), selftest.DEFAULT_SEED, only=only)
    parallel = selftest.run(get("quick"), selftest.DEFAULT_SEED, only=only, jobs=2)

    def judged(outcome: selftest.Outcome) -> tuple[object, ...]:
        return (outcome.name, outcome.kind, outcome.must_failed, outcome.other_failed, outcome.errored, outcome.totals)

    assert [judged(o) for o in parallel.outcomes] == [judged(o) for o in serial.outcomes]
    assert judged(parallel.clean) == judged(serial.clean) and parallel.passed == serial.passed
