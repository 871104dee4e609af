"""Run-level Allure files (environment, categories, executor) written next to the results allure-pytest records."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from conformance.engine.redact import Scrubber

REPORT_NAME = "Cekura widget PATCH conformance"
ENVIRONMENT = "environment.properties"
CATEGORIES = "categories.json"
EXECUTOR = "executor.json"

# Valid in Java (Allure 2 anchors with String.matches) and JavaScript (Allure 3 searches): [\s\S] spans the newlines
# a multi-line message has, where "." would not.
TARGET_ERROR_REGEX = r"[\s\S]*(TargetUnavailable|did not answer)[\s\S]*"

# The suite's three outcomes besides passed/skipped, in Allure terms: ConformanceFailure is an AssertionError
# (Allure "failed"); any SuiteError is "broken", and the target not answering is told apart by its message.
# Order matters: the first matching category wins.
CATEGORY_RULES: list[dict[str, Any]] = [
    {
        "name": "Contract violation",
        "description": "The target answered, and its answer breaks the requirement.",
        "matchedStatuses": ["failed"],
    },
    {
        "name": "Target error",
        "description": "The target did not answer (after retries): no verdict on this requirement.",
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


def environment(summary: dict[str, Any]) -> dict[str, str]:
    """The run's facts for Allure's Environment widget, in the order a reader needs them: the verdict the run
    computed, what was judged (the contract revision and its sha256) and how (Allure 3 shows eight rows, the
    executor's first, the rest behind "Show more")."""
    contract = summary["contract"]
    return {
        "verdict": str(summary["verdict"]),
        "target": target_host(str(summary["target"]["base_url"])),
        "contract.revision": str(contract.get("revision", "seed")),  # what the target was held to
        "contract.sha256": str(contract["sha256"]),
        "profile": str(summary["profile"]),
        "seed": str(summary["seed"]),
        "suite.version": str(summary["suite_version"]),
        "contract.version": str(contract["version"]),
        "catalogue.sha256": str(summary["catalogue"]["sha256"]),
    }


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


def write(summary: dict[str, Any], results_dir: Path, scrub: Scrubber) -> list[Path]:
    """Write the three files into one results directory; every string goes through the scrubber."""
    results_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        ENVIRONMENT: properties(environment(summary)),
        CATEGORIES: json.dumps(CATEGORY_RULES, indent=2) + "\n",
        EXECUTOR: json.dumps(executor(summary), indent=2, ensure_ascii=False) + "\n",
    }
    paths = []
    for name, text in contents.items():
        path = results_dir / name
        path.write_text(scrub(text), encoding="utf-8")
        paths.append(path)
    return paths


def recording_dirs() -> list[Path]:
    """The directories allure-pytest writes this session's results to (none without ``--alluredir``)."""
    try:
        import allure_commons
        from allure_commons.logger import AllureFileLogger
    except ImportError:  # allure-pytest is a dependency, but a plugin-less pytest run must not break on it
        return []
    dirs = []
    for plugin in allure_commons.plugin_manager.get_plugins():
        # _report_dir is private, but it is the only record of --alluredir once pytest configured the logger.
        report_dir = getattr(plugin, "_report_dir", None) if isinstance(plugin, AllureFileLogger) else None
        if report_dir is not None:
            dirs.append(Path(report_dir))
    return dirs


def write_for_session(summary: dict[str, Any], scrub: Scrubber) -> list[Path]:
    """Called at session finish: the files go wherever allure-pytest is recording, never into stale results."""
    return [path for directory in recording_dirs() for path in write(summary, directory, scrub)]
