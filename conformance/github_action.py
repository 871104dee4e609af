"""The GitHub Action's run step (``action.yml``): inputs from the environment, the run, then what GitHub shows.

The step ``exec``s this module, so the signal GitHub sends on cancellation reaches the run itself, which runs
in this process. After the run: the outputs, the Markdown summary (job summary and ``summary_file``), one
``::error`` annotation per failed MUST requirement, and the HTML report when Node.js allows (never failing the
step for it). The step's exit code is the run's: 0 conformant, 1 a MUST failed, 2 a usage or configuration
error, 3 no verdict.

Inputs arrive as ``INPUT_<NAME>`` variables (as GitHub names them for other kinds of actions); the keys as
``CEKURA_API_KEY`` and ``CEKURA_OTHER_API_KEY``, where the run reads them, so they never appear on a command line.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import sys
import tempfile
import traceback
from collections.abc import Mapping
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from conformance.reporting import github, markdown, run_facts

PROFILES = ("quick", "full", "certify")
SUMMARY_FILE = "summary.md"
EXIT_USAGE = 2
EXIT_NO_VERDICT = 3


@dataclass(frozen=True)
class Inputs:
    api_key: str
    other_api_key: str
    api_url: str
    profile: str
    revision: str
    metric_id: str
    concurrency: str
    max_rps: str
    seed: str
    report_dir: str
    render_html: str
    allow_production: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        def get(name: str, default: str = "") -> str:
            return env.get(f"INPUT_{name.upper()}", default).strip() or default

        return cls(
            api_key=env.get("CEKURA_API_KEY", "").strip(),
            other_api_key=env.get("CEKURA_OTHER_API_KEY", "").strip(),
            api_url=get("api_url"),
            profile=get("profile", "quick"),
            revision=get("revision"),
            metric_id=get("metric_id"),
            concurrency=get("concurrency"),
            max_rps=get("max_rps"),
            seed=get("seed"),
            report_dir=get("report_dir", "reports"),
            render_html=get("render_html", "true").lower(),
            allow_production=get("allow_production", "false").lower(),
        )

    @property
    def certify(self) -> bool:
        return self.profile == "certify"

    def problems(self) -> list[str]:
        """What stops the run before it starts, each a sentence saying what to change."""
        found = []
        if not self.api_key:
            found.append(
                "api_key is empty: is the secret set, and is this a pull request from a fork "
                "(whose workflows get no secrets)?"
            )
        if not self.api_url:
            found.append("api_url is empty: give the URL of the deployment under test, e.g. your staging API")
        if self.profile not in PROFILES:
            found.append(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        for name in ("metric_id", "concurrency", "seed"):
            value = getattr(self, name)
            if value and not value.isdigit():
                found.append(f"{name} must be a whole number, got {value!r}")
        if self.max_rps and not _positive_number(self.max_rps):
            found.append(f"max_rps must be a positive number of requests per second, got {self.max_rps!r}")
        for name in ("render_html", "allow_production"):
            if getattr(self, name) not in ("true", "false"):
                found.append(f"{name} must be 'true' or 'false', got {getattr(self, name)!r}")
        return found

    def command_line(self) -> list[str]:
        """``cekura-conformance`` arguments; optional flags only when their input is set (so older suites run)."""
        argv = ["certify" if self.certify else "run", "--base-url", self.api_url, "--report-dir", self.report_dir]
        if not self.certify:
            argv += ["--profile", self.profile]
        for flag, value in (
            ("--metric-id", self.metric_id),
            ("--seed", "" if self.certify else self.seed),
            ("--revision", self.revision),
            ("--concurrency", self.concurrency),
            ("--max-rps", self.max_rps),
        ):
            if value:
                argv += [flag, value]
        if self.allow_production == "true":
            argv.append("--allow-production")
        return argv


def _positive_number(text: str) -> bool:
    try:
        return float(text) > 0 and text.strip().lower() not in ("inf", "infinity", "nan")
    except ValueError:
        return False


class _Tee:
    """``sys.stderr`` that also keeps the last lines written: the reason of a usage error, for its annotation."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.lines: collections.deque[str] = collections.deque(maxlen=20)

    def write(self, text: str) -> int:
        self.lines.extend(line for line in text.splitlines() if line.strip())
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def reason(self) -> str:
        """The last line the CLI addressed to the user (``cekura-conformance: ...`` or argparse's ``error:``)."""
        for line in reversed(self.lines):
            if line.startswith("cekura-conformance") and ": " in line:
                return line.split(": ", 1)[1].removeprefix("error: ")
        return ""


def run(argv: list[str], tee: _Tee) -> tuple[int, bool]:
    """The suite, in this process; (exit code, interrupted before it could answer)."""
    from conformance.cli import main as cli_main

    try:
        with redirect_stderr(tee):
            return int(cli_main(argv)), False
    except SystemExit as exc:  # argparse refusing an option this suite does not know
        return (exc.code if isinstance(exc.code, int) else EXIT_USAGE), False
    except KeyboardInterrupt:
        return EXIT_NO_VERDICT, True
    except Exception:
        traceback.print_exc()
        return EXIT_NO_VERDICT, False


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def certificate_level(report_dir: Path) -> str:
    """``full``, ``core`` or ``none``, from certificate.json (older ones wrote ``Full``, ``Core``, ``None``)."""
    cert = _read_json(report_dir / "certificate.json") or {}
    level = str(cert.get("level") or "none").lower()
    return level if level in ("full", "core", "none") else "none"


