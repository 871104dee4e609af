"""``cekura-conformance report``: render the run's allure-results as HTML with a pinned Allure 3, history kept."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.engine import results
from conformance.engine.verdict import ExitCode, counts_for_conformance
from conformance.npmtool import NpmTool, NpmToolError
from conformance.reporting.allure_files import CATEGORY_RULES, REPORT_NAME, report_name, verdict_heading
from conformance.reporting.allure_view import CONFORMANCE_LABEL, GROUP_BY, counted_group

NPM_DIR = Path(__file__).parent / "npm"
RESULTS = "allure-results"
REPORT = "allure-report"
CONFIG = "allurerc.json"
SINGLE_CONFIG = "allurerc-single-file.json"
TOLERATED_COMMENT = (
    "A requirement that does not decide conformance (SHOULD, MAY or tentative) failed: reported, and left out "
    "of the pass rate, as the verdict leaves it out (only MUST failures make a target non-conformant)."
)
HISTORY = Path("history") / "history.jsonl"
# Which run the last history point belongs to, so rendering the same run twice replaces its point.
HISTORY_STAMP = Path("history") / "last-run.json"
KNOWN_ISSUES = Path("history") / "known-issues.json"
MIN_NODE = (20, 19)
TIMEOUT_GENERATE = 300


class ReportError(Exception):
    """A one-line reason the report cannot be rendered, and the exit code that goes with it."""

    def __init__(self, message: str, code: int = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.code = code


def allure_version() -> str:
    return str(json.loads((NPM_DIR / "package.json").read_text())["dependencies"]["allure"])


def cache_dir() -> Path:
    """Where the pinned Allure is installed: per user and per version, never inside site-packages."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "cekura-conformance" / f"allure-{allure_version()}"


def allure_tool() -> NpmTool:
    return NpmTool("Allure", "allure", NPM_DIR, cache_dir())


def find_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    missing = [name for name, path in (("node", node), ("npm", npm)) if path is None]
    if node is None or npm is None:
        raise ReportError(
            f"the HTML report needs Node.js {'.'.join(map(str, MIN_NODE))}+ and npm ({' and '.join(missing)} not "
            "found on PATH); summary.json and junit.xml hold the same results"
        )
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReportError(f"cannot run {node} --version: {exc}") from None
    match = re.match(r"v?(\d+)\.(\d+)", out.strip())
    if not match or (int(match[1]), int(match[2])) < MIN_NODE:
        raise ReportError(f"Allure 3 needs Node.js {'.'.join(map(str, MIN_NODE))}+, found {out.strip() or 'unknown'}")
    return node, npm


def ensure_allure(npm: str) -> Path:
    """The pinned Allure's CLI script, installed with ``npm ci`` from the shipped lock on first use."""
    try:
        return allure_tool().ensure(lambda message: print(f"cekura-conformance: {message}", file=sys.stderr), npm)
    except NpmToolError as exc:
        raise ReportError(str(exc), ExitCode.BROKEN) from None


def _run_key(report_dir: Path) -> str | None:
    """Identifies the run whose results are rendered (from summary.json), or None if there is no summary."""
    try:
        data = json.loads((report_dir / results.SUMMARY).read_text())
        return f"{data['started_at']} seed={data['seed']} tag={(data.get('fixtures') or {}).get('tag')}"
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _prepare_history(report_dir: Path, key: str | None) -> int:
    """Drop the point a previous rendering of this same run appended; return the number of points kept."""
    history = report_dir / HISTORY
    history.parent.mkdir(parents=True, exist_ok=True)
    lines = history.read_text(encoding="utf-8").splitlines(keepends=True) if history.is_file() else []
    try:
        stamp = json.loads((report_dir / HISTORY_STAMP).read_text())
    except (OSError, ValueError):
        stamp = {}
    if key is not None and stamp.get("run") == key and isinstance(stamp.get("kept"), int):
        lines = lines[: stamp["kept"]]
        history.write_text("".join(lines), encoding="utf-8")
    return len(lines)


