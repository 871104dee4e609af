"""The live diff: the emulator against itself, against faulty variants, and with the user's --ignore."""

from __future__ import annotations

from collections import Counter

import pytest

from conformance.differential.command import Recording
from conformance.differential.compare import matches
from conformance.differential.outcome import USER, judge
from conformance.differential.program import Answer
from conformance.differential.replay import replay
from conformance.emulator.faults import get
from conformance.engine.verdict import ExitCode
from tests.differential.targets import embedded, variant


def test_the_program_is_the_runs_requests(recording: Recording) -> None:
    """Every unit of a run is in the program (preflight, the stages' ground, the stages, catalogue cases), its
    final cleanup is not; creating steps bind symbols, and later steps refer to them."""
    units = recording.program.units()
    assert "preflight" in units and "property stages" in units and "cleanup" not in units
    assert {f"stage {name}" for name in ("examples", "coverage", "fuzz-positive", "fuzz-negative", "stateful")} <= set(
        units
    )
    assert any(unit.startswith("WPATCH-RO-01 · ") for unit in units)
    bound = {step.binds for step in recording.program.steps if step.binds}
    referred = {ref.symbol for step in recording.program.steps for ref in step.refs}
    assert any(symbol.startswith("widget#") for symbol in bound)
    assert {s for s in referred if s != "tag"} <= bound  # nothing refers to a symbol no step binds
    assert "tag" in referred


def test_the_emulator_against_itself_diverges_nowhere(recording: Recording) -> None:
    assert recording.noise == {}  # two passes over the emulator: nothing is noise, ids and times are symbols
    again = replay(recording.program, embedded())
    outcome = judge(recording.program, recording.answers, again.answers, recording.noise)
    assert again.error is None and outcome.compared == len(recording.program.steps)
    assert outcome.divergences == [] and outcome.exit_code == ExitCode.CONFORMANT


@pytest.mark.parametrize(
    "name", ["frozen_updated_at", "no_allow_on_405", "metric_name_of_first_metric", "id_as_string"]
)
def test_a_faulty_variant_diverges_where_it_touches(recording: Recording, name: str) -> None:
    result = replay(recording.program, variant(name))
    outcome = judge(recording.program, recording.answers, result.answers, recording.noise)
    paths = Counter(d.general for d in outcome.divergences)
    assert outcome.exit_code == ExitCode.NOT_CONFORMANT
    for touched in get(name).touches:
        assert any(matches(path, (touched,)) for path in paths), f"{name}: nothing at {touched}: {paths}"


def test_only_the_touched_place_diverges_for_a_narrow_fault(recording: Recording) -> None:
    """A 405 without Allow diverges at header:Allow and nowhere else: the comparison does not smear."""
    result = replay(recording.program, variant("no_allow_on_405"))
    outcome = judge(recording.program, recording.answers, result.answers, recording.noise)
    assert {d.path for d in outcome.divergences} == {"header:Allow"}
    assert all(recording.program.steps[d.step].method not in ("GET", "PATCH") for d in outcome.divergences)


def test_ignore_sets_paths_aside_and_says_so(recording: Recording, frozen: list[Answer]) -> None:
    plain = judge(recording.program, recording.answers, frozen, recording.noise)
    hidden = [d for d in plain.divergences if matches(d.path, ("$.updated_at", "$.widgets[*].updated_at"))]
    assert hidden
    ignored = judge(recording.program, recording.answers, frozen, recording.noise, ["$.updated_at", "$.widgets[*]"])
    assert ignored.divergences == [d for d in plain.divergences if d not in hidden]
    assert ignored.exit_code == ExitCode.CONFORMANT  # nothing else diverges for this fault
    said = {(i.path, i.pattern): i.count for i in ignored.ignored.values() if i.reason == USER}
    assert sum(said.values()) == len(hidden)
    assert said[("$.updated_at", "$.updated_at")] == sum(d.path == "$.updated_at" for d in hidden)


def test_learned_noise_is_set_aside_by_step_and_path(recording: Recording, frozen: list[Answer]) -> None:
    """A place that differed between the reference's two passes is noise in that step only."""
    plain = judge(recording.program, recording.answers, frozen, recording.noise)
    first = plain.divergences[0]
    noisy = judge(recording.program, recording.answers, frozen, {first.step: [first.path]})
    assert first not in noisy.divergences and len(noisy.divergences) == len(plain.divergences) - 1
    assert [(i.path, i.reason, i.count) for i in noisy.ignored.values()] == [(first.general, "learned noise", 1)]


def test_a_pass_leaves_nothing_behind(recording: Recording) -> None:
    """Everything a replay created is deleted by its own cleanup, read back from the same emulator."""
    from conformance.emulator import create_app
    from conformance.engine.target import Target

    app = create_app()
    shared = embedded(lambda: app)

    def everything() -> list[tuple[str, object]]:
        with Target(shared) as target:
            found = []
            for auth in ("primary", "other"):
                for path in ("/dashboards/dashboards/", "/dashboards/widgets/?page_size=1000"):
                    body = target.request("GET", path, auth=auth).json()
                    items = body["results"] if isinstance(body, dict) else body
                    found += [(path, item["id"]) for item in items]
            return sorted(found, key=str)

    before = everything()
    assert before  # the seeded objects are listed
    result = replay(recording.program, shared)
    assert result.cleanup["created"] and result.cleanup["leftovers"] == []
    assert everything() == before


def test_a_stopped_pass_sends_nothing_more_cleans_up_and_gives_no_verdict(recording: Recording) -> None:
    """A signal in the middle of a replay (here: requested by the target's 300th answer) stops it where it is;
    what it had created is deleted all the same, and the diff gives no verdict (exit 3)."""
    from conformance.differential.command import compare
    from conformance.emulator import create_app
    from conformance.engine.interrupt import Interruption

    interruption = Interruption()
    app = create_app()
    seen = {"requests": 0}

    async def stopping(scope: dict[str, object], receive: object, send: object) -> None:
        if scope["type"] == "http":
            seen["requests"] += 1
            if seen["requests"] == 300:
                interruption.request("SIGTERM")
        await app(scope, receive, send)

    result = replay(recording.program, embedded(lambda: stopping), interruption=interruption)
    assert result.interrupted == "SIGTERM" and len(result.answers) == 300
    assert result.cleanup["created"] and result.cleanup["leftovers"] == []
    outcome = compare(recording.program, recording.answers, recording.noise, result, [])
    assert outcome.exit_code == ExitCode.NO_VERDICT and outcome.verdict == "interrupted"
