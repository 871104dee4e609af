"""The user's own mistakes are configuration errors (exit 2, one line saying what to change, nothing sent or
created); the target's errors on supporting requests are the target's, said once with a count."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from conformance.emulator import Behaviour, create_app
from conformance.emulator.errors import detail
from conformance.engine import preflight
from conformance.engine.errors import ConfigurationError
from conformance.engine.outcomes import Status
from conformance.engine.profiles import get
from conformance.engine.runner import Engine
from conformance.engine.target import Target, TargetConfig
from conformance.engine.verdict import Verdict
from conformance.reporting import console
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY, RunOptions, build
from tests.cli import run_cli
from tests.suite.conftest import Embedded
from tests.threaded import serving


def _one_line_usage_error(proc: Any, *expected: str) -> str:
    """Exit 2, one line on stderr naming what to change, no traceback, no report."""
    output = proc.stdout + proc.stderr
    assert proc.returncode == 2, output[-3000:]
    assert "Traceback" not in output
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return str(lines[0])


# -- the embedded target and the environment -------------------------------------------------------------


def test_the_embedded_target_ignores_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CEKURA_API_KEY", "junk-from-a-ci-job")
    monkeypatch.setenv("CEKURA_OTHER_API_KEY", "other-junk-from-a-ci-job")
    embedded = build(RunOptions(report_dir=tmp_path)).target
    assert (embedded.api_key, embedded.other_api_key) == (EMBEDDED_KEY, EMBEDDED_OTHER_KEY)
    explicit = build(RunOptions(api_key="given-key", report_dir=tmp_path)).target
    assert explicit.api_key == "given-key"  # an explicit --api-key still applies
    remote = build(RunOptions(base_url="http://127.0.0.1:9", report_dir=tmp_path)).target
    assert (remote.api_key, remote.other_api_key) == ("junk-from-a-ci-job", "other-junk-from-a-ci-job")


# -- the user's mistakes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--metric-id", "999999"], ["--metric-id 999999", "lists 1, 2"]),
        (["--api-key", "not-a-key-of-anyone"], ["refused the API key", "--api-key"]),
        (["--other-api-key", "not-a-key-of-anyone"], ["refused the other API key", "--other-api-key"]),
    ],
    ids=["unknown-metric-id", "refused-key", "refused-other-key"],
)
def test_a_mistake_the_preflight_finds_exits_2_with_one_line(
    tmp_path: Path, args: list[str], expected: list[str]
) -> None:
    reports = tmp_path / "reports"
    proc = run_cli("run", *args, "--report-dir", str(reports))
    _one_line_usage_error(proc, *expected)
    assert not (reports / "summary.json").exists()


def test_a_report_dir_that_is_a_file_exits_2_before_anything_is_sent(tmp_path: Path) -> None:
    afile = tmp_path / "reports"
    afile.write_text("not a directory")
    _one_line_usage_error(run_cli("run", "--report-dir", str(afile)), "is a file", "--report-dir")
    with pytest.raises(ConfigurationError, match="is a file"):
        build(RunOptions(report_dir=afile / "inner"))
    assert afile.read_text() == "not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_report_dir_exits_2(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ConfigurationError, match="not writable"):
            build(RunOptions(report_dir=locked / "reports"))
    finally:
        locked.chmod(0o700)


def test_the_emulators_missing_or_invalid_seed_file_exits_2(tmp_path: Path) -> None:
    _one_line_usage_error(run_cli("emulator", "--seed-file", str(tmp_path / "nope.yaml")), "does not exist")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tenants: 3\n")
    _one_line_usage_error(run_cli("emulator", "--seed-file", str(bad)), "not a valid seed", "tenants")


# -- a base URL with no API under it ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def emulator_at_root_and_under_api() -> Iterator[tuple[str, str]]:
    """The emulator served at a host's root, and another mounted under /api."""
    mounted = Starlette(routes=[Mount("/api", app=create_app())])
    with serving(create_app()) as root, serving(mounted) as other:
        yield root, other


def test_a_wrong_path_prefix_exits_2_and_suggests_the_one_that_answers(
    emulator_at_root_and_under_api: tuple[str, str], tmp_path: Path
) -> None:
    root, _ = emulator_at_root_and_under_api
    proc = run_cli("run", "--base-url", root + "/api", "--api-key", EMBEDDED_KEY, "--report-dir", str(tmp_path))
    line = _one_line_usage_error(proc, "does not answer as the Cekura API", "answered 404")
    assert line.endswith(f"the API answers under {root}: use --base-url {root}"), line


@pytest.mark.parametrize(
    ("server", "path", "suggested"),
    [(0, "/api/v2", ""), (0, "/x", ""), (1, "", "/api"), (1, "/api/v1", "/api")],
    ids=["two-segments-too-many", "another-prefix", "missing-prefix", "one-segment-too-many"],
)
def test_the_prefix_probe_finds_where_the_api_answers(
    emulator_at_root_and_under_api: tuple[str, str], server: int, path: str, suggested: str
) -> None:
    host = emulator_at_root_and_under_api[server]
    config = TargetConfig(base_url=host + path, api_key=EMBEDDED_KEY)
    with pytest.raises(ConfigurationError) as raised:
        preflight.check(config)
    assert str(raised.value).endswith(f"use --base-url {host + suggested}"), raised.value
    preflight.check(replace(config, base_url=host + suggested))  # and there it answers


