"""Cassettes: a recording replays like the live reference, round-trips exactly, and the shipped one is current."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from conformance.differential import cassette, shipped
from conformance.differential.command import Recording
from conformance.differential.outcome import judge
from conformance.differential.program import Answer
from conformance.differential.replay import replay
from conformance.engine.errors import ConfigurationError
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.differential.targets import embedded, variant


def _recorded(recording: Recording, path: Path) -> cassette.Cassette:
    from conformance import contract as contract_module
    from conformance.engine.redact import Scrubber

    saved = cassette.Cassette(
        recording.program,
        recording.answers,
        recording.noise,
        reference="embedded",
        contract=cassette.contract_of(contract_module.default()),
    )
    cassette.save(saved, path, Scrubber([EMBEDDED_KEY, EMBEDDED_OTHER_KEY]))
    return cassette.load(path)


def test_a_cassette_round_trips_the_program_and_answers(recording: Recording, tmp_path: Path) -> None:
    loaded = _recorded(recording, tmp_path / "c.json.gz")
    assert loaded.program.steps == recording.program.steps  # bodies byte for byte, refs, units, tenants
    assert [a.as_dict() for a in loaded.answers] == [a.as_dict() for a in recording.answers]
    assert loaded.noise == recording.noise
    raw = gzip.decompress((tmp_path / "c.json.gz").read_bytes())
    assert EMBEDDED_KEY.encode() not in raw and EMBEDDED_OTHER_KEY.encode() not in raw  # keys never recorded
    document = json.loads(raw)
    assert document["format"] == cassette.FORMAT and document["version"] == cassette.VERSION
    assert {"suite_version", "contract", "seed", "profile", "steps", "noise"} <= set(document)


def test_record_then_replay_against_the_emulator_diverges_nowhere(recording: Recording, tmp_path: Path) -> None:
    loaded = _recorded(recording, tmp_path / "c.json")
    result = replay(loaded.program, embedded())
    outcome = judge(loaded.program, loaded.answers, result.answers, loaded.noise)
    assert outcome.divergences == [] and outcome.compared == len(loaded.program.steps)


def test_live_diff_and_replayed_cassette_give_the_same_divergences(
    recording: Recording, frozen: list[Answer], tmp_path: Path
) -> None:
    live = judge(recording.program, recording.answers, frozen, recording.noise)
    loaded = _recorded(recording, tmp_path / "c.json.gz")
    replayed = judge(
        loaded.program, loaded.answers, replay(loaded.program, variant("frozen_updated_at")).answers, loaded.noise
    )
    assert live.divergences and replayed.divergences == live.divergences


def test_the_shipped_cassette_replays_against_the_emulator_without_divergence() -> None:
    """If this fails, the emulator's behaviour changed: regenerate (python -m conformance.differential.shipped)."""
    loaded = cassette.load(shipped.PATH)
    assert loaded.program.seed == shipped.SEED and loaded.program.profile == shipped.PROFILE
    result = replay(loaded.program, embedded())
    outcome = judge(loaded.program, loaded.answers, result.answers, loaded.noise)
    assert result.error is None
    assert outcome.divergences == [], [d.as_dict() for d in outcome.divergences[:5]]


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"not json", "not a cassette"),
        (b'{"format": "something else"}', "is not a cekura-diff-cassette"),
        (b'{"format": "cekura-diff-cassette", "version": 99}', "format version 99"),
        (b'{"format": "cekura-diff-cassette", "version": 1, "steps": [{"unit": "x"}]}', "malformed"),
    ],
)
def test_a_file_that_is_no_cassette_of_this_version_is_a_configuration_error(
    tmp_path: Path, content: bytes, said: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ConfigurationError, match=said):
        cassette.load(path)


def test_a_candidate_whose_ids_differ_diverges_nowhere() -> None:
    """Ids are symbols: the shipped cassette against an emulator whose counters moved on (objects created and
    deleted first, so every id it assigns differs from the recording's) still compares the same."""
    from conformance.emulator import create_app
    from conformance.engine.target import Target

    app = create_app()
    moved = embedded(lambda: app)
    with Target(moved) as target:
        for _ in range(7):
            dashboard = target.request("POST", "/dashboards/dashboards/", json={"name": "moved on"}).json()["id"]
            target.request("DELETE", f"/dashboards/dashboards/{dashboard}/")
        widget = {"name": "w", "chart_type": "line", "dashboard": None}
        for _ in range(5):
            created = target.request("POST", "/dashboards/widgets/", json=widget)
            assert created.status_code == 201, created.text
            target.request("DELETE", f"/dashboards/widgets/{created.json()['id']}/")
    loaded = cassette.load(shipped.PATH)
    result = replay(loaded.program, moved)
    ids = [a.value.get("id") for a in result.answers if a.kind == "json" and isinstance(a.value, dict)]
    assert "{dashboard#1}" in ids  # the answers' ids were symbolised ...
    outcome = judge(loaded.program, loaded.answers, result.answers, loaded.noise)
    assert outcome.divergences == [], [d.as_dict() for d in outcome.divergences[:5]]
