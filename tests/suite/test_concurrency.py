"""The verdict does not depend on concurrency: the same seed against the HTTP emulator at ``--concurrency 1``
and ``16`` generates the same cases and reaches the same verdict, requirement statuses and findings; both runs
leave nothing behind. The emulator is served in its own process, as a remote staging would be."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from conformance.engine import properties
from conformance.engine.profiles import get
from conformance.engine.runner import Engine, RunResult
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.served import Served

SEED = 20261127


def run(url: str, concurrency: int, *, catalogue: bool = True) -> RunResult:
    config = TargetConfig(base_url=url, api_key=EMBEDDED_KEY, other_api_key=EMBEDDED_OTHER_KEY, concurrency=concurrency)
    with Engine(config, get("quick"), seed=SEED) as engine:
        if catalogue:
            return engine.run_all()
        engine.warm_up(properties.STAGES)
        engine.preflight()
        engine.prefetch(properties.STAGES, [])
        engine.run_stages()
    return engine.result


def results(result: RunResult) -> dict[str, Any]:
    """What must not depend on concurrency; ids the target assigned and the run's tag are left out."""

    def plain(text: str | None) -> str:
        return re.sub(r"cwc-\d{8}T\d{6}-[0-9a-f]{6}|/\d+/|\"(dashboard|id|metric)\": \d+", "#", text or "")

    return {
        "verdict": result.judgement.verdict,
        "requirements": [(r.requirement.id, r.status, len(r.cases)) for r in result.requirements],
        "stages": [(s.name, s.examples, s.digest, s.error) for s in result.stages],
        "findings": [(s.name, f.check, plain(f.minimal_example)) for s in result.stages for f in s.findings.values()],
    }


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.stop()


def test_one_worker_and_sixteen_generate_the_same_cases_and_reach_the_same_results(served: Served) -> None:
    serial, concurrent = run(served.url, 1), run(served.url, 16)
    assert results(concurrent) == results(serial)
    assert serial.concurrency == 1 and concurrent.concurrency == 16
    assert all(s.digest for s in serial.stages) and serial.requests > 1000
    for result in (serial, concurrent):
        assert result.fatal is None and result.fixtures["leftovers"] == []
        assert result.fixtures["unanswered_posts"] == []


def test_findings_and_their_shrunk_examples_do_not_depend_on_concurrency() -> None:
    """A variant the property stages catch (updated_at never moves): each stage's findings, shrunk in its parts,
    merge in part order, never in the order the parts finished."""
    server = Served(variant="frozen_updated_at")
    try:
        serial, concurrent = run(server.url, 1, catalogue=False), run(server.url, 16, catalogue=False)
    finally:
        server.stop()
    assert any(s.findings for s in serial.stages)
    assert results(concurrent) == results(serial)
