"""conformance/npmtool.py: a pinned npm tool, installed once from its lock; one error type when it cannot be."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.npmtool import MARKER, NpmTool, NpmToolError


def _tool(tmp_path: Path) -> NpmTool:
    lock_dir = tmp_path / "lock"
    lock_dir.mkdir()
    (lock_dir / "package.json").write_text(json.dumps({"dependencies": {"demo": "1.2.3"}}))
    lock = {"packages": {"node_modules/demo": {"version": "1.2.3"}}}
    (lock_dir / "package-lock.json").write_text(json.dumps(lock))
    return NpmTool("Demo", "demo", lock_dir, tmp_path / "home")


def _plant(tool: NpmTool, digest: str) -> None:
    package = tool.home / "node_modules" / "demo"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"version": "1.2.3", "bin": {"demo": "cli.js"}}))
    (package / "cli.js").write_text("")
    (tool.home / MARKER).write_text(digest + "\n")


def test_an_install_from_the_committed_lock_is_used_as_it_is(tmp_path: Path) -> None:
    tool = _tool(tmp_path)
    assert tool.pinned_version() == "1.2.3" and not tool.installed() and tool.installed_version() is None
    _plant(tool, tool._lock_digest())
    assert tool.installed() and tool.installed_version() == "1.2.3"
    assert tool.ensure(log=pytest.fail) == tool.home / "node_modules" / "demo" / "cli.js"


def test_an_install_from_another_lock_is_not_and_no_npm_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tool = _tool(tmp_path)
    _plant(tool, "another lock")
    assert not tool.installed()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(NpmToolError, match="npm is not on PATH"):
        tool.ensure(log=print)
