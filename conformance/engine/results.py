"""Write the run's results: ``summary.json`` (the source of truth) and ``junit.xml`` (a view of it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from conformance import __version__
from conformance.contract import DEFAULT_REVISION
from conformance.engine.outcomes import Status
from conformance.engine.redact import Scrubber
from conformance.engine.runner import RunResult
from conformance.engine.text import utf8, xml_safe

SUMMARY = "summary.json"
JUNIT = "junit.xml"
JUNIT_PROPERTIES = ("verdict", "conformant", "exit_code", "profile", "seed")
#: The contract the run held the target to, as JUnit properties (from ``summary["contract"]``).
JUNIT_CONTRACT_PROPERTIES = ("revision", "sha256")


def summary(
    result: RunResult,
    *,
    contract_version: str,
    contract_sha256: str,
    catalogue_sha256: str,
    contract_revision: str = DEFAULT_REVISION,
) -> dict[str, Any]:
    judgement = result.judgement
    return {
        "suite_version": __version__,
        "contract": {"version": contract_version, "sha256": contract_sha256, "revision": contract_revision},
        "catalogue": {"sha256": catalogue_sha256},
        "target": {"base_url": result.target},
        "profile": result.profile,
        "seed": result.seed,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "seconds": result.seconds,
        "requests": result.requests,
        "concurrency": result.concurrency,
        "throttle": result.throttle,
        "totals": result.totals(),
        "verdict": judgement.verdict.value,
        "verdict_line": judgement.line(),
        "conformant": judgement.conformant,
        "exit_code": int(judgement.exit_code),
        "must": judgement.as_dict(),
        "fatal": result.fatal,
        "target_errors": result.target_errors(),
        "interrupted": result.interrupted,
        "partial": result.partial,
        "notes": result.notes,
        "requirements": [r.as_dict() for r in result.requirements],
        "stages": [
            {
                "name": s.name,
                "seed": s.seed,
                "examples": s.examples,
                "requests": s.requests,
                "seconds": round(s.seconds, 3),
                "error": s.error,
                "digest": s.digest,
                "findings": [
                    {**f.__dict__, "exchanges": [e.__dict__ for e in f.exchanges]} for f in s.findings.values()
                ],
            }
            for s in result.stages
        ],
        "fixtures": result.fixtures,
        "coverage": result.coverage,
    }


def write_summary(data: dict[str, Any], report_dir: Path, scrub: Scrubber) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / SUMMARY
    path.write_bytes(utf8(scrub(json.dumps(data, indent=2, ensure_ascii=False, default=str)) + "\n"))
    return path


def junit(data: dict[str, Any]) -> ET.Element:
    """One testsuite per area, one testcase per requirement; failed, errored and skipped kept apart."""
    root = ET.Element("testsuites", name="cekura-widget-conformance")
    suites: dict[str, ET.Element] = {}

    def testsuite(name: str) -> ET.Element:
        # The verdict travels as properties of every suite: JUnit readers only know properties per suite.
        suite = suites[name] = ET.SubElement(root, "testsuite", name=name)
        properties = ET.SubElement(suite, "properties")
        for key in JUNIT_PROPERTIES:
            ET.SubElement(properties, "property", name=key, value=str(data.get(key)))
        contract = data.get("contract") or {}
        for key in JUNIT_CONTRACT_PROPERTIES:
            ET.SubElement(properties, "property", name=f"contract.{key}", value=str(contract.get(key)))
        return suite

    for req in data["requirements"]:
        suite = suites.get(req["area"]) or testsuite(req["area"])
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"conformance.{req['area'].replace(' ', '_')}",
            name=f"{req['id']} [{req['level']}] {req['title']}",
            time=str(sum(c.get("seconds", 0) for c in req["cases"])),
        )
        status = req["status"]
        detail = "\n".join(
            f"[{c['status']}] {c['name']}: {c['message']}" + (f"\n  reproduce: {c['curl']}" if c.get("curl") else "")
            for c in req["cases"]
        )
        if status == Status.FAILED.value:
            ET.SubElement(case, "failure", message=req["reason"], type=req["level"]).text = detail
        elif status == Status.ERRORED.value:
            ET.SubElement(case, "error", message=req["reason"], type="SuiteError").text = detail
        elif status == Status.SKIPPED.value:
            ET.SubElement(case, "skipped", message=req["reason"])
        ET.SubElement(case, "system-out").text = detail
    if not suites:  # nothing was judged (an interrupted run): the verdict still reaches the reader
        ET.SubElement(testsuite("verdict"), "system-out").text = str(data.get("verdict_line", ""))
    for suite in suites.values():
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    return root


def _xml_safe_tree(root: ET.Element) -> None:
    for element in root.iter():
        element.text = xml_safe(element.text) if element.text else element.text
        element.tail = xml_safe(element.tail) if element.tail else element.tail
        for key, value in element.attrib.items():
            element.set(key, xml_safe(value))


def write_junit(data: dict[str, Any], report_dir: Path, scrub: Scrubber) -> Path:
    """``junit.xml``, well-formed whatever the target sent (CI JUnit publishers break on anything less)."""
    path = report_dir / JUNIT
    root = junit(data)
    _xml_safe_tree(root)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode", xml_declaration=False)
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + scrub(text) + "\n", encoding="utf-8")
    return path
