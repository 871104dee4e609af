"""The GitHub Action (action.yml): its interface in Cekura's style, and its steps run as the runner runs them."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from conformance import github_action
from conformance.reporting import github
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY
from tests.action.runner import ROOT, load, read_output_file, run_action
from tests.served import Served, seed_with_keys

KEY_A = "SENTINEL-ACTION-KEY-ALPHA-5e1f"
KEY_B = "SENTINEL-ACTION-KEY-BRAVO-93d0"
OUTPUTS = {"verdict", "conformant", "level", "must_failed", "exit_code", "summary_file", "report_dir"}
# The test's own interpreter stands in for the install step (tested on its own below) and setup-python.
INSTALLED = {"install": {"python": sys.executable}}


def _seed(path: Path) -> Path:
    return seed_with_keys(path, KEY_A, KEY_B)


def _no_key_anywhere(*texts: str) -> None:
    for text in texts:
        for line in text.splitlines():
            if line.startswith("::add-mask::"):
                continue  # the one place a key belongs: asking the runner to mask it
            assert KEY_A not in line and KEY_B not in line, line


def _errors(stdout: str) -> dict[str, list[str]]:
    """``::error`` annotations by title."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(r"^::error title=([^:]*)::(.*)$", stdout, re.M):
        found.setdefault(match.group(1), []).append(match.group(2))
    return found


# The interface -------------------------------------------------------------------------------------------------


def test_action_yml_has_cekuras_conventions() -> None:
    action = load()
    inputs, outputs = action["inputs"], action["outputs"]
    assert action["runs"]["using"] == "composite"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in [*inputs, *outputs]), "snake_case names"
    assert inputs["api_key"]["required"] is True and inputs["api_url"]["required"] is True
    assert "default" not in inputs["api_url"], "no default target: the staging URL is the caller's"
    defaults = {name: spec.get("default") for name, spec in inputs.items()}
    expected = {"profile": "quick", "report_dir": "reports", "render_html": "true", "python_version": "3.11"}
    assert {name: defaults[name] for name in expected} == expected
    assert defaults["allow_production"] == "false"
    assert set(inputs) == {
        "api_key",
        "other_api_key",
        "api_url",
        "allow_production",
        "profile",
        "revision",
        "metric_id",
        "concurrency",
        "max_rps",
        "seed",
        "report_dir",
        "render_html",
        "python_version",
    }
    assert set(outputs) == OUTPUTS
    for name, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    steps = action["runs"]["steps"]
    for step in steps:
        if "run" in step:
            assert step["shell"] == "bash"
            # Inputs reach the scripts through env only: an input can never become shell code.
            assert "${{" not in step["run"], step["run"]
    run = next(s for s in steps if s.get("id") == "run")
    assert run["run"].startswith("exec "), "the run step execs, so the cancellation signal reaches the run"
    # Every input the run step needs is handed over (api_key and other_api_key under the names the CLI reads).
    handed = " ".join(str(v) for v in run["env"].values())
    for name in set(inputs) - {"python_version"}:
        assert f"inputs.{name} }}" in handed, name


def test_every_input_and_output_is_documented_in_docs_ci_md() -> None:
    docs = (ROOT / "docs" / "ci.md").read_text()
    action = load()
    for kind in ("inputs", "outputs"):
        for name, spec in action[kind].items():
            assert spec.get("description"), f"{kind} {name} has no description in action.yml"
            assert re.search(rf"^\| `{name}` \|", docs, re.M), f"docs/ci.md does not document {kind[:-1]} {name}"
    # docs/ci.md leads with the action, and keeps the plain-command recipes.
    first = docs.index("## ")
    assert docs[first:].startswith("## GitHub Actions")
    assert "uses: " in docs[first : docs.index("## ", first + 3)]
    assert "## GitLab CI" in docs and "junit.xml" in docs[docs.index("## GitLab CI") :]


# The steps, as the runner runs them ----------------------------------------------------------------------------


def test_the_install_step_installs_the_actions_checkout_into_a_venv_of_its_own(tmp_path: Path) -> None:
    # A stand-in python3 records what it is asked: a real install needs the package index and a minute.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    stub = f"""#!/bin/sh
