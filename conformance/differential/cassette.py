"""Cassettes: a program with the reference's answers and the noise learned from it, saved as versioned JSON.

The format (``FORMAT``, version ``VERSION``; docs/differential-vendors.md describes every field)::

    {"format": "cekura-diff-cassette", "version": 1,
     "suite_version", "recorded_at", "reference": "embedded" or the reference's URL,
     "contract": {"revision", "version", "sha256"}, "seed", "profile",
     "steps": [{"unit", "tenant", "method", "url", "headers": [[name, value]], "body": text or null,
                "body_base64": base64 of a body that is not UTF-8, or null, "refs": [[where, start, length, symbol]],
                "binds": symbol or null, "key": the literal key of an "invalid" step or null,
                "answer": {"status", "content_type", "allow", "kind", "value"}}],
     "noise": {"<step index>": [path, ...]}}

No key of a tenant is ever in it (a step names its tenant; the reference's keys are scrubbed from every text
as a last guard), the run tag and the ids the reference assigned are symbols. A name ending in ``.gz`` is
gzip-compressed. A cassette of another format version is refused (exit 2), one of another suite version or
contract sha256 replays with a note.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance import __version__
from conformance.contract import Contract
from conformance.differential.noise import Noise, as_json, from_json
from conformance.differential.program import Answer, Program, Ref, Step
from conformance.engine.answers import utc_now
from conformance.engine.errors import ConfigurationError

FORMAT = "cekura-diff-cassette"
VERSION = 1


@dataclass
class Cassette:
    program: Program
    answers: list[Answer]
    noise: Noise
    reference: str
    contract: dict[str, str] = field(default_factory=dict)
    suite_version: str = __version__
    recorded_at: str = ""

    def notes(self, contract: Contract) -> list[str]:
        """What differs between the recording's suite and contract and this one's (it still replays)."""
        found = []
        if self.suite_version != __version__:
            found.append(f"recorded with suite version {self.suite_version}, replayed with {__version__}")
        if self.contract.get("sha256") and self.contract["sha256"] != contract.sha256:
            found.append(
                f"recorded against contract {self.contract.get('revision')} sha256 {self.contract['sha256'][:12]}, "
                f"this suite's is {contract.sha256[:12]}"
            )
        return found


def contract_of(contract: Contract) -> dict[str, str]:
    return {"revision": contract.revision, "version": contract.version, "sha256": contract.sha256}


def _step_json(step: Step, answer: Answer, scrub: Callable[[str], str]) -> dict[str, Any]:
    text: str | None = None
    encoded: str | None = None
    if step.body is not None:
        try:
            text = step.body.decode("utf-8")
        except UnicodeDecodeError:
            encoded = base64.b64encode(step.body).decode()
    if text is not None and scrub(text) != text:
        raise ConfigurationError(f"step {step.method} {step.url} sent a tenant's key in its body: not recordable")
    value = answer.value
    if isinstance(value, str):
        value = scrub(value)
    elif answer.kind == "json":
        value = json.loads(scrub(json.dumps(value)))
    return {
        "unit": step.unit,
        "tenant": step.tenant,
        "method": step.method,
        "url": step.url,
        "headers": [[k, scrub(v)] for k, v in step.headers],
        "body": text,
        "body_base64": encoded,
        "refs": [[r.where, r.start, r.length, r.symbol] for r in step.refs],
        "binds": step.binds,
        "key": step.key,
        "answer": {**answer.as_dict(), "value": value},
    }


def dumps(cassette: Cassette, scrub: Callable[[str], str] = str) -> bytes:
    program = cassette.program
    document = {
        "format": FORMAT,
        "version": VERSION,
        "suite_version": cassette.suite_version,
        "recorded_at": cassette.recorded_at or utc_now(),
        "reference": cassette.reference,
        "contract": cassette.contract,
        "seed": program.seed,
        "profile": program.profile,
        "steps": [_step_json(s, a, scrub) for s, a in zip(program.steps, cassette.answers, strict=True)],
        "noise": as_json(cassette.noise),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")


def save(cassette: Cassette, path: Path, scrub: Callable[[str], str] = str) -> None:
    data = dumps(cassette, scrub)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0) if path.name.endswith(".gz") else data)


def load(path: Path) -> Cassette:
    """Read a cassette; ConfigurationError (exit 2) for a file that is missing, not one, or of another version."""
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        document = json.loads(raw)
    except OSError as exc:
        raise ConfigurationError(f"--cassette {path}: {exc.strerror or exc}") from None
    except (ValueError, EOFError) as exc:
        raise ConfigurationError(f"--cassette {path} is not a cassette (not JSON, or not gzip of it): {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ConfigurationError(f"--cassette {path} is not a {FORMAT} file")
    if document.get("version") != VERSION:
        raise ConfigurationError(
            f"--cassette {path} is format version {document.get('version')}; this suite reads version {VERSION}: "
            "record it again with this suite"
        )
    try:
        return _cassette(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigurationError(f"--cassette {path} is malformed: {type(exc).__name__}: {exc}") from None


def _cassette(document: Mapping[str, Any]) -> Cassette:
    steps, answers = [], []
    for item in document["steps"]:
        body: bytes | None = None
        if item.get("body") is not None:
            body = str(item["body"]).encode("utf-8")
        elif item.get("body_base64") is not None:
            body = base64.b64decode(item["body_base64"])
        steps.append(
            Step(
                unit=str(item["unit"]),
                tenant=str(item["tenant"]),
                method=str(item["method"]),
                url=str(item["url"]),
                headers=tuple((str(k), str(v)) for k, v in item.get("headers", [])),
                body=body,
                refs=tuple(Ref(str(w), int(s), int(n), str(sym)) for w, s, n, sym in item.get("refs", [])),
                binds=item.get("binds"),
                key=item.get("key"),
            )
        )
        answers.append(Answer.from_dict(item["answer"]))
    program = Program(steps, seed=document.get("seed"), profile=str(document.get("profile", "")))
    program.revision = str(document.get("contract", {}).get("revision", ""))
    return Cassette(
        program,
        answers,
        from_json(document.get("noise", {})),
        reference=str(document.get("reference", "")),
        contract=dict(document.get("contract", {})),
        suite_version=str(document.get("suite_version", "")),
        recorded_at=str(document.get("recorded_at", "")),
    )
