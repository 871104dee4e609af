"""The suite does not depend on the emulator's guesses: switching any of them leaves the verdict unchanged.

The engine runs ``quick`` in-process against the emulator with its default guesses, then once per alternative
(one switched at a time); every run must be conformant with the same status for every requirement.
"""

from __future__ import annotations

import pytest

from conformance.emulator import create_app
from conformance.emulator.guesses import ALTERNATIVES, Guesses
from conformance.engine.outcomes import Status
from conformance.engine.profiles import get
from conformance.engine.runner import Engine
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

SEED = 20261126


def verdict(guesses: Guesses) -> tuple[int, dict[str, Status]]:
    config = TargetConfig(
        api_key=EMBEDDED_KEY,
        other_api_key=EMBEDDED_OTHER_KEY,
        app_factory=lambda: create_app(guesses=guesses),
    )
    with Engine(config, get("quick"), seed=SEED) as engine:
        result = engine.run_all()
    assert result.fatal is None
    return result.exit_code, {r.requirement.id: r.status for r in result.requirements}


@pytest.fixture(scope="module")
def default_verdict() -> tuple[int, dict[str, Status]]:
    return verdict(Guesses())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ALTERNATIVES))
def test_switching_a_guess_keeps_the_verdict(default_verdict: tuple[int, dict[str, Status]], name: str) -> None:
    exit_code, statuses = default_verdict
    assert exit_code == 0 and set(statuses.values()) == {Status.PASSED}
    switched = verdict(Guesses(**{name: ALTERNATIVES[name]}))
    changed = {rid: (statuses[rid].value, s.value) for rid, s in switched[1].items() if s is not statuses[rid]}
    assert switched[0] == exit_code, changed
    assert changed == {}