def outputs(
    inputs: Inputs, code: int, summary: Mapping[str, Any] | None, summary_file: Path, *, interrupted: bool = False
) -> dict[str, str]:
    report_dir = Path(inputs.report_dir).resolve()
    if summary is not None:
        word = run_facts.verdict(summary)
        failed = run_facts.must(summary).failed
    else:
        word, failed = ("interrupted" if interrupted else run_facts.NO_VERDICT), ()
    return {
        "verdict": word,
        "conformant": "true" if summary is not None and summary.get("conformant") is True and code == 0 else "false",
        "level": certificate_level(report_dir) if inputs.certify else "",
        "must_failed": ",".join(failed),
        "exit_code": str(code),
        "summary_file": str(summary_file),
        "report_dir": str(report_dir),
    }


def error_annotations(summary: Mapping[str, Any] | None, code: int, reason: str = "") -> list[str]:
    """One ``::error`` per failed MUST (title: its id); one for a run that reached no verdict or never started."""
    if code == EXIT_USAGE:
        return [
            github.command(
                "error", reason or "a usage or configuration error (see the log)", title="Configuration error"
            )
        ]
    if summary is None:
        if code == 0:
            return []
        return [github.command("error", reason or f"the run wrote no summary.json (exit {code})", title="No verdict")]
    by_id = {str(r["id"]): r for r in run_facts.requirements(summary)}
    must = run_facts.must(summary)
    lines = []
    for rid in must.failed:
        req = by_id.get(rid, {})
        lines.append(github.command("error", f"{req.get('title', rid)}: {req.get('reason', '')}", title=rid))
    word = run_facts.verdict(summary)
    if code == EXIT_NO_VERDICT or (run_facts.has_verdict(summary) and word in ("no-verdict", "interrupted")):
        why = summary.get("fatal") or (
            f"MUST requirements could not be judged: {', '.join(must.errored)}"
            if must.errored
            else "no MUST was judged"
        )
        lines.append(github.command("error", str(why), title="Interrupted" if word == "interrupted" else "No verdict"))
    return lines


def _write_summary_file(report_dir: Path, text: str) -> Path:
    """REPORT_DIR/summary.md, uploaded with the reports; the runner's temp dir if the report dir is unusable."""
    for folder in (report_dir, Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / SUMMARY_FILE
            path.write_text(text, encoding="utf-8")
            return path.resolve()
        except OSError:
            continue
    raise OSError(f"cannot write {SUMMARY_FILE} into {report_dir} nor the temp dir")


def render_html(report_dir: Path) -> None:
    """The Allure HTML report when Node.js 20.19+ is there; says why not otherwise, and never fails the step."""
    from conformance.reporting import allure_html

    if not any((report_dir / allure_html.RESULTS).glob("*-result.json")):
        print("HTML report: no Allure results to render")
        return
    try:
        allure_html.find_tools()
    except allure_html.ReportError as exc:
        print(
            github.command("notice", f"{exc}. Add actions/setup-node to render it.", title="HTML report not rendered")
        )
        return
    code = allure_html.main(report_dir, None)
    if code != 0:
        print(
            github.command(
                "warning",
                f"cekura-conformance report exited {code}; summary.json and junit.xml hold the results",
                title="HTML report not rendered",
            )
        )


def _scrub(text: str, keys: tuple[str, ...]) -> str:
    # summary.json is scrubbed by the run already; this keeps any key out of what GitHub shows, whatever happens.
    from conformance.engine.redact import Scrubber

    return Scrubber(keys)(text)


def main() -> int:
    env = os.environ
    inputs = Inputs.from_env(env)
    keys = tuple(k for k in (inputs.api_key, inputs.other_api_key) if k)
    for key in keys:
        print(github.command("add-mask", key), flush=True)
    report_dir = Path(inputs.report_dir)
    # A report dir reused from an earlier run must not lend this run its verdict or level.
    for stale in ("summary.json", "certificate.json") if inputs.certify else ("summary.json",):
        if (report_dir / stale).is_file():
            (report_dir / stale).unlink()

    problems = inputs.problems()
    interrupted = False
    tee = _Tee(sys.stderr)
    if problems:
        for problem in problems:
            print(f"cekura-conformance: {problem}", file=sys.stderr)
        code, reason = EXIT_USAGE, "; ".join(problems)
    else:
        argv = inputs.command_line()
        if inputs.certify and inputs.seed:
            print(github.command("warning", "the certify profile runs with its own fixed seed; seed is ignored"))
        print("cekura-conformance " + shlex.join(argv), flush=True)
        code, interrupted = run(argv, tee)
        reason = tee.reason()

    summary = _read_json(report_dir / "summary.json")
    if summary is not None:
        text = markdown.render(summary)
    else:
        text = markdown.without_summary(code, reason, interrupted=interrupted)
    text = _scrub(text, keys)
    summary_file = _write_summary_file(report_dir, text)
    github.append(env.get("GITHUB_STEP_SUMMARY"), text)
    values = outputs(inputs, code, summary, summary_file, interrupted=interrupted)
    github.append(env.get("GITHUB_OUTPUT"), _scrub(github.output_lines(values), keys))
    for line in error_annotations(summary, code, reason):
        print(_scrub(line, keys))
    print(f"verdict={values['verdict']} conformant={values['conformant']} exit code {code}", flush=True)

    # Only this run's results (a summary says it wrote them), and not while the job is being cancelled.
    if inputs.render_html == "true" and summary is not None and values["verdict"] != "interrupted":
        render_html(report_dir)
    return code


if __name__ == "__main__":
    sys.exit(main())