echo "$0 $*" >> {log}
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin" && cp "$0" "$3/bin/python"
fi
if [ "$1" = "-P" ]; then echo "cekura-conformance 0.0.0"; fi
exit 0
"""
    python3 = bin_dir / "python3"
    python3.write_text(stub)
    python3.chmod(0o755)
    done = run_action({"api_key": KEY_A, "api_url": "http://127.0.0.1:9"}, tmp_path, path=f"{bin_dir}:/usr/bin:/bin")
    install = done.step("install")
    assert install.returncode == 0, install.stderr
    venv = tmp_path / "runner-temp" / "cekura-widget-conformance"
    assert install.outputs == {"python": f"{venv}/bin/python"}
    calls = log.read_text().splitlines()
    assert f"{python3} -m venv {venv}" in calls
    assert f"{venv}/bin/python -m pip install --quiet --disable-pip-version-check {ROOT}" in calls


def test_against_the_emulator_the_action_passes(tmp_path: Path) -> None:
    server = Served("--seed-file", str(_seed(tmp_path / "seed.yaml")))
    try:
        # No Node.js on PATH: the HTML report is not rendered, the step says so, and passes.
        empty = tmp_path / "empty-path"
        empty.mkdir()
        done = run_action(
            {"api_key": KEY_A, "other_api_key": KEY_B, "api_url": server.url, "seed": "20260101"},
            tmp_path,
            given=INSTALLED,
            path=str(empty),
        )
    finally:
        server.stop()
    step = done.step("run")
    assert done.returncode == 0, step.stdout[-3000:] + step.stderr[-3000:]
    reports = tmp_path / "workspace" / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    # The verdict word comes from summary.json, as the run computed it.
    assert done.outputs["verdict"] == summary["verdict"] == "conformant"
    assert done.outputs["conformant"] == "true"
    assert done.outputs["exit_code"] == "0"
    assert done.outputs["must_failed"] == "" and done.outputs["level"] == ""
    assert done.outputs["report_dir"] == str(reports)
    assert Path(done.outputs["summary_file"]) == reports / "summary.md"
    markdown = (reports / "summary.md").read_text()
    assert markdown == step.summary and markdown.startswith("## Cekura widget conformance: ")
    assert not _errors(step.stdout)
    assert "::notice title=HTML report not rendered::" in step.stdout and "Node.js" in step.stdout
    assert step.stdout.count(f"::add-mask::{KEY_A}") == 1 and step.stdout.count(f"::add-mask::{KEY_B}") == 1
    _no_key_anywhere(step.stdout, step.stderr, markdown, json.dumps(done.outputs))


def test_against_a_faulty_variant_the_action_fails_naming_the_broken_requirement(tmp_path: Path) -> None:
    # frozen_updated_at: updated_at never advances; WPATCH-TS-01 (a MUST) catches it.
    server = Served("--seed-file", str(_seed(tmp_path / "seed.yaml")), variant="frozen_updated_at")
    try:
        done = run_action(
            {
                "api_key": KEY_A,
                "other_api_key": KEY_B,
                "api_url": server.url,
                "seed": "20260101",
                "render_html": "false",
            },
            tmp_path,
            given=INSTALLED,
        )
    finally:
        server.stop()
    step = done.step("run")
    assert done.returncode == 1, step.stdout[-3000:] + step.stderr[-3000:]
    summary = json.loads((tmp_path / "workspace" / "reports" / "summary.json").read_text())
    assert done.outputs["verdict"] == summary["verdict"] == "not-conformant"
    assert done.outputs["conformant"] == "false" and done.outputs["exit_code"] == "1"
    failed = done.outputs["must_failed"].split(",")
    assert "WPATCH-TS-01" in failed
    errors = _errors(step.stdout)
    assert sorted(errors) == sorted(failed), "one ::error per failed MUST, titled with its id"
    assert all(len(messages) == 1 for messages in errors.values())
    assert "updated_at" in errors["WPATCH-TS-01"][0]
    assert "WPATCH-TS-01" in step.summary.split("### MUST requirements that failed")[1]
    assert "HTML report" not in step.stdout
    _no_key_anywhere(step.stdout, step.stderr, step.summary, json.dumps(done.outputs))


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"api_key": "", "api_url": "https://staging.example"}, "api_key is empty"),
        ({"api_key": KEY_A, "api_url": "https://api.cekura.ai"}, "api.cekura.ai"),
    ],
    ids=["empty-key", "production-refused"],
)
def test_a_configuration_error_fails_the_step_with_exit_2_and_says_why(
    tmp_path: Path, inputs: dict[str, str], reason: str
) -> None:
    # A summary.json left by an earlier run in the same report dir must not lend this one its results.
    reports = tmp_path / "workspace" / "reports"
    reports.mkdir(parents=True)
    old = {"verdict": "conformant", "conformant": True, "exit_code": 0, "requirements": []}
    (reports / "summary.json").write_text(json.dumps(old))
    done = run_action(inputs, tmp_path, given=INSTALLED)
    step = done.step("run")
    assert done.returncode == 2, step.stdout + step.stderr
    assert done.outputs["verdict"] == "no-verdict" and done.outputs["conformant"] == "false"
    assert done.outputs["exit_code"] == "2" and done.outputs["must_failed"] == ""
    errors = _errors(step.stdout)
    assert list(errors) == ["Configuration error"] and reason in errors["Configuration error"][0]
    assert "no verdict" in step.summary and reason in step.summary
    _no_key_anywhere(step.stdout, step.stderr, step.summary)


# The pieces ----------------------------------------------------------------------------------------------------


def _inputs(**given: str) -> github_action.Inputs:
    env = {"CEKURA_API_KEY": KEY_A, "INPUT_API_URL": "https://staging.example"}
    env.update({f"INPUT_{k.upper()}": v for k, v in given.items()})
    return github_action.Inputs.from_env(env)


def test_optional_flags_are_passed_only_when_their_input_is_set() -> None:
    plain = _inputs().command_line()
    assert plain == ["run", "--base-url", "https://staging.example", "--report-dir", "reports", "--profile", "quick"]
    full = _inputs(
        profile="full",
        revision="live",
        concurrency="8",
        max_rps="2.5",
        metric_id="3",
        seed="7",
        allow_production="true",
    )
    assert full.command_line()[7:] == [
        "--metric-id",
        "3",
        "--seed",
        "7",
        "--revision",
        "live",
        "--concurrency",
        "8",
        "--max-rps",
        "2.5",
        "--allow-production",
    ]
    certify = _inputs(profile="certify", seed="7").command_line()
    assert certify[0] == "certify" and "--profile" not in certify and "--seed" not in certify
    assert all(KEY_A not in arg for arg in full.command_line() + certify), "keys travel in the environment only"


def test_inputs_are_checked_before_anything_runs() -> None:
    assert _inputs().problems() == []
    problems = _inputs(profile="fast", seed="x1", render_html="yes", max_rps="0").problems()
    assert any("profile must be one of quick, full, certify" in p for p in problems)
    assert any("seed must be a whole number" in p for p in problems)
    assert any("render_html must be 'true' or 'false'" in p for p in problems)
    assert any("max_rps must be a positive number" in p for p in problems)
    assert _inputs(max_rps="nan").problems() and _inputs(max_rps="fast").problems()


def test_the_level_output_reads_the_certificate(tmp_path: Path) -> None:
    inputs = _inputs(profile="certify", report_dir=str(tmp_path))
    summary = {"verdict": "conformant", "conformant": True, "requirements": []}
    assert github_action.outputs(inputs, 0, summary, tmp_path / "s.md")["level"] == "none"
    (tmp_path / "certificate.json").write_text(json.dumps({"level": "Full"}))
    assert github_action.outputs(inputs, 0, summary, tmp_path / "s.md")["level"] == "full"
    assert github_action.outputs(_inputs(report_dir=str(tmp_path)), 0, summary, tmp_path / "s.md")["level"] == ""


def test_annotations_escape_what_the_target_sent() -> None:
    reason = "50% of it:\nline two, with a comma"
    summary = {
        "verdict": "not-conformant",
        "requirements": [{"id": "WPATCH-RO-01", "level": "MUST", "status": "failed", "title": "t", "reason": reason}],
    }
    [line] = github_action.error_annotations(summary, 1)
    assert line == "::error title=WPATCH-RO-01::t: 50%25 of it:%0Aline two, with a comma"
    assert github.command("error", "m", title="a:b,c") == "::error title=a%3Ab%2Cc::m"


def test_multiline_outputs_use_a_heredoc_the_runner_reads_back() -> None:
    values = {"one": "plain", "two": "first\nsecond", "three": ""}
    assert read_output_file(github.output_lines(values)) == values


def test_the_last_step_deletes_what_a_killed_run_left(tmp_path: Path) -> None:
    from tests.suite.test_interruption import KEYS, left_on, start_and_wait

    server = Served()
    try:
        reports = tmp_path / "workspace" / "reports"
        killed = start_and_wait("--base-url", server.url, *KEYS, report_dir=reports, objects=4)
        killed.kill()  # SIGKILL: the run could not clean up; its ledger stays
        killed.communicate()
        assert left_on(server.url), "the killed run left objects behind"
        # The run step ended without a verdict (the job was killed during it): only the always() step runs.
        given = {**INSTALLED, "run": {"exit_code": "3"}}
        done = run_action(
            {"api_key": EMBEDDED_KEY, "other_api_key": EMBEDDED_OTHER_KEY, "api_url": server.url}, tmp_path, given=given
        )
        assert left_on(server.url) == []
    finally:
        server.stop()
    [cleanup] = done.steps
    assert cleanup.returncode == 0 and "nothing left on the target" in cleanup.stdout, cleanup.stdout + cleanup.stderr
    assert "::warning" not in cleanup.stdout


def test_the_last_step_finds_nothing_to_do_without_a_ledger(tmp_path: Path) -> None:
    done = run_action({"api_key": KEY_A, "api_url": "http://127.0.0.1:9"}, tmp_path, given={**INSTALLED, "run": {}})
    [cleanup] = done.steps
    assert cleanup.returncode == 0 and "no ledger" in cleanup.stdout
