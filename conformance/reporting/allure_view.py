"""Allure annotations for pytest items, from the catalogue and the engine's outcomes (one mapping, here)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import allure

from conformance.engine.catalogue import Requirement
from conformance.engine.errors import ConformanceFailure
from conformance.engine.findings import StageResult
from conformance.engine.outcomes import CaseResult, Exchange, Level, Status
from conformance.engine.text import no_surrogates

EPIC = "PATCH /dashboards/widgets/{id}/"
SEVERITY = {
    Level.MUST: allure.severity_level.CRITICAL,
    Level.SHOULD: allure.severity_level.NORMAL,
    Level.MAY: allure.severity_level.MINOR,
}


def annotate_requirement(requirement: Requirement) -> None:
    allure.dynamic.title(f"{requirement.id} [{requirement.level.value}] {requirement.title}")
    allure.dynamic.epic(EPIC)
    allure.dynamic.feature(requirement.area)
    allure.dynamic.story(requirement.story or requirement.title)
    allure.dynamic.severity(SEVERITY[requirement.level])
    allure.dynamic.id(requirement.id)
    allure.dynamic.label("requirement", requirement.id)
    allure.dynamic.label("level", requirement.level.value)
    allure.dynamic.tag(requirement.level.value)
    if requirement.tentative:
        allure.dynamic.tag("tentative")
    if requirement.source_url:
        allure.dynamic.link(requirement.source_url, name=f"source ({requirement.source.get('kind')})")
    description = [
        f"**{requirement.id}** ({requirement.level.value}{', tentative' if requirement.tentative else ''})",
        "",
        requirement.title,
        "",
        f"Source: {requirement.source.get('kind')} {requirement.source.get('ref', '')} {requirement.source_url or ''}",
    ]
    if requirement.rationale:
        description += ["", requirement.rationale]
    if requirement.checks:
        description += ["", "Property checks: " + ", ".join(requirement.checks)]
    allure.dynamic.description("\n".join(description))


def annotate_stage(name: str) -> None:
    allure.dynamic.title(f"property stage: {name}")
    allure.dynamic.epic(EPIC)
    allure.dynamic.feature("property and stateful stages")
    allure.dynamic.story(name)
    allure.dynamic.severity(allure.severity_level.CRITICAL)
    allure.dynamic.id(f"stage-{name}")
    # Stage items differ only by name; a parameter gives each its own history id, so none hides as a retry.
    allure.dynamic.parameter("stage", name)


def _attach(body: str, name: str, kind: Any = allure.attachment_type.TEXT) -> None:
    """Attach text the target may have shaped: lone surrogates written visibly, so allure can encode it."""
    allure.attach(no_surrogates(body), name=name, attachment_type=kind)


def _step(title: str) -> Any:
    return allure.step(no_surrogates(title))


def _attach_exchange(exchange: Exchange) -> None:
    request = "\n".join(
        [f"{exchange.method} {exchange.url}"]
        + [f"{k}: {v}" for k, v in exchange.request_headers.items()]
        + ["", exchange.request_body or ""]
    )
    response = "\n".join(
        [f"HTTP {exchange.status}  ({exchange.elapsed_ms} ms)"]
        + [f"{k}: {v}" for k, v in exchange.response_headers.items()]
        + ["", exchange.response_body or ""]
    )
    _attach(request, "request")
    _attach(response, "response")
    _attach(exchange.curl, "curl")


def record_cases(results: Iterable[CaseResult]) -> None:
    """A step per case, a sub-step per HTTP exchange with request and response attached."""
    for result in results:
        try:
            with _step(f"[{result.status.value}] {result.name}"):
                if result.message:
                    _attach(result.message, "outcome")
                for exchange in result.exchanges:
                    with _step(f"{exchange.method} {exchange.url} -> {exchange.status}"):
                        _attach_exchange(exchange)
                if result.curl:
                    _attach(result.curl, "reproduce (curl)")
                if result.minimal_example:
                    _attach(
                        result.minimal_example,
                        "minimal example (shrunk)" if result.kind == "property" else "example",
                        allure.attachment_type.JSON,
                    )
                if result.status is Status.FAILED:
                    # Raised inside the step so Allure marks this step, not just the test, as failed.
                    raise ConformanceFailure(no_surrogates(result.message))
        except ConformanceFailure:
            pass


def record_stage(stage: StageResult, seed: int) -> None:
    summary: dict[str, Any] = {
        "stage": stage.name,
        "examples": stage.examples,
        "requests": stage.requests,
        "seconds": round(stage.seconds, 3),
        "seed": seed,
        "findings": sorted(stage.findings),
        "error": stage.error,
    }
    allure.attach(json.dumps(summary, indent=2), name="stage summary", attachment_type=allure.attachment_type.JSON)
    for finding in stage.findings.values():
        with _step(f"{finding.check}: {finding.title}"):
            _attach(finding.message, "failure")
            _attach(finding.curl, "reproduce (curl)")
            if finding.minimal_example:
                label = "minimal example (shrunk)" if finding.shrunk else "example"
                _attach(finding.minimal_example, label, allure.attachment_type.JSON)
