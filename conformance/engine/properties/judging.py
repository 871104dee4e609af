"""How a response is judged by schemathesis's checks: every check's failures from one pass over the response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemathesis.core.failures import Failure, FailureGroup


def failures_by_check(
    case: Any, response: Any, checks: tuple[Callable[..., Any], ...], *, recorder: Any = None
) -> list[tuple[Callable[..., Any], list[Any]]]:
    """Each check's failures on one response, in the checks' order.

    What ``Case.validate_response`` does, with one check context and one conversion of the response for all
    the checks instead of one per check (that was a third of the stages' CPU time); each failure is kept with
    the check that raised it. A schema with an ``after_validate`` hook gets the per-check calls themselves.
    """
    from schemathesis.checks import CheckContext, load_all_checks, run_checks, run_checks_for
    from schemathesis.core.transport import Response
    from schemathesis.engine.run import PhaseName
    from schemathesis.generation.case import _sent_base_url
    from schemathesis.hooks import schema_hook_dispatchers

    operation = case.operation
    if any(dispatcher.defines("after_validate") for dispatcher in schema_hook_dispatchers(operation.schema)):
        return [(check, _validated_alone(case, response, check, recorder)) for check in checks]
    load_all_checks()
    sent_base_url = _sent_base_url(case, response, None)
    converted = Response.from_any(response)
    phase = PhaseName.from_str(case.meta.phase.name.value) if case.meta is not None else None
    config = operation.schema.config.checks_config_for(
        operation=operation, phase=phase.value if phase is not None else None
    )
    transport_kwargs = {"base_url": sent_base_url} if sent_base_url is not None and operation.app is None else None
    ctx = CheckContext(
        override=case._override,
        auth=None,
        headers=None,
        config=config,
        transport_kwargs=transport_kwargs,
        recorder=recorder,
        response_checks=run_checks_for(operation.schema).for_responses(),
        phase=phase,
    )
    by_name: dict[str, list[Any]] = {check.__name__: [] for check in checks}

    def on_failure(name: str, collected: set[Any], failure: Any) -> None:
        by_name[name].append(failure)

    run_checks(case=case, response=converted, ctx=ctx, checks=checks, on_failure=on_failure)
    return [(check, by_name[check.__name__]) for check in checks]


def _validated_alone(case: Any, response: Any, check: Callable[..., Any], recorder: Any) -> list[Any]:
    try:
        case.validate_response(response, checks=[check], recorder=recorder)
    except (FailureGroup, Failure, AssertionError) as exc:
        return list(exc.exceptions) if isinstance(exc, FailureGroup) else [exc]
    return []
