"""Run-level Allure files (environment, categories, executor) written next to the results allure-pytest records."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.engine.answers import iso_datetime
from conformance.engine.coverage import figure
from conformance.engine.redact import Scrubber
from conformance.reporting.certificate import level_reached

REPORT_NAME = "Cekura widget PATCH conformance"
ENVIRONMENT = "environment.properties"
CATEGORIES = "categories.json"
EXECUTOR = "executor.json"

GLOBALS = "cekura-globals.json"
COVERAGE_ATTACHMENT = "cekura-coverage-attachment.csv"
STAGES_ATTACHMENT = "cekura-stages-attachment.json"

# Valid in Java (Allure 2 anchors with String.matches) and JavaScript (Allure 3 searches): [\s\S] spans the newlines
# a multi-line message has, where "." would not. The target's part: it did not answer, or it answered an error to a
# supporting request (a fixture's POST answered 500), so the requirement could not be judged.
TARGET_ERROR_REGEX = (
    r"[\s\S]*(TargetUnavailable|did not answer|\(the target's error\)|the target answered errors)[\s\S]*"
)

# The suite's three outcomes besides passed/skipped, in Allure terms: ConformanceFailure is an AssertionError
# (Allure "failed"); any SuiteError is "broken", and the target's part in it is told apart by its message.
# Order matters: the first matching category wins.
CATEGORY_RULES: list[dict[str, Any]] = [
    {
        "name": "Contract violation",
        "description": "The target answered, and its answer breaks the requirement.",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Target error",
        "description": (
            "The target did not answer (after retries), or answered an error to a request the requirement needed "
            "(creating its fixtures): no verdict on this requirement."
        ),
        "matchedStatuses": ["broken"],
        "messageRegex": TARGET_ERROR_REGEX,
    },
    {
        "name": "Suite error",
        "description": "The suite could not judge this requirement (a bug or the configuration), not the target.",
        "matchedStatuses": ["broken"],
    },
]


def target_host(base_url: str) -> str:
    """The target as shown in reports: the URL without any user:password part."""
    parts = urlsplit(base_url)
    if not parts.netloc:
        return base_url  # "embedded", not a URL
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def verdict_word(summary: dict[str, Any]) -> str:
    """The verdict as the run's own verdict line says it first: CONFORMANT, NOT CONFORMANT, NO VERDICT, INTERRUPTED."""
    line = str(summary.get("verdict_line") or "")
    return line.split(":", 1)[0].strip() or str(summary["verdict"]).replace("-", " ").upper()


def verdict_heading(summary: dict[str, Any]) -> str:
    """The verdict word, with the level a certify run reached: "CONFORMANT, level full"."""
    word = verdict_word(summary)
    if summary.get("profile") == "certify":
        word += f", level {level_reached(summary.get('requirements') or [], str(summary['verdict']))}"
    return word


def report_name(summary: dict[str, Any]) -> str:
    """The HTML report's name (its header, the browser tab, each history point): the verdict comes first."""
    return f"{verdict_heading(summary)} · {REPORT_NAME}"


def _ids(ids: list[str]) -> str:
    return f"{len(ids)}: {', '.join(ids)}" if ids else "none"


def environment(summary: dict[str, Any]) -> dict[str, str]:
    """The run's facts for Allure's metadata block, in the order a reader needs them (Allure 3 shows the first
    eight, the executor's among them, the rest behind "Show more"; it is the block a reader sees above the
    result tree on the first screen): the verdict word and the MUST requirements behind it, the level of a
    certify run, the contract, the target, the coverage figure, then how to reproduce and identify the run."""
    must = summary.get("must") or {}
    rows = {"verdict": verdict_word(summary), "MUST failed": _ids(list(must.get("failed") or []))}
    if must.get("errored"):
        rows["MUST not judged"] = _ids(list(must["errored"]))
    skipped = must.get("skipped") or []
    rows["MUST skipped"] = (
        f"{len(skipped)}: " + "; ".join(f"{s['id']} ({s['reason']})" for s in skipped) if skipped else "none"
    )
    if summary.get("profile") == "certify":
        rows["level"] = level_reached(summary.get("requirements") or [], str(summary["verdict"]))
    contract = summary["contract"]
    revision = f"revision {contract['revision']}, " if contract.get("revision") else ""
    rows["contract"] = f"{revision}version {contract['version']}"
    rows["target"] = target_host(str(summary["target"]["base_url"]))
    coverage = summary.get("coverage") or {}
    if coverage.get("total"):
        rows["contract coverage"] = (
            f"{figure(coverage)} ({coverage['covered']} of {coverage['total']} documented values sent)"
        )
    rows |= {
        "profile": str(summary["profile"]),
        "seed": str(summary["seed"]),
        "suite.version": str(summary["suite_version"]),
        "contract.sha256": str(contract["sha256"]),
        "catalogue.sha256": str(summary["catalogue"]["sha256"]),
    }
    return rows