def _summary(report_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((report_dir / results.SUMMARY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def tolerated_failures(summary: dict[str, Any] | None) -> list[str]:
    """The requirements that failed without deciding conformance (SHOULD, MAY, tentative), as the run recorded."""
    return sorted(
        r["id"]
        for r in (summary or {}).get("requirements") or []
        if r.get("status") == "failed" and not counts_for_conformance(r["level"], bool(r.get("tentative")))
    )


def config(
    report_dir: Path, output: Path, summary: dict[str, Any] | None = None, *, single_file: bool = False
) -> dict[str, Any]:
    """The allurerc: the report's name (the verdict first), output, history, our categories, the awesome plugin.

    Results are grouped by whether they decide conformance, then by outcome, sorted by name (the failed MUSTs
    first, right under the metadata block with the verdict; Allure centres the tree's first row), and a failed
    requirement that does not decide conformance is "accepted" (Allure 3's resolution for a known failure that is
    tolerated): it keeps its red status and its own marker, and the pass ring leaves it out, as the verdict does.
    The single-file variant reads the same history without appending to it (one point per run).
    """
    name = report_name(summary) if summary is not None else REPORT_NAME
    word = verdict_heading(summary) if summary is not None else "no summary.json, no verdict"
    rc: dict[str, Any] = {
        "name": name,
        "output": str(output),
        # The results of the MUSTs leave their group label out: it carries the verdict, known only now.
        "defaultLabels": {CONFORMANCE_LABEL: counted_group(word)},
        "historyPath": str(report_dir / HISTORY),
        "appendHistory": not single_file,
        "categories": [{k: v for k, v in rule.items() if k != "description"} for rule in CATEGORY_RULES],
        "plugins": {
            "awesome": {
                "options": {
                    "reportName": name,
                    "groupBy": GROUP_BY,
                    "defaultSortBy": "name,asc",
                    "singleFile": single_file,
                }
            },
            # Allure adds its agent plugin unless the config names it; nothing here is for an agent.
            "agent": {"enabled": False},
        },
    }
    tolerated = tolerated_failures(summary)
    if tolerated:
        rc["resolutions"] = {
            "rules": [{"resolution": "accepted", "testCaseId": tolerated, "comment": TOLERATED_COMMENT}],
            # Allure records "issue" resolutions there (we have none); by default in the caller's working directory.
            "knownIssuesPath": str(report_dir / KNOWN_ISSUES),
        }
    return rc


def _clear_output(output: Path) -> None:
    """Allure writes over the output without removing stale files; remove only a previous report, nothing else."""
    if not output.exists():
        return
    if output.is_dir() and (not any(output.iterdir()) or (output / "index.html").is_file()):
        shutil.rmtree(output)
        return
    raise ReportError(f"{output} exists and is not an Allure report: choose another --output")


def _generate(node: str, cli: Path, report_dir: Path, rc: dict[str, Any], rc_path: Path) -> Path:
    """Run ``allure generate`` with this config; return the index.html it wrote."""
    rc_path.write_text(json.dumps(rc, indent=2) + "\n")
    # The results argument is a glob pattern to Allure: give it a plain name relative to --cwd, so a report
    # dir whose path holds glob characters still works.
    command = [node, str(cli), "generate", "--config", str(rc_path), "--cwd", str(report_dir), RESULTS]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_GENERATE, env={**os.environ, "NO_COLOR": "1"}
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReportError(f"allure generate failed: {exc}", ExitCode.BROKEN) from None
    index = Path(rc["output"]) / "index.html"
    if done.returncode != 0 or not index.is_file():
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise ReportError(f"allure generate failed (exit {done.returncode}): {tail}", ExitCode.BROKEN)
    _without_analytics(index)
    return index


# Allure 3's awesome template loads Google's tag manager and reports to it (the report's id, its version) each time
# a report is opened: a request to a third party from a page a CI artifact or a vendor's laptop opens. Removed.
_ANALYTICS = re.compile(
    r'\s*<script async src="https://www\.googletagmanager\.com/gtag/js\?id=[^"]*"></script>\s*<script>\s*'
    r"window\.dataLayer = window\.dataLayer \|\| \[\];.*?</script>",
    re.S,
)


def _without_analytics(index: Path) -> None:
    text = index.read_text(encoding="utf-8")
    cleaned = _ANALYTICS.sub("", text, count=1)
    if cleaned != text:
        index.write_text(cleaned, encoding="utf-8")


def render(report_dir: Path, output: Path | None = None) -> tuple[Path, Path]:
    """Render REPORT_DIR/allure-results into OUTPUT (default REPORT_DIR/allure-report) and into one
    self-contained file beside it (``allure-report.html``: opens from file://, one CI artifact); return both."""
    report_dir = report_dir.resolve()
    output = (output or report_dir / REPORT).resolve()
    results_dir = report_dir / RESULTS
    if not results_dir.is_dir() or not any(results_dir.glob("*-result.json")):
        raise ReportError(f"no Allure results in {results_dir}: run `cekura-conformance run --report-dir {report_dir}`")
    node, npm = find_tools()
    cli = ensure_allure(npm)
    _clear_output(output)
    single = output.with_name(output.name + ".html")
    if single.exists() and not single.is_file():
        raise ReportError(f"{single} exists and is not a file: choose another --output")
    summary = _summary(report_dir)
    key = _run_key(report_dir)
    kept = _prepare_history(report_dir, key)
    index = _generate(node, cli, report_dir, config(report_dir, output, summary), report_dir / CONFIG)
    if key is not None:
        (report_dir / HISTORY_STAMP).write_text(json.dumps({"run": key, "kept": kept}) + "\n")
    staging = output.with_name(f".{output.name}.single-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        rc = config(report_dir, staging, summary, single_file=True)
        os.replace(_generate(node, cli, report_dir, rc, report_dir / SINGLE_CONFIG), single)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return index, single


def main(report_dir: Path, output: Path | None) -> int:
    try:
        index, single = render(report_dir, output)
    except ReportError as exc:
        print(f"cekura-conformance: {exc}", file=sys.stderr)
        return exc.code
    print(f"Allure report: {index}")
    served = shlex.quote(str(index.parent))
    print(f"  view it over HTTP (browsers block its data on file://): python -m http.server -d {served}")
    size = single.stat().st_size / 1e6
    print(f"  the same report in one file ({size:.1f} MB; opens from file://, one CI artifact): {single}")
    print(f"  history: {report_dir.resolve() / HISTORY} (kept across runs; trends need two or more)")
    return ExitCode.OK
