"""Capture a run as a program: an observer on the Target that keeps every request with the reference's answer.

The run is the suite's own (``Engine.run_all``: preflight, property stages, catalogue cases) at concurrency 1,
so the order the requests were answered in is the order they were sent; its final cleanup is not part of the
program (each replay cleans up its own objects through its ledger).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from conformance.contract import Contract
from conformance.differential.program import Answer, Program, Step
from conformance.differential.symbols import Pass
from conformance.engine.fixtures import new_tag
from conformance.engine.interrupt import Interruption
from conformance.engine.profiles import Profile
from conformance.engine.runner import Engine
from conformance.engine.target import API_KEY_HEADER, Sent, TargetConfig

# Headers the client library sets by itself, and the key (a step names its tenant instead).
DROPPED_HEADERS = frozenset(
    {"host", "content-length", "user-agent", "accept-encoding", "connection", API_KEY_HEADER.lower()}
)
NOT_CAPTURED = frozenset({"cleanup", "run"})  # the run's final cleanup; requests sent outside any unit


def relative_url(request: httpx.Request, base_path: str) -> str:
    """The request's path and query below the base URL's path."""
    raw = request.url.raw_path.decode("ascii", "replace")
    return raw[len(base_path) :] if base_path and raw.startswith(base_path) else raw


def request_headers(request: httpx.Request) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in request.headers.multi_items() if k.lower() not in DROPPED_HEADERS)


@dataclass
class Capture:
    """Collects the steps of one pass (the reference's first) and their answers, as the Target observes them."""

    symbols: Pass
    base_url: str
    program: Program = field(default_factory=Program)
    answers: list[Answer] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def observe(self, sent: Sent) -> None:
        response = sent.response
        if response is None or sent.activity in NOT_CAPTURED:
            return
        with self._lock:
            self._add(sent, response)

    def _add(self, sent: Sent, response: httpx.Response) -> None:
        request = response.request
        url = relative_url(request, urlsplit(self.base_url).path.rstrip("/"))
        body = sent.content
        refs = self.symbols.symbolise_request(url, body)
        created = self.symbols.created(sent.method, url, response)
        binds = None
        if created is not None:
            kind, value = created
            binds = self.symbols.new_symbol(kind)
            self.symbols.bind(binds, kind, value)
        key = request.headers.get(API_KEY_HEADER) if sent.tenant == "invalid" else None
        step = Step(
            unit=sent.activity,
            tenant=sent.tenant,
            method=sent.method,
            url=url,
            headers=request_headers(request),
            body=body,
            refs=tuple(refs),
            binds=binds,
            key=key,
        )
        self.program.steps.append(step)
        self.answers.append(self.symbols.answer(url, response))


@dataclass
class Captured:
    """The program of one run, the reference's answers to it, and how the run went."""

    program: Program
    answers: list[Answer]
    tag: str
    error: str | None = None  # the reference stopped answering (the program ends there)
    interrupted: str | None = None
    cleanup: dict[str, Any] = field(default_factory=dict)
    requests: int = 0


def capture(
    config: TargetConfig,
    profile: Profile,
    seed: int,
    contract: Contract,
    *,
    interruption: Interruption | None = None,
    ledger_path: Path | None = None,
) -> Captured:
    """Run the suite once against the reference (serially, shrinking off) and keep what it sent and got."""
    profile = dataclasses.replace(profile, shrink=False)  # a shrunk example is more requests, not more program
    config = dataclasses.replace(config, concurrency=1)
    tag = new_tag()
    engine = Engine(
        config, profile, seed=seed, tag=tag, contract=contract, interruption=interruption, ledger_path=ledger_path
    )
    with engine:
        assert engine.target is not None
        recorder = Capture(Pass(tag), engine.target.base_url)
        recorder.program.seed, recorder.program.profile = seed, profile.name
        recorder.program.revision = contract.revision
        engine.target.observers.append(recorder.observe)
        result = engine.run_all()
    return Captured(
        recorder.program,
        recorder.answers,
        tag,
        error=result.fatal,
        interrupted=result.interrupted,
        cleanup=result.fixtures,
        requests=result.requests,
    )
