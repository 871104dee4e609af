"""The command line as users run it: exit codes, reports written, refusal of bad configurations."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from conformance import contract
from conformance.engine.catalogue import default as catalogue
from tests.cli import clean_env, run_cli

ROOT = Path(__file__).resolve().parents[2]


run = run_cli


def test_quick_run_against_the_embedded_emulator_writes_every_report(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    proc = run("run", "--profile", "quick", "--seed", "11", "--report-dir", str(reports), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    musts = sum(r.counts_for_conformance for r in catalogue().for_revision("seed").requirements)
    assert f"\nCONFORMANT: all {musts} judged MUST requirements passed" in proc.stdout
    summary = json.loads((reports / "summary.json").read_text())
    for key in ("suite_version", "contract", "target", "profile", "seed", "started_at", "finished_at", "totals"):
        assert key in summary
    seed = contract.default()
    assert summary["contract"] == {"version": seed.version, "sha256": seed.sha256, "revision": "seed"}
    assert summary["target"] == {"base_url": "embedded"} and summary["profile"] == "quick" and summary["seed"] == 11
    assert summary["conformant"] is True and summary["verdict"] == "conformant" and summary["exit_code"] == 0
    assert summary["must"] == {"judged": musts, "failed": [], "errored": [], "skipped": []}
    ids = [r["id"] for r in summary["requirements"]]
    assert ids == [r.id for r in catalogue().for_revision("seed").requirements]
    for entry in summary["requirements"]:
        assert set(entry) >= {"id", "level", "title", "status", "reason"}
        assert entry["status"] == "passed"
    assert summary["totals"] == {"passed": len(ids), "failed": 0, "errored": 0, "skipped": 0}
    cases = ET.parse(reports / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == len(ids)
    assert list((reports / "allure-results").glob("*-result.json"))


def test_a_closed_port_exits_3_within_15_seconds_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()
    proc = run("run", "--base-url", f"http://127.0.0.1:{port}", "--api-key", "k-123456", "--report-dir", str(tmp_path))
    elapsed = time.monotonic() - started
    assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert elapsed < 15
    assert "did not answer" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["fatal"] and "TargetUnavailable" in summary["fatal"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "https://api.cekura.ai", "--api-key", "k-123456"], "--allow-production"),
        (["--base-url", "http://127.0.0.1:9"], "API key"),
        (["--base-url", "ftp://example"], "http(s) URL"),
        (["--profile", "certify", "--seed", "5"], "seed"),
    ],
)
def test_usage_errors_exit_2_and_send_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run("run", *args, "--report-dir", str(tmp_path))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "summary.json").exists()


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package built as a wheel and unpacked into a folder outside the checkout (put it on PYTHONPATH)."""
    root = tmp_path_factory.mktemp("wheel")
    wheels = root / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [wheel] = list(wheels.glob("cekura_widget_conformance-*.whl"))
    site = root / "site"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(site)
    assert "conformance/_data/widgets.yaml" in names and "conformance/_data/widgets-live.yaml" in names
    assert any(n.startswith("conformance/catalogue/") and n.endswith(".yaml") for n in names)
    assert "conformance/differential/data/emulator-quick.cassette.json.gz" in names  # what vendors replay
    return site


@pytest.mark.slow
def test_the_installed_wheel_runs_from_another_directory(installed_wheel: Path, tmp_path: Path) -> None:
    site = installed_wheel
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site)}
    where = run("-c", "x", cwd=elsewhere, env=env)  # argparse error: proves the entry module loads
    assert where.returncode == 2
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import conformance.contract as c; print(c.fragment_path()); print(c.fragment_path('live'))",
        ],
        cwd=elsewhere,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(line.startswith(str(site)) for line in probe.stdout.split())
    proc = run("run", "--report-dir", str(elsewhere / "out"), cwd=elsewhere, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert json.loads((elsewhere / "out" / "summary.json").read_text())["conformant"] is True
    diff = run("contract", "diff", "seed", "live", "--for", "servers", cwd=elsewhere, env=env)
    assert diff.returncode == 0 and "6 changes" in diff.stdout
    replayed = run(
        "diff",
        "--cassette",
        "shipped",
        "--candidate-url",
        "embedded",
        "--report-dir",
        str(elsewhere / "d"),
        cwd=elsewhere,
        env=env,
    )  # the vendors' path: the cassette inside the installed package, no key
    assert replayed.returncode == 0, replayed.stdout[-2000:] + replayed.stderr[-2000:]
    replay_report = json.loads((elsewhere / "d" / "diff.json").read_text())
    assert replay_report["cassette"] == "shipped" and replay_report["divergences"] == 0 and replay_report["steps"]


@pytest.mark.slow
def test_a_client_tests_itself_with_the_fixture_and_the_transports_from_the_wheel(
    installed_wheel: Path, tmp_path: Path
) -> None:
    """docs/examples/emulator_client, copied outside the checkout: the pytest11 plugin of the unpacked wheel gives the
    cekura_emulator fixture, and conformance.emulator the transports, on either revision."""
    project = tmp_path / "client-project"
    project.mkdir()
    for name in ("widget_client.py", "test_widget_client.py"):
        (project / name).write_text((ROOT / "docs" / "examples" / "emulator_client" / name).read_text())
    (project / "conftest.py").write_text(
        "import conformance\n\n\n"
        "def pytest_report_header(config):\n    return f'conformance from {conformance.__file__}'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-o", "addopts="],
        cwd=project,
        env={**clean_env(), "PYTHONPATH": os.pathsep.join([str(installed_wheel), str(project)])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"conformance from {installed_wheel}" in proc.stdout  # the wheel's package, not the checkout's
    assert "5 passed" in proc.stdout
    for test in ("with_the_fixture", "with_the_live_fixture", "with_the_sync_transport", "with_the_async_transport"):
        assert f"{test} PASSED" in proc.stdout
