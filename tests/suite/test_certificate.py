"""Certificates: the emulator reaches "full"; verification catches any changed file, certificate.md included;
a certificate that certifies nothing fails verification; --rerun checks that the verdict and level reproduce."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from conformance.reporting import certificate
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = {"vendor": "Example Mocks Ltd", "name": "Cekura API mock", "version": "2.4.1"}


@pytest.fixture(scope="module")
def certified(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reports = tmp_path_factory.mktemp("cert")
    proc = run_cli("certify", "--product", str(ROOT / "docs" / "PRODUCT.example.yaml"), "--report-dir", str(reports))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "certificate: level full" in proc.stdout
    return reports


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A certificate of a quick run (seed 5): cheap to re-run."""
    reports = tmp_path_factory.mktemp("quick")
    proc = run_cli("run", "--seed", "5", "--report-dir", str(reports))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    certificate.write(reports, certificate.build(reports, PRODUCT))
    return reports


def _copy(source: Path, target: Path) -> Path:
    target.mkdir()
    for name in (*certificate.EVIDENCE, certificate.CERTIFICATE_JSON, certificate.CERTIFICATE_MD):
        shutil.copy(source / name, target / name)
    return target


def _resealed(folder: Path, **changes: object) -> Path:
    """The certificate with fields changed and its digest recomputed, as someone forging one could."""
    path = folder / certificate.CERTIFICATE_JSON
    cert = {**json.loads(path.read_text()), **changes}
    cert["digest"] = certificate.digest(cert)
    path.write_text(json.dumps(cert))
    return path


def test_the_emulator_certificate_says_full_and_names_everything(certified: Path) -> None:
    cert = json.loads((certified / certificate.CERTIFICATE_JSON).read_text())
    assert cert["level"] == "full" and cert["verdict"] == "conformant" and cert["conformant"] is True
    assert cert["profile"] == "certify" and cert["seed"] == 20260101
    assert cert["product"]["vendor"] == "Example Mocks Ltd" and cert["product"]["version"] == "2.4.1"
    assert set(cert["evidence"]) == {"summary.json", "junit.xml", "allure-results.tar.gz", "certificate.md"}
    assert len(cert["contract"]["sha256"]) == 64 and len(cert["catalogue"]["sha256"]) == 64
    assert cert["contract"]["revision"] == "seed"
    assert all(r["status"] == "passed" for r in cert["requirements"])
    # The contract coverage figure of the run, under the digest, in both files.
    summary = json.loads((certified / "summary.json").read_text())
    assert cert["coverage"] == certificate.coverage_of(summary)
    assert cert["coverage"]["percent"] == 100.0 and cert["coverage"]["missing"] == []
    assert cert["coverage"]["covered"] == cert["coverage"]["total"] > 50
    markdown = (certified / certificate.CERTIFICATE_MD).read_text()
    assert f"| contract | revision seed, 1.0.0, sha256 `{cert['contract']['sha256']}` |" in markdown
    assert "Level reached: Full" in markdown and "None" not in markdown
    total = cert["coverage"]["total"]
    operation = "`PATCH /dashboards/widgets/{id}/`"
    assert f"Contract coverage: **100%** ({total} of {total} documented values of {operation} sent)" in markdown
    assert "not who ran the suite" in markdown
    assert certificate.verify(certified / certificate.CERTIFICATE_JSON).ok


@pytest.mark.parametrize("victim", ["summary.json", "junit.xml", "allure-results.tar.gz", "certificate.md"])
def test_a_modified_file_is_detected(certified: Path, tmp_path: Path, victim: str) -> None:
    copy = _copy(certified, tmp_path / "copy")
    with (copy / victim).open("ab") as handle:
        handle.write(b"\n")
    result = run_cli("verify-certificate", str(copy / certificate.CERTIFICATE_JSON))
    assert result.returncode == 1
    assert f"{victim}: sha256 differs" in result.stdout


def test_a_rewritten_markdown_is_detected(certified: Path, tmp_path: Path) -> None:
    copy = _copy(certified, tmp_path / "copy")
    markdown = copy / certificate.CERTIFICATE_MD
    markdown.write_text(markdown.read_text().replace("Cekura API mock", "Another product"))
    result = certificate.verify(copy / certificate.CERTIFICATE_JSON)
    assert result.problems == ["certificate.md: sha256 differs from the certificate (the file was modified)"]


def test_an_edited_certificate_is_detected(certified: Path, tmp_path: Path) -> None:
    cert = json.loads((certified / certificate.CERTIFICATE_JSON).read_text())
    cert["product"]["version"] = "9.9.9"
    edited = tmp_path / certificate.CERTIFICATE_JSON
    edited.write_text(json.dumps(cert))
    result = certificate.verify(edited, evidence_dir=certified)
    assert not result.ok and "digest" in result.problems[0]


def test_a_coverage_figure_that_does_not_follow_from_the_summary_is_detected(certified: Path, tmp_path: Path) -> None:
    folder = _copy(certified, tmp_path / "copy")
    cert = json.loads((folder / certificate.CERTIFICATE_JSON).read_text())
    path = _resealed(folder, coverage={**cert["coverage"], "percent": 100.0, "covered": 999, "total": 999})
    result = certificate.verify(path)
    assert not result.ok and "the contract coverage is not the one summary.json records" in result.problems


