"""Run the catalogue's hand-written cases: fixtures, steps, expectations, cleanup."""

from __future__ import annotations

import traceback
from typing import Any

from conformance.engine import expectations
from conformance.engine.catalogue import Case, Request, Requirement
from conformance.engine.context import RunContext
from conformance.engine.errors import ConformanceFailure, PreconditionMissing, SuiteError, TargetUnavailable
from conformance.engine.fixtures import PATHS, FixtureError
from conformance.engine.outcomes import CaseResult, Status
from conformance.engine.template import MissingFromAnswer, TemplateError, render


def _send(ctx: RunContext, request: Request, variables: dict[str, Any], answers: dict[str, str]) -> Any:
    def filled(value: Any) -> Any:
        return render(value, variables, answers)

    operation = ctx.contract.operation(filled(request.operation))
    path = operation.path
    for name, value in filled(dict(request.path)).items():
        path = path.replace("{" + name + "}", str(value))
    if request.without_slash:
        path = path.rstrip("/")  # Django's APPEND_SLASH probe: the documented path minus its trailing slash
    content: bytes | None = None
    if request.raw is not None:
        content = filled(request.raw).encode()
    elif request.raw_hex is not None:
        content = bytes.fromhex(filled(request.raw_hex))
    query = filled(dict(request.query))
    return ctx.target.request(
        filled(request.method) or operation.method,
        path,
        auth=filled(request.auth),
        json=filled(request.json),
        content=content,
        content_type=filled(request.content_type) or ("application/json" if content is not None else None),
        params={name: str(value) for name, value in query.items()} if query else None,
    )


def _run_steps(ctx: RunContext, case: Case) -> None:
    variables = ctx.variables()
    saved: dict[str, Any] = {}
    # The target's own answers among the variables: a key one lacks is its failure, not the suite's.
    answers: dict[str, str] = {}
    for label, fixture in case.given.items():
        body = render(fixture.body, {**variables, **saved}, answers)
        saved[label] = ctx.fixtures.create(fixture.kind, body, auth=fixture.auth, label=label)
        answers[label] = f"the {fixture.kind} {label!r} as the target created it (POST {PATHS[fixture.kind]})"
    for number, step in enumerate(case.steps, start=1):
        try:
            response = _send(ctx, step.request, {**variables, **saved}, answers)
        except MissingFromAnswer as missing:
            raise ConformanceFailure(f"step {number}: {missing}") from None
        try:
            expectations.check(
                step.expect,
                response,
                contract=ctx.contract,
                variables={**variables, **saved},
                saved=saved,
                answers=answers,
            )
        except ConformanceFailure as failure:
            path = response.request.url.path
            raise ConformanceFailure(f"step {number} ({response.request.method} {path}): {failure}") from None
        if step.save is not None:
            body = expectations.body_of(response)
            saved[step.save] = body if isinstance(body, dict) else {}
            what = "the response" if isinstance(body, dict) else "the response (not a JSON object)"
            answers[step.save] = f"{what} of step {number} saved as {step.save!r}"


def run_case(ctx: RunContext, requirement: Requirement, case: Case) -> CaseResult:
    """One case's outcome; never raises but TargetUnavailable (the run cannot go on) and KeyboardInterrupt."""
    result = CaseResult(requirement.id, case.name, Status.PASSED, seed=ctx.seed)
    reason = ctx.missing(tuple(requirement.requires) + case.requires)
    if reason:
        result.status, result.message = Status.SKIPPED, reason
        return result
    with ctx.fixtures.scope(), ctx.target.recording() as recorder:
        try:
            _run_steps(ctx, case)
        except ConformanceFailure as failure:
            result.status, result.message = Status.FAILED, str(failure)
            # The last answer is the one the failed expectation judged (or whose missing key broke a template).
            result.failed_exchange = len(recorder.exchanges) - 1 if recorder.exchanges else None
        except PreconditionMissing as missing:
            result.status, result.message = Status.SKIPPED, str(missing)
        except TargetUnavailable:
            raise
        except FixtureError as exc:
            result.status, result.message, result.target_error = Status.ERRORED, str(exc), exc.target_error
        except (SuiteError, TemplateError) as exc:
            result.status, result.message = Status.ERRORED, f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a suite bug: report it as errored, never as the target's failure
            result.status = Status.ERRORED
            result.message = f"suite error {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
        finally:
            result.exchanges = list(recorder.exchanges)
    if result.exchanges and result.status is not Status.PASSED:
        result.curl = result.exchanges[-1].curl
    result.message = ctx.target.scrub(result.message)
    return result
