"""The diff and record commands: exit codes 0, 1, 2 and 3, and diff.json as the source of truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance import emulator
from conformance.cli import main
from conformance.differential import command
from conformance.differential.command import Recording
from conformance.emulator.faults import get
from tests.served import free_port


def _diff(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["diff", "--report-dir", str(tmp_path), *args])
    path = tmp_path / "diff.json"
    return code, json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def test_the_shipped_cassette_against_the_emulator_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, data = _diff(tmp_path, "--cassette", "shipped", "--candidate-url", "embedded")
    assert code == 0
    assert data["verdict"] == "no-divergence" and data["exit_code"] == 0 and data["divergences"] == 0
    assert data["compared"] == data["steps"] > 1000 and data["passes"]["candidate"]["leftovers"] == 0
    assert "NO DIVERGENCE" in capsys.readouterr().out
    assert list((tmp_path / "diff-allure-results").glob("*-result.json"))


def test_a_faulty_candidate_exits_1_and_ignore_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = emulator.create_app
    monkeypatch.setattr(emulator, "create_app", lambda **kw: real(behaviour=get("no_allow_on_405"), **kw))
    code, data = _diff(tmp_path, "--cassette", "shipped", "--candidate-url", "embedded")
    assert code == 1 and data["verdict"] == "diverged"
    assert [item["path"] for item in data["by_path"]] == ["header:Allow"]
    first = data["by_path"][0]["first"]
    assert first["candidate"] == "null" and "GET" in first["reference"]
    assert data["by_requirement"] and all(item["count"] for item in data["by_requirement"])
    assert data["exchanges"][0]["divergences"][0]["path"] == "header:Allow"
    diverged = data["divergences"]

    code, data = _diff(tmp_path, "--cassette", "shipped", "--candidate-url", "embedded", "--ignore", "header:Allow")
    assert code == 0 and data["divergences"] == 0
    assert data["ignore_patterns"] == ["header:Allow"]
    assert [(i["path"], i["reason"], i["pattern"]) for i in data["ignored"]] == [
        ("header:Allow", "user --ignore", "header:Allow")
    ]
    assert data["ignored"][0]["count"] == diverged


def test_a_candidate_that_does_not_answer_exits_3(tmp_path: Path) -> None:
    code, data = _diff(tmp_path, "--cassette", "shipped", "--candidate-url", f"http://127.0.0.1:{free_port()}")
    assert code == 3
    assert data["verdict"] == "no-verdict" and "did not answer" in data["error"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--cassette", "shipped"], "--candidate-url"),
        (["--cassette", "shipped", "--base-url", "http://127.0.0.1:9", "--candidate-url", "embedded"], "not both"),
        (["--cassette", "no-such-file.json", "--candidate-url", "embedded"], "No such file"),
        (["--cassette", "shipped", "--candidate-url", "ftp://example"], "http(s) URL"),
    ],
)
def test_configuration_mistakes_exit_2_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    code, data = _diff(tmp_path, *args)
    assert code == 2 and data == {}
    assert said in capsys.readouterr().err


def test_record_writes_a_cassette_that_replays_without_divergence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recording: Recording
) -> None:
    """The command's plumbing (the passes themselves are the session's recording: test_diff_cassette.py records)."""
    asked: list[int] = []

    def recorded(config: object, profile: object, seed: int, *rest: object) -> Recording:
        asked.append(seed)
        return recording

    monkeypatch.setattr(command, "record_reference", recorded)
    out = tmp_path / "recorded.cassette.json.gz"
    assert main(["record", "--seed", "5", "--out", str(out)]) == 0 and asked == [5]
    code, data = _diff(tmp_path, "--cassette", str(out), "--candidate-url", "embedded")
    assert code == 0 and data["seed"] == recording.program.seed and data["divergences"] == 0
    assert main(["record", "--out", str(tmp_path)]) == 2  # a directory is no file name
