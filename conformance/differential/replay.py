"""Send a program to a target: its own tag, its own ids bound to the program's symbols, its own cleanup.

Steps go out in the program's order, each under its unit's name (``Target.acting``), through the one HTTP seam:
the target's ledger learns of every object a step creates, and whatever happens (the target stops answering, a
signal) everything created is deleted at the end, by the same cleanup as a run's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.differential.program import Answer, Program
from conformance.differential.symbols import Pass
from conformance.engine.answers import utc_now
from conformance.engine.errors import ConfigurationError, SuiteError
from conformance.engine.fixtures import Fixtures, new_tag
from conformance.engine.interrupt import Interruption, RunInterrupted
from conformance.engine.ledger import Ledger
from conformance.engine.target import API_KEY_HEADER, Target, TargetConfig


@dataclass
class PassResult:
    """One pass of a program over a target."""

    label: str
    tag: str
    answers: list[Answer] = field(default_factory=list)
    error: str | None = None  # the target stopped answering; the answers end there
    interrupted: str | None = None  # a signal stopped the pass
    cleanup: dict[str, Any] = field(default_factory=dict)
    requests: int = 0

    @property
    def complete(self) -> bool:
        return self.error is None and self.interrupted is None


def replay(
    program: Program,
    config: TargetConfig,
    *,
    interruption: Interruption | None = None,
    ledger_path: Path | None = None,
) -> PassResult:
    """One pass of ``program`` over the target ``config`` names (serial: the order is the program's); with a
    ``ledger_path``, what it creates is written there as it happens (``cekura-conformance cleanup`` reads it)."""
    tag = new_tag()
    interruption = interruption or Interruption()
    target = Target(config, interruption=interruption)
    target.ledger = Ledger(tag, config.label, ledger_path, scrub=target.scrub)
    try:
        target.ledger.open(utc_now())
    except OSError as exc:
        target.close()
        raise ConfigurationError(f"cannot write the ledger {ledger_path}: {exc.strerror or exc}") from None
    fixtures = Fixtures(target, tag)
    symbols = Pass(tag)
    result = PassResult(config.label, tag)
    try:
        for step in program.steps:
            url, body = step.render(symbols.values)
            headers = dict(step.headers)
            key = step.key if step.tenant == "invalid" and step.key is not None else target.key_for(step.tenant)
            if key is not None and step.tenant != "none":
                headers[API_KEY_HEADER] = key
            with target.acting(step.unit):
                response = target.send(step.method, f"{target.base_url}{url}", headers=headers, content=body)
            if step.binds is not None:
                created = symbols.created(step.method, url, response)
                if created is not None:
                    symbols.bind(step.binds, created[0], created[1])
            result.answers.append(symbols.answer(url, response))
    except SuiteError as exc:  # the target stopped answering (or kept answering 429): no answer to compare after it
        result.error = str(exc)
    except RunInterrupted as exc:
        interruption.request(exc.reason)
        result.interrupted = exc.reason
    except KeyboardInterrupt:
        interruption.request("KeyboardInterrupt")
        result.interrupted = "KeyboardInterrupt"
    finally:
        with interruption.finishing():
            try:
                with target.acting("cleanup"):
                    report = fixtures.cleanup(deadline=interruption.deadline)
                result.cleanup = {**fixtures.as_dict(), "cleanup": report.as_dict()}
            finally:
                result.requests = target.requests_sent
                target.ledger.close()
                target.close()
    return result
