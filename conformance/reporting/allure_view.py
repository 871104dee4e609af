"""Allure annotations for pytest items, from the catalogue and the engine's outcomes (one mapping, here)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import allure
import allure_commons

from conformance.engine.catalogue import Requirement
from conformance.engine.errors import ConformanceFailure
from conformance.engine.outcomes import CaseResult, Exchange, Level, Status
from conformance.engine.properties.findings import StageResult
from conformance.engine.text import no_surrogates

EPIC = "PATCH /dashboards/widgets/{id}/"
SEVERITY = {
    Level.MUST: allure.severity_level.CRITICAL,
    Level.SHOULD: allure.severity_level.NORMAL,
    Level.MAY: allure.severity_level.MINOR,
}


# The report's tree: grouped by whether a requirement decides conformance, then by outcome, both named so that
# an alphabetical sort puts what decides the verdict first ("MUST requirements" before "SHOULD, MAY and
# tentative", "failed" before "not judged", "not run" and "passed"). Allure 3 centres the tree's first row on
# load: that row is "MUST requirements — <the verdict word>", and the failed MUSTs are listed right under it.
# The MUST group's name carries the run's verdict, known only at the end: the results leave that label out and
# the report command supplies it from summary.json (Allure 3's ``defaultLabels``).
CONFORMANCE_LABEL, OUTCOME_LABEL = "conformance", "outcome"
NOT_COUNTED_GROUP = "SHOULD, MAY and tentative requirements: not counted"
OUTCOME_GROUPS = {
    Status.FAILED: "failed",
    Status.ERRORED: "not judged (errored)",
    Status.SKIPPED: "not run (skipped)",
    Status.PASSED: "passed",
}
GROUP_BY = [CONFORMANCE_LABEL, OUTCOME_LABEL]


def counted_group(verdict_word: str) -> str:
    """The tree's first group: the requirements that decide conformance, named with the run's verdict."""
    return f"MUST requirements: {verdict_word}"


def label_outcome(requirement: Requirement, status: Status) -> None:
    """The labels the report's tree is grouped by; set once, when the item's outcome is known."""
    if not requirement.counts_for_conformance:
        allure.dynamic.label(CONFORMANCE_LABEL, NOT_COUNTED_GROUP)
    allure.dynamic.label(OUTCOME_LABEL, OUTCOME_GROUPS[status])


def annotate_requirement(requirement: Requirement) -> None:
    allure.dynamic.title(f"{requirement.id} [{requirement.level.value}] {requirement.title}")
    allure.dynamic.epic(EPIC)
    allure.dynamic.feature(requirement.area)
    allure.dynamic.story(requirement.story or requirement.title)
    allure.dynamic.severity(SEVERITY[requirement.level])
    allure.dynamic.id(requirement.id)
    # Allure 3 reads its test case id from ALLURE_ID (allure-python writes "as_id"): the report's resolution
    # rules (a SHOULD failure "accepted") name requirements by it.
    allure.dynamic.label("ALLURE_ID", requirement.id)
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


def _finding_facts(result: CaseResult) -> str:
    lines = [f"check: {result.check}", f"stage: {result.stage}"]
    if result.seed is not None:
        lines.append(f"seed: {result.seed} (the stage's seed; the run's --seed reproduces it)")
    return "\n".join(lines)


def _exchange_step(exchange: Exchange, *, broke: bool) -> None:
    """A step per HTTP exchange; the one that broke the rule is failed, so the tree shows where it went wrong."""
    title = f"{exchange.method} {exchange.url} -> {exchange.status}"
    try:
        with _step(title + (" (broke the rule)" if broke else "")):
            _attach_exchange(exchange)
            if broke:
                raise ConformanceFailure(f"this answer broke the rule: {title}")
    except ConformanceFailure:
        pass


def record_cases(results: Iterable[CaseResult]) -> None:
    """A step per case or property finding, a sub-step per HTTP exchange with request and response attached.

    A failed case or finding is a failed step, and so is the exchange that broke the rule; a finding also
    carries the check that fired, its stage and seed, and the minimal example Hypothesis shrank to.
    """
    for result in results:
        try:
            with _step(f"[{result.status.value}] {result.name}"):
                if result.message:
                    _attach(result.message, "outcome")
                if result.kind == "property" and result.check:
                    _attach(_finding_facts(result), "finding: check, stage, seed")
                if result.minimal_example:
                    _attach(
                        result.minimal_example,
                        "minimal example (shrunk)" if result.kind == "property" else "example",
                        allure.attachment_type.JSON,
                    )
                for index, exchange in enumerate(result.exchanges):
                    broke = result.status is Status.FAILED and index == result.failed_exchange
                    _exchange_step(exchange, broke=broke)
                if result.curl:
                    _attach(result.curl, "reproduce (curl)")
                if result.status is Status.FAILED:
                    # Raised inside the step so Allure marks this step, not just the test, as failed.
                    raise ConformanceFailure(no_surrogates(result.message))
        except ConformanceFailure:
            pass


def stages_summary(stages: Iterable[StageResult]) -> list[dict[str, Any]]:
    """What each property stage did, for the report (its findings are failures of the requirements they break)."""
    return [
        {
            "stage": stage.name,
            "seed": stage.seed,
            "examples": stage.examples,
            "requests": stage.requests,
            "seconds": round(stage.seconds, 3),
            "findings": sorted(stage.findings),
            "error": stage.error,
        }
        for stage in stages
    ]


def record_stages(stages: list[StageResult]) -> None:
    """The step of the item that started the run: the property stages ran here, once, for every requirement."""
    examples = sum(s.examples for s in stages)
    findings = sum(len(s.findings) for s in stages)
    title = (
        f"property stages ({', '.join(s.name for s in stages)}): {examples} generated requests, {findings} "
        "finding(s), each reported under the requirement it breaks"
    )
    with _step(title):
        for summary in stages_summary(stages):
            what = f"{len(summary['findings'])} finding(s)" if not summary["error"] else "could not run"
            with _step(f"stage {summary['stage']}: {summary['examples']} examples, {what}"):
                allure.attach(
                    json.dumps(summary, indent=2), name="stage summary", attachment_type=allure.attachment_type.JSON
                )


_CLASS_PATH = re.compile(r"^((?:[A-Za-z_]\w*\.)+)([A-Za-z_]\w*): ")


def readable(message: str) -> str:
    """A failure message as a sentence: no Python class path in front of it.

    The suite's own exceptions (``conformance.engine.errors.ConformanceFailure: ...``) carry sentences that say
    what happened: the class goes. Another exception keeps its bare class name (``KeyError: 'id'``).
    """
    match = _CLASS_PATH.match(message)
    if match is None:
        return message
    rest = message[match.end() :]
    return rest if match.group(1).startswith("conformance.") else f"{match.group(2)}: {rest}"


class ReadableMessages:
    """An allure-commons plugin, registered while the suite runs: rewrites the message of each requirement's
    result just before allure-pytest writes it (allure-pytest formats it as ``module.Class: message``)."""

    @allure_commons.hookimpl(tryfirst=True)
    def report_result(self, result: Any) -> None:
        if not any(label.name == "requirement" for label in result.labels or ()):
            return  # a test of the user's own, in the same session
        pending = [result]
        while pending:  # the result, and each of its steps (a failed step carries its own message)
            item = pending.pop()
            details = item.statusDetails
            if details is not None and details.message:
                details.message = readable(details.message)
            pending.extend(item.steps or ())
