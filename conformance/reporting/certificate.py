"""Certificates: the verdict of a ``certify`` run, tied by hashes to its evidence, and their verification.

The certificate is a view of ``summary.json``. Its ``digest`` covers every field but itself; each evidence
file (``summary.json``, ``junit.xml``, a tarball of ``allure-results/``) is named with its sha256, so changing
any of them, or the certificate, is detected by ``verify``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conformance import __version__

CERTIFICATE_JSON = "certificate.json"
CERTIFICATE_MD = "certificate.md"
ALLURE_TARBALL = "allure-results.tar.gz"
EVIDENCE = ("summary.json", "junit.xml", ALLURE_TARBALL)
PRODUCT_KEYS = ("vendor", "name", "version")


class CertificateError(Exception):
    """The product file or the evidence is unusable."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def load_product(path: Path | None) -> dict[str, Any]:
    """The product's identity, in the spirit of Kubernetes' PRODUCT.yaml (vendor, name, version, ...)."""
    if path is None:
        return {"vendor": "unspecified", "name": "unspecified", "version": "unspecified"}
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise CertificateError(f"cannot read the product file {path}: {exc}") from exc
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) or not data[k] for k in PRODUCT_KEYS):
        raise CertificateError(f"{path}: needs non-empty string fields {', '.join(PRODUCT_KEYS)}")
    return {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}


def tar_allure_results(report_dir: Path) -> Path:
    """A byte-for-byte reproducible tarball of allure-results (sorted names, no times, no owners)."""
    source = report_dir / "allure-results"
    target = report_dir / ALLURE_TARBALL
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(source.rglob("*")) if source.is_dir() else []:
            if not path.is_file():
                continue
            info = tarfile.TarInfo(str(path.relative_to(report_dir)))
            data = path.read_bytes()
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue())
    return target


def level_reached(requirements: list[dict[str, Any]]) -> str:
    """ "Full": every MUST and SHOULD passed; "Core": every MUST passed; else "None"."""
    counted = [r for r in requirements if not r.get("tentative")]
    musts = [r for r in counted if r["level"] == "MUST"]
    shoulds = [r for r in counted if r["level"] == "SHOULD"]
    if not musts or any(r["status"] != "passed" for r in musts):
        return "None"
    if all(r["status"] == "passed" for r in shoulds):
        return "Full"
    return "Core"


def build(report_dir: Path, product: dict[str, Any]) -> dict[str, Any]:
    summary_path = report_dir / "summary.json"
    if not summary_path.is_file():
        raise CertificateError(f"no {summary_path}: the run did not finish")
    summary = json.loads(summary_path.read_text())
    tar_allure_results(report_dir)
    body: dict[str, Any] = {
        "certificate_format": 1,
        "suite": {"name": "cekura-widget-conformance", "version": __version__},
        "contract": summary["contract"],
        "catalogue": summary.get("catalogue", {}),
        "target": summary["target"],
        "product": product,
        "date": summary["finished_at"],
        "profile": summary["profile"],
        "seed": summary["seed"],
        "level": level_reached(summary["requirements"]),
        "conformant": summary["conformant"],
        "requirements": [
            {"id": r["id"], "level": r["level"], "status": r["status"], "reason": r["reason"]}
            for r in summary["requirements"]
        ],
        "evidence": {name: sha256_file(report_dir / name) for name in EVIDENCE},
    }
    return {**body, "digest": hashlib.sha256(canonical(body)).hexdigest()}


def markdown(cert: dict[str, Any]) -> str:
    product = cert["product"]
    lines = [
        "# Conformance certificate — Cekura `PATCH /dashboards/widgets/{id}/`",
        "",
        f"**{product['vendor']} {product['name']} {product['version']}** at `{cert['target']['base_url']}`",
        "",
        f"**Level reached: {cert['level']}** ("
        + ("Full: every MUST and SHOULD passed" if cert["level"] == "Full" else "")
        + ("Core: every MUST passed" if cert["level"] == "Core" else "")
        + ("not certified: a MUST requirement did not pass" if cert["level"] == "None" else "")
        + ")",
        "",
        "| | |",
        "|---|---|",
        f"| suite | cekura-widget-conformance {cert['suite']['version']} |",
        f"| contract | {cert['contract']['version']}, sha256 `{cert['contract']['sha256']}` |",
        f"| catalogue | sha256 `{cert['catalogue'].get('sha256', '')}` |",
        f"| date | {cert['date']} |",
        f"| profile, seed | {cert['profile']}, {cert['seed']} |",
        f"| digest | `{cert['digest']}` |",
        "",
        "## Requirements",
        "",
        "| requirement | level | status | reason |",
        "|---|---|---|---|",
    ]
    for r in cert["requirements"]:
        reason = r["reason"].replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| {r['id']} | {r['level']} | {r['status']} | {reason} |")
    lines += ["", "## Evidence", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| {name} | `{digest}` |" for name, digest in cert["evidence"].items()]
    lines += ["", f"Check it: `cekura-conformance verify-certificate {CERTIFICATE_JSON}` next to the evidence files."]
    return "\n".join(lines) + "\n"


def write(report_dir: Path, cert: dict[str, Any]) -> tuple[Path, Path]:
    json_path, md_path = report_dir / CERTIFICATE_JSON, report_dir / CERTIFICATE_MD
    json_path.write_text(json.dumps(cert, indent=2, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(cert))
    return json_path, md_path


@dataclass
class Verification:
    ok: bool
    problems: list[str]


def verify(certificate_path: Path, evidence_dir: Path | None = None) -> Verification:
    """Recompute the digest and every evidence hash; list what does not match."""
    try:
        cert = json.loads(certificate_path.read_text())
    except (OSError, ValueError) as exc:
        return Verification(False, [f"cannot read {certificate_path}: {exc}"])
    folder = evidence_dir or certificate_path.parent
    problems: list[str] = []
    body = {k: v for k, v in cert.items() if k != "digest"}
    if hashlib.sha256(canonical(body)).hexdigest() != cert.get("digest"):
        problems.append("the certificate's digest does not match its content (the certificate was edited)")
    for name, expected in (cert.get("evidence") or {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name}: sha256 differs from the certificate (the evidence was modified)")
    summary_path = folder / "summary.json"
    if summary_path.is_file() and not problems:
        summary = json.loads(summary_path.read_text())
        if level_reached(summary["requirements"]) != cert.get("level"):
            problems.append("the level does not follow from summary.json")
    return Verification(not problems, problems)