def test_verification_prints_the_level(certified: Path) -> None:
    proc = run_cli("verify-certificate", str(certified / certificate.CERTIFICATE_JSON))
    assert proc.returncode == 0
    assert "level full (every MUST and SHOULD requirement passed), verdict conformant" in proc.stdout
    assert "integrity, not authorship" in proc.stdout


def test_a_certificate_that_certifies_nothing_fails_verification(quick: Path, tmp_path: Path) -> None:
    copy = _copy(quick, tmp_path / "copy")
    summary = json.loads((copy / "summary.json").read_text())
    summary["requirements"][0]["status"] = "failed"
    summary["verdict"] = "not-conformant"
    (copy / "summary.json").write_text(json.dumps(summary))
    certificate.write(copy, certificate.build(copy, PRODUCT))
    proc = run_cli("verify-certificate", str(copy / certificate.CERTIFICATE_JSON))
    assert proc.returncode == 1
    assert "level none (not certified" in proc.stdout and "verdict not-conformant" in proc.stdout
    assert "Level reached: None" in (copy / certificate.CERTIFICATE_MD).read_text()
    assert json.loads((copy / certificate.CERTIFICATE_JSON).read_text())["level"] == "none"


def test_a_level_that_does_not_follow_from_the_summary_is_detected(quick: Path, tmp_path: Path) -> None:
    """A forger who edits summary.json and reseals the certificate still meets the level check."""
    copy = _copy(quick, tmp_path / "copy")
    summary = json.loads((copy / "summary.json").read_text())
    summary["verdict"] = "no-verdict"
    (copy / "summary.json").write_text(json.dumps(summary))
    evidence = json.loads((copy / certificate.CERTIFICATE_JSON).read_text())["evidence"]
    path = _resealed(copy, evidence={**evidence, "summary.json": certificate.sha256_file(copy / "summary.json")})
    assert certificate.verify(path).problems == [
        "the verdict is not the one summary.json records",
        "the level does not follow from summary.json",
    ]


def test_levels_follow_the_verdict_and_the_requirement_statuses() -> None:
    must_ok = {"level": "MUST", "status": "passed"}
    should_ok = {"level": "SHOULD", "status": "passed"}
    assert certificate.level_reached([must_ok, should_ok], "conformant") == "full"
    assert certificate.level_reached([must_ok, {**should_ok, "status": "failed"}], "conformant") == "core"
    assert certificate.level_reached([{**must_ok, "status": "skipped"}, must_ok, should_ok], "conformant") == "none"
    assert (
        certificate.level_reached([{**must_ok, "status": "failed", "tentative": True}, must_ok], "conformant") == "full"
    )
    assert certificate.level_reached([must_ok, should_ok], "interrupted") == "none"
    assert certificate.level_reached([must_ok, should_ok], "no-verdict") == "none"


def test_certify_without_a_product_or_with_a_bad_one_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("certify", "--report-dir", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--product" in proc.stderr
    product = tmp_path / "product.yaml"
    product.write_text("vendor: Only a vendor\n")
    proc = run_cli("certify", "--product", str(product), "--report-dir", str(tmp_path))
    assert proc.returncode == 2 and "vendor, name, version" in proc.stderr
    assert not (tmp_path / "summary.json").exists()


# -- --rerun --------------------------------------------------------------------------------------------------


def test_a_rerun_reproduces_the_verdict_and_level(quick: Path, tmp_path: Path) -> None:
    proc = run_cli(
        "verify-certificate", str(quick / certificate.CERTIFICATE_JSON), "--rerun", "--report-dir", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "re-running revision seed, profile quick, seed 5 against embedded" in proc.stdout
    assert "re-run: verdict conformant (certificate: conformant), level full (certificate: full): reproduced" in (
        proc.stdout
    )
    assert json.loads((tmp_path / "summary.json").read_text())["seed"] == 5


def test_a_rerun_that_does_not_reproduce_exits_1(quick: Path, tmp_path: Path) -> None:
    """Re-run against a target that does not answer: no verdict, level none, where the certificate says full."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    proc = run_cli(
        *("verify-certificate", str(quick / certificate.CERTIFICATE_JSON), "--rerun", "--base-url", closed),
        *("--api-key", "k-123456", "--report-dir", str(tmp_path)),
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "verdict no-verdict (certificate: conformant), level none (certificate: full): NOT reproduced" in (
        proc.stdout
    )


def test_a_rerun_with_another_suite_version_is_refused(quick: Path, tmp_path: Path) -> None:
    copy = _copy(quick, tmp_path / "copy")
    path = _resealed(copy, suite={"name": "cekura-widget-conformance", "version": "0.0.1"})
    assert certificate.verify(path).ok
    proc = run_cli("verify-certificate", str(path), "--rerun", "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 2
    assert "made by suite version 0.0.1" in proc.stderr and "cekura-widget-conformance==0.0.1" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_a_rerun_holds_the_target_to_the_recorded_revision_and_its_sha256(quick: Path, tmp_path: Path) -> None:
    cert = json.loads((quick / certificate.CERTIFICATE_JSON).read_text())
    for number, contract in enumerate(
        ({**cert["contract"], "revision": "live"}, {**cert["contract"], "revision": "staging"}), start=1
    ):
        path = _resealed(_copy(quick, tmp_path / f"copy{number}"), contract=contract)
        proc = run_cli("verify-certificate", str(path), "--rerun", "--report-dir", str(tmp_path / "r"))
        assert proc.returncode == 2
        said = "differs from the certificate's (sha256)" if number == 1 else "revision 'staging' is not shipped"
        assert said in proc.stderr
