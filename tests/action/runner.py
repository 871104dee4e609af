"""action.yml's steps run as GitHub's runner runs a composite action, on this machine, for the tests.

Inputs take their defaults; ``${{ inputs.* }}``, ``${{ steps.<id>.outputs.* }}`` and ``${{ github.action_path }}``
are substituted (any other expression is an error: the action keeps to these); each ``run`` step gets its own
``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY`` files and runs as ``bash --noprofile --norc -eo pipefail FILE``
in the workspace; after a failing step only the steps whose ``if`` says ``always()`` run. ``uses`` steps
(actions/setup-python) are left to the test's own interpreter; a step named in ``given`` is not run and its
outputs are taken as given.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_RUNNER_VARIABLES = ("CEKURA_", "GITHUB_", "RUNNER_", "INPUT_")


def load() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


@dataclass
class StepRun:
    id: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str


@dataclass
class ActionRun:
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def returncode(self) -> int:
        return next((s.returncode for s in self.steps if s.returncode != 0), 0)

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(s.stderr for s in self.steps)

    @property
    def summary(self) -> str:
        return "".join(s.summary for s in self.steps)

    def step(self, sid: str) -> StepRun:
        return next(s for s in self.steps if s.id == sid)


def read_output_file(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` heredocs, as the runner reads ``$GITHUB_OUTPUT``."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index)
            values[name] = "\n".join(lines[index:end])
            index = end + 1
        else:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def _expand(text: str, context: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        parts = expression.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            return str(context["inputs"][parts[1]])
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return str(context["steps"].get(parts[1], {}).get(parts[3], ""))
        if expression == "github.action_path":
            return str(ROOT)
        raise AssertionError(f"expression the test runner does not know: {expression}")

    return _EXPRESSION.sub(value, text)


_ALWAYS_IF_OUTPUT = re.compile(r"always\(\) && steps\.([\w-]+)\.outputs\.(\w+) != ''")


def _should_run(condition: str | None, context: Mapping[str, Any], failed: bool) -> bool:
    """GitHub's default ``success()``, or the one other condition the action uses: ``always()`` with an output set."""
    if condition is None:
        return not failed
    found = _ALWAYS_IF_OUTPUT.fullmatch(condition.strip())
    assert found, f"a step condition the test runner does not know: {condition}"
    return bool(context["steps"].get(found.group(1), {}).get(found.group(2), ""))


def run_action(
    inputs: Mapping[str, str],
    tmp: Path,
    *,
    given: Mapping[str, Mapping[str, str]] | None = None,
    path: str | None = None,
    timeout: float = 300,
) -> ActionRun:
    action = load()
    declared = action["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs action.yml does not declare: {unknown}"
    context: dict[str, Any] = {
        "inputs": {name: inputs.get(name, spec.get("default", "")) for name, spec in declared.items()},
        "steps": {sid: dict(outs) for sid, outs in (given or {}).items()},
    }
    workspace, temp = tmp / "workspace", tmp / "runner-temp"
    workspace.mkdir(parents=True, exist_ok=True)
    temp.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(_RUNNER_VARIABLES)}
    base.update(
        CI="true",
        GITHUB_ACTIONS="true",
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(temp),
    )
    if path is not None:
        base["PATH"] = path
    bash = shutil.which("bash")
    assert bash is not None
    result = ActionRun()
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id", f"step-{index}")
        if "uses" in step or sid in context["steps"]:
            continue
        if not _should_run(step.get("if"), context, failed):
            continue
        assert step.get("shell") == "bash"
        output, summary, script = (tmp / f"{sid}.{name}" for name in ("output", "summary.md", "sh"))
        for file in (output, summary):
            file.write_text("")
        script.write_text(_expand(step["run"], context))
        env = dict(base, GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
        env.update({name: _expand(str(value), context) for name, value in (step.get("env") or {}).items()})
        done = subprocess.run(
            [bash, "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        outs = read_output_file(output.read_text())
        context["steps"][sid] = outs
        result.steps.append(StepRun(sid, done.returncode, done.stdout, done.stderr, outs, summary.read_text()))
        failed = failed or done.returncode != 0
    result.outputs = {name: _expand(str(spec["value"]), context) for name, spec in action["outputs"].items()}
    return result