def test_with_no_api_anywhere_it_says_which_url_answered_what(tmp_path: Path) -> None:
    async def not_found(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 404, "headers": [(b"content-type", b"text/html")]})
        await send({"type": "http.response.body", "body": b"<h1>Not Found</h1>"})

    with serving(not_found) as url:
        proc = run_cli("run", "--base-url", url + "/x", "--api-key", "k-123456", "--report-dir", str(tmp_path))
    line = _one_line_usage_error(proc, f"GET {url}/x/test_framework/v1/metrics/ answered 404 (text/html)")
    assert f"nor under {url}, {url}/x/api" in line


# -- the target's errors: never blamed on the user, said once --------------------------------------------


class MetricsListBroken(Behaviour):
    async def metrics_v1_list(self, tenant: Any, request: Any) -> Any:
        raise detail(500, "server_error")


def test_an_unavailable_metrics_list_does_not_accuse_the_metric_id() -> None:
    with Target(Embedded(MetricsListBroken, metric_id=999999).config) as target:
        found = preflight.run(target)
    assert found.metrics == [{"id": 999999, "name": None}]
    assert "not checked" in found.metric_note and "answered 500" in found.metric_note
    assert found.target_errors == [
        "GET /test_framework/v1/metrics/ answered 500 during preflight: no metric could be discovered"
    ]


def test_a_metric_id_not_in_the_list_is_the_users_mistake() -> None:
    with Target(Embedded(metric_id=3).config) as target, pytest.raises(ConfigurationError, match="lists 1, 2"):
        preflight.run(target)  # 3 is the other tenant's metric


class WidgetCreateBroken(Behaviour):
    def create_widget(self, tenant: Any, values: Any) -> int:
        raise detail(500, "server_error")


@pytest.fixture(scope="module")
def broken_creates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any]]:
    reports = tmp_path_factory.mktemp("broken-creates")
    with serving(create_app(behaviour=WidgetCreateBroken)) as url:
        proc = run_cli(
            *("run", "--base-url", url, "--api-key", EMBEDDED_KEY, "--other-api-key", EMBEDDED_OTHER_KEY),
            *("--seed", "4", "--report-dir", str(reports)),
        )
    return proc, json.loads((reports / "summary.json").read_text())


def test_a_5xx_on_fixture_creation_is_stated_once_with_a_count(broken_creates: tuple[Any, dict[str, Any]]) -> None:
    proc, summary = broken_creates
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    [line] = summary["target_errors"]
    assert line.startswith("POST /dashboards/widgets/ answered 500 for ")
    assert " fixtures: " in line and line.endswith(" requirements could not be judged")
    assert proc.stdout.count("POST /dashboards/widgets/ answered 500 for") == 2  # up front, and in the verdict
    assert proc.stdout.index(f"target error: {line}") < proc.stdout.index("requirement  ")
    assert "FixtureError" not in proc.stdout + proc.stderr
    assert summary["verdict"] == Verdict.NO_VERDICT and "answered 500 for" in summary["verdict_line"]


def test_cases_stopped_by_the_target_are_errored_by_the_target(broken_creates: tuple[Any, dict[str, Any]]) -> None:
    _, summary = broken_creates
    errored = [r for r in summary["requirements"] if r["status"] == Status.ERRORED]
    assert errored, "the widget fixtures could not be created"
    for req in errored:
        assert req["reason"] == "not judged: POST /dashboards/widgets/ answered 500 (the target's error)"
        causes = {c["target_error"] for c in req["cases"] if c["status"] == Status.ERRORED}
        assert causes == {"POST /dashboards/widgets/ answered 500"}, req["id"]
    unjudged = int(summary["target_errors"][0].split(": ")[1].split()[0])
    assert unjudged == len(errored)
    assert console.target_errors(summary) == f"target error: {summary['target_errors'][0]}"


def test_a_failed_must_still_decides_when_the_target_also_refused_fixtures(embedded: Any) -> None:
    class DashboardCreateBrokenAndAuthIgnored(Behaviour):
        def create_dashboard(self, tenant: Any, values: Any) -> int:
            raise detail(500, "server_error")

        def authenticate(self, key: str | None) -> Any:
            return self.store.tenant_by_key(EMBEDDED_KEY)

    target = embedded(DashboardCreateBrokenAndAuthIgnored)
    with Engine(target.config, get("quick"), seed=3) as engine:
        engine.preflight()
        for requirement in engine.catalogue.requirements:
            engine.run_requirement(requirement)
    judgement = engine.result.judgement
    assert judgement.verdict is Verdict.NOT_CONFORMANT and "WPATCH-AUTH-01" in judgement.failed
    assert judgement.errored, "requirements needing a dashboard could not be judged"
    assert engine.result.target_errors()[0].startswith("POST /dashboards/dashboards/ answered 500 for ")
