"""Targets for the differential tests: the emulator in-process, a faulty variant of it, any ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance import contract as contract_module
from conformance.emulator import Behaviour, create_app
from conformance.emulator.faults import get
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
