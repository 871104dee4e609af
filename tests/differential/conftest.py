"""Shared recordings for the differential tests: one program from the embedded emulator per session (a quick run,
about 5 s), replayed as often as the tests need (about 1 s each)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conformance import contract as contract_module
from conformance.differential.command import Recording, record_reference
from conformance.differential.program import Answer
from conformance.differential.replay import replay
from conformance.emulator import Behaviour, create_app
from conformance.emulator.faults import get
from conformance.engine.interrupt import Interruption
from conformance.engine.profiles import get as get_profile
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

SEED = 4242


def embedded(factory: Callable[[], Any] | None = None, behaviour: type[Behaviour] = Behaviour) -> TargetConfig:
    """The emulator in-process (a variant of it with ``behaviour``; or whatever app ``factory`` makes)."""
    contract = contract_module.default()
    return TargetConfig(
        api_key=EMBEDDED_KEY,
        other_api_key=EMBEDDED_OTHER_KEY,
        app_factory=factory or (lambda: create_app(behaviour=behaviour, contract=contract)),
    )


def variant(name: str) -> TargetConfig:
    return embedded(behaviour=get(name))


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