def _escape(text: str, *, key: bool) -> str:
    """Java .properties escaping, ASCII only (Allure 2 reads the file as ISO-8859-1, Allure 3 as UTF-8)."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[ch])
        elif (key and ch in "=: #!") or (not key and i == 0 and ch == " "):
            out.append("\\" + ch)
        elif not " " <= ch <= "~":
            out.extend(f"\\u{unit:04x}" for unit in _utf16_units(ch))
        else:
            out.append(ch)
    return "".join(out)


def _utf16_units(ch: str) -> Iterable[int]:
    data = ch.encode("utf-16-be")
    return (int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


def properties(values: dict[str, str]) -> str:
    return "".join(f"{_escape(k, key=True)}={_escape(v, key=False)}\n" for k, v in values.items())


def executor(summary: dict[str, Any]) -> dict[str, Any]:
    tag = (summary.get("fixtures") or {}).get("tag")
    return {
        "name": "cekura-conformance",
        "type": "local",
        "buildName": tag or f"seed {summary['seed']}",
        "reportName": REPORT_NAME,
    }


def coverage_csv(summary: dict[str, Any]) -> str:
    """The contract coverage map as a table (Allure shows a CSV attachment as one): every item, whether the run
    exercised it, by what, and what the target answered."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["item", "kind", "exercised", "by", "answers"])
    for row in (summary.get("coverage") or {}).get("items") or []:
        by = "; ".join(row["by"]) + (f"; and {row['more']} more" if row.get("more") else "")
        answers = ", ".join(f"{code} x{count}" for code, count in row["answers"].items())
        writer.writerow([row["item"], row["kind"], "yes" if row["covered"] else "NO", by, answers])
    return out.getvalue()


def stages_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """What each property stage did; its findings by check only (each is a failure of the requirement it breaks)."""
    return [
        {k: v for k, v in stage.items() if k != "findings"}
        | {"findings": sorted(f["check"] for f in stage.get("findings") or [])}
        for stage in summary.get("stages") or []
    ]


def globals_file(summary: dict[str, Any]) -> dict[str, Any]:
    """Allure's global attachments (a "Global Attachments" tab in Allure 3): the coverage map, the stages."""
    finished = iso_datetime(summary.get("finished_at"))
    stamp = int(finished.timestamp() * 1000) if finished is not None else 0
    return {
        "attachments": [
            {"name": "contract coverage", "source": COVERAGE_ATTACHMENT, "type": "text/csv", "timestamp": stamp},
            {"name": "property stages", "source": STAGES_ATTACHMENT, "type": "application/json", "timestamp": stamp},
        ],
        "errors": [],
    }


def write(summary: dict[str, Any], results_dir: Path, scrub: Scrubber) -> list[Path]:
    """Write the run-level files into one results directory; every string goes through the scrubber."""
    results_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        ENVIRONMENT: properties(environment(summary)),
        CATEGORIES: json.dumps(CATEGORY_RULES, indent=2) + "\n",
        EXECUTOR: json.dumps(executor(summary), indent=2, ensure_ascii=False) + "\n",
        GLOBALS: json.dumps(globals_file(summary), indent=2) + "\n",
        COVERAGE_ATTACHMENT: coverage_csv(summary),
        STAGES_ATTACHMENT: json.dumps(stages_table(summary), indent=2, ensure_ascii=False) + "\n",
    }
    paths = []
    for name, text in contents.items():
        path = results_dir / name
        path.write_text(scrub(text), encoding="utf-8")
        paths.append(path)
    return paths


def write_for_session(summary: dict[str, Any], scrub: Scrubber, results_dir: Path | None) -> list[Path]:
    """Called at session finish: the files go where allure-pytest is recording (its ``--alluredir``, None when
    it records nothing), never into stale results."""
    return write(summary, results_dir, scrub) if results_dir is not None else []
