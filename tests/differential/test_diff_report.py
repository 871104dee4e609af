"""diff.json and the console are well-formed whatever a candidate sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.differential import report
from conformance.differential.command import Recording, stage_requirements
from conformance.differential.outcome import judge
from conformance.differential.replay import replay
from tests.differential.targets import embedded

# What a hostile or broken candidate answers, in turn: bytes that are not UTF-8, JSON with lone surrogates and
# control characters, a NaN, HTML, an empty 500, deep nesting, keys that are not identifiers.
ANSWERS: list[tuple[int, bytes, bytes]] = [
    (200, b"application/json", b'{"id": "\\ud800", "name": "\\u0000\\u001b[31mred", "x": NaN}'),
    (200, b"application/octet-stream", b"\xff\xfe\x00\x80garbage"),
    (500, b"text/html", b"<html>\x00\xc3\x28</html>"),
    (204, b"application/json", b""),
    (201, b"application/json", b'{"id": {"nested": [[[[["deep"]]]]]}, "a.b[0]": 1, "\\udc00": "\\ud83d"}'),
    (400, b"application/json; charset=utf-8", b'["not", "an", "object", 1e400]'),
]


def hostile_app() -> Any:
    turn = {"n": 0}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        status, content_type, body = ANSWERS[turn["n"] % len(ANSWERS)]
        turn["n"] += 1
        headers = [(b"content-type", content_type), (b"allow", b"GET,\x01 PATCH")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def test_diff_json_parses_whatever_the_candidate_sent(recording: Recording, tmp_path: Path) -> None:
    result = replay(recording.program, embedded(hostile_app))
    assert result.error is None and len(result.answers) == len(recording.program.steps)
    outcome = judge(recording.program, recording.answers, result.answers, recording.noise)
    data = report.document(
        outcome,
        meta={"reference": "embedded", "candidate": "hostile", "profile": "quick", "seed": 1, "seconds": 1.0},
        stage_requirements=stage_requirements("seed"),
        passes={},
    )
    path = report.write(data, tmp_path)
    parsed = json.loads(path.read_bytes().decode("utf-8", "strict"))  # valid UTF-8, valid JSON
    assert parsed["verdict"] == "diverged" and parsed["divergences"] == len(outcome.divergences)
    text = path.read_text(encoding="utf-8")
    assert all(not 0xD800 <= ord(ch) <= 0xDFFF for ch in text)
    for result_file in (tmp_path / report.ALLURE_DIR).glob("*-result.json"):
        json.loads(result_file.read_bytes().decode("utf-8", "strict"))
    shown = report.console(parsed)
    assert "\x1b" not in shown and "\x00" not in shown and "DIVERGED" in shown
