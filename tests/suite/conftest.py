"""Fixtures for the suite's own tests: embedded targets whose state a test can inspect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette

from conformance.emulator import Behaviour, create_app
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY


class Embedded:
    """An embedded target whose app the test keeps, to look at what is left in its store."""

    def __init__(self, behaviour: type[Behaviour] = Behaviour, **config: Any) -> None:
        self.apps: list[Starlette] = []
        self.behaviour = behaviour
        self.config = TargetConfig(
            api_key=config.pop("api_key", EMBEDDED_KEY),
            other_api_key=config.pop("other_api_key", EMBEDDED_OTHER_KEY),
            app_factory=self._factory,
            **config,
        )

    def _factory(self) -> Starlette:
        app = create_app(behaviour=self.behaviour)
        self.apps.append(app)
        return app

    def rows(self, table: str) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self.apps[-1].state.store.query(f"SELECT id, name FROM {table} ORDER BY id")
        return rows


@pytest.fixture
def embedded() -> Callable[..., Embedded]:
    return Embedded
