"""Shared recordings for the differential tests: one program from the embedded emulator per session (a quick run,
about 5 s), replayed as often as the tests need (about 1 s each)."""

from __future__ import annotations

import pytest

from conformance import contract as contract_module
from conformance.differential.command import Recording, record_reference
from conformance.differential.program import Answer
from conformance.differential.replay import replay
from conformance.engine.interrupt import Interruption
from conformance.engine.profiles import get as get_profile
from tests.differential.targets import SEED, embedded, variant


@pytest.fixture(scope="session")
def recording() -> Recording:
    """The quick program recorded from the clean emulator: two passes (the program and the noise)."""
    contract = contract_module.default()
    recorded = record_reference(embedded(), get_profile("quick"), SEED, contract, Interruption())
    assert recorded.error is None and recorded.interrupted is None
    return recorded


@pytest.fixture(scope="session")
def frozen(recording: Recording) -> list[Answer]:
    """The program's answers from the variant whose updated_at never moves."""
    result = replay(recording.program, variant("frozen_updated_at"))
    assert result.error is None
    return result.answers
