"""Certificates: the emulator reaches "Full", and verification catches a modified evidence file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.reporting import certificate
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def certified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reports = tmp_path_factory.mktemp("cert")
    proc = run_cli("certify", "--product", str(ROOT / "docs" / "PRODUCT.example.yaml"), "--report-dir", str(reports))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "certificate: level Full" in proc.stdout
    return reports


def test_the_emulator_certificate_says_full_and_names_everything(certified: Path) -> None:
    cert = json.loads((certified / certificate.CERTIFICATE_JSON).read_text())
    assert cert["level"] == "Full" and cert["conformant"] is True
    assert cert["profile"] == "certify" and cert["seed"] == 20260101
    assert cert["product"]["vendor"] == "Example Mocks Ltd" and cert["product"]["version"] == "2.4.1"
    assert set(cert["evidence"]) == {"summary.json", "junit.xml", "allure-results.tar.gz"}
    assert len(cert["contract"]["sha256"]) == 64 and len(cert["catalogue"]["sha256"]) == 64
    assert all(r["status"] == "passed" for r in cert["requirements"])
    assert "Level reached: Full" in (certified / certificate.CERTIFICATE_MD).read_text()
    assert certificate.verify(certified / certificate.CERTIFICATE_JSON).ok


@pytest.mark.parametrize("victim", ["summary.json", "junit.xml", "allure-results.tar.gz"])
def test_a_modified_evidence_file_is_detected(certified: Path, tmp_path: Path, victim: str) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in (*certificate.EVIDENCE, certificate.CERTIFICATE_JSON):
        (copy / name).write_bytes((certified / name).read_bytes())
    with (copy / victim).open("ab") as handle:
        handle.write(b"\n")
    result = run_cli("verify-certificate", str(copy / certificate.CERTIFICATE_JSON))
    assert result.returncode == 1
    assert f"{victim}: sha256 differs" in result.stdout


def test_an_edited_certificate_is_detected(certified: Path, tmp_path: Path) -> None:
    cert = json.loads((certified / certificate.CERTIFICATE_JSON).read_text())
    cert["product"]["version"] = "9.9.9"
    edited = tmp_path / certificate.CERTIFICATE_JSON
    edited.write_text(json.dumps(cert))
    result = certificate.verify(edited, evidence_dir=certified)
    assert not result.ok and "digest" in result.problems[0]


def test_levels_follow_the_requirement_statuses() -> None:
    must_ok = {"level": "MUST", "status": "passed"}
    should_ok = {"level": "SHOULD", "status": "passed"}
    assert certificate.level_reached([must_ok, should_ok]) == "Full"
    assert certificate.level_reached([must_ok, {**should_ok, "status": "failed"}]) == "Core"
    assert certificate.level_reached([{**must_ok, "status": "skipped"}, should_ok]) == "None"
    assert certificate.level_reached([{**must_ok, "status": "failed", "tentative": True}, must_ok]) == "Full"


def test_a_bad_product_file_is_a_usage_error(tmp_path: Path) -> None:
    product = tmp_path / "product.yaml"
    product.write_text("vendor: Only a vendor\n")
    proc = run_cli("certify", "--product", str(product), "--report-dir", str(tmp_path))
    assert proc.returncode == 2 and "vendor, name, version" in proc.stderr
