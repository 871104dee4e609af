"""Certificates: the verdict of a ``certify`` run, tied by hashes to its evidence, and their verification.

The certificate is a view of ``summary.json``: the verdict word is read from it, never recomputed, and the
level follows from it. ``certificate.md`` is rendered from the certificate's own fields, then its sha256 is
listed with the evidence files (``summary.json``, ``junit.xml``, a tarball of ``allure-results/``); the
``digest`` covers every field but itself. So changing the Markdown, any evidence file or the JSON is detected
by ``verify`` -- without re-rendering, so a certificate verifies the same under a later suite version. (The
Markdown cannot show the digest: the digest covers the Markdown's hash.)

The digest proves integrity, not authorship: anyone can compute one. Who ran the suite is what
``verify-certificate --rerun`` answers for, by running the recorded suite version, profile and seed again.
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
from conformance.engine.coverage import figure
from conformance.engine.text import printable, utf8

CERTIFICATE_JSON = "certificate.json"
CERTIFICATE_MD = "certificate.md"
ALLURE_TARBALL = "allure-results.tar.gz"
EVIDENCE = ("summary.json", "junit.xml", ALLURE_TARBALL)
PRODUCT_KEYS = ("vendor", "name", "version")
FORMAT = 2  # 2: lowercase levels, the verdict word, certificate.md covered by the digest
LEVELS = ("full", "core", "none")
LEVEL_MEANING = {
    "full": "every MUST and SHOULD requirement passed",
    "core": "every MUST requirement passed",
    "none": "not certified: the run was not conformant, or a MUST requirement did not pass",
}


class CertificateError(Exception):
    """The product file or the evidence is unusable."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical(data: Any) -> bytes:
    """The digested form: sorted keys, no spaces, ASCII only (exact for any string, lone surrogates too)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def load_product(path: Path) -> dict[str, Any]:
    """The product's identity, in the spirit of Kubernetes' PRODUCT.yaml (vendor, name, version, ...)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        why = " ".join(str(exc).split())[:300]
        raise CertificateError(f"cannot read the product file {path}: {why}") from exc
    if not isinstance(data, dict) or any(not isinstance(data.get(k), str) or not data[k] for k in PRODUCT_KEYS):
        raise CertificateError(f"{path}: needs non-empty string fields {', '.join(PRODUCT_KEYS)}")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str | int | float | bool)}


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


def level_reached(requirements: list[dict[str, Any]], verdict: str) -> str:
    """ "full": conformant and every MUST and SHOULD passed; "core": conformant and every MUST passed
    (none skipped); else "none". ``verdict`` is the run's verdict word, as ``summary.json`` has it."""
    counted = [r for r in requirements if not r.get("tentative")]
    musts = [r for r in counted if r["level"] == "MUST"]
    shoulds = [r for r in counted if r["level"] == "SHOULD"]
    if verdict != "conformant" or not musts or any(r["status"] != "passed" for r in musts):
        return "none"
    if all(r["status"] == "passed" for r in shoulds):
        return "full"
    return "core"


def build(report_dir: Path, product: dict[str, Any]) -> dict[str, Any]:
    summary_path = report_dir / "summary.json"
    if not summary_path.is_file():
        raise CertificateError(f"no {summary_path}: the run did not finish")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    tar_allure_results(report_dir)
    body: dict[str, Any] = {
        "certificate_format": FORMAT,
        "suite": {"name": "cekura-widget-conformance", "version": __version__},
        "contract": summary["contract"],
        "catalogue": summary.get("catalogue", {}),
        "target": summary["target"],
        "product": product,
        "date": summary["finished_at"],
        "profile": summary["profile"],
        "seed": summary["seed"],
        "verdict": summary["verdict"],
        "level": level_reached(summary["requirements"], summary["verdict"]),
        "conformant": summary["conformant"],
        "coverage": coverage_of(summary),
        "requirements": [
            {"id": r["id"], "level": r["level"], "status": r["status"], "reason": r["reason"]}
            for r in summary["requirements"]
        ],
        "evidence": {name: sha256_file(report_dir / name) for name in EVIDENCE},
    }
    body["evidence"][CERTIFICATE_MD] = hashlib.sha256(utf8(markdown(body))).hexdigest()
    return {**body, "digest": digest(body)}


def coverage_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The run's contract coverage figure and what it never sent, as ``summary.json`` has them."""
    found = summary.get("coverage") or {}
    return {key: found.get(key) for key in ("operation", "percent", "covered", "total", "missing")}


def _coverage_line(cert: dict[str, Any]) -> str:
    cov = cert.get("coverage") or {}
    if not isinstance(cov.get("percent"), int | float) or not cov.get("total"):
        return "Contract coverage: not measured"
    line = (
        f"Contract coverage: **{figure(cov)}** ({_cell(cov['covered'])} of {_cell(cov['total'])} documented values "
        f"of `{_cell(cov.get('operation') or '')}` sent)"
    )
    missing = [str(m) for m in cov.get("missing") or []]
    if missing:
        line += "; never sent: " + ", ".join(f"`{_cell(m, 80)}`" for m in missing[:20])
        line += f" and {len(missing) - 20} more" if len(missing) > 20 else ""
    return line


def digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "digest"})).hexdigest()


def _cell(value: Any, limit: int = 160) -> str:
    """One Markdown table cell from anything a target or a product file held."""
    return printable(" ".join(str(value).split())).replace("|", "\\|")[:limit]


def markdown(cert: dict[str, Any]) -> str:
    """The human view, rendered from the certificate's fields only (not its digest, not its own hash)."""
    product, contract = cert["product"], cert["contract"]
    level = str(cert["level"])
    lines = [
        "# Conformance certificate — Cekura `PATCH /dashboards/widgets/{id}/`",
        "",
        f"**{_cell(product['vendor'])} {_cell(product['name'])} {_cell(product['version'])}** "
        f"at `{_cell(cert['target']['base_url'])}`",
        "",
        f"**Level reached: {level.capitalize()}** ({LEVEL_MEANING.get(level, level)}) · verdict: {cert['verdict']}",
        "",
        _coverage_line(cert),
        "",
        "| | |",
        "|---|---|",
        f"| suite | cekura-widget-conformance {_cell(cert['suite']['version'])} |",
        f"| contract | revision {_cell(contract.get('revision', 'seed'))}, {_cell(contract['version'])}, "
        f"sha256 `{_cell(contract['sha256'], 64)}` |",
        f"| catalogue | sha256 `{_cell(cert['catalogue'].get('sha256', ''), 64)}` |",
        f"| date | {_cell(cert['date'])} |",
        f"| profile, seed | {_cell(cert['profile'])}, {_cell(cert['seed'])} |",
        "",
        "## Requirements",
        "",
        "| requirement | level | status | reason |",
        "|---|---|---|---|",
    ]
    for r in cert["requirements"]:
        lines.append(f"| {_cell(r['id'])} | {_cell(r['level'])} | {_cell(r['status'])} | {_cell(r['reason'])} |")
    lines += ["", "## Evidence", "", "| file | sha256 |", "|---|---|"]
    lines += [f"| {name} | `{_cell(cert['evidence'][name], 64)}` |" for name in EVIDENCE if name in cert["evidence"]]
    lines += [
        "",
        f"The digest in `{CERTIFICATE_JSON}` covers this page too (its sha256 is listed there). It proves that",
        "nothing changed since the certificate was written, not who ran the suite: re-run it with",
        f"`cekura-conformance verify-certificate {CERTIFICATE_JSON} --rerun --base-url URL`.",
        "",
        f"Check it: `cekura-conformance verify-certificate {CERTIFICATE_JSON}` next to the evidence files.",
    ]
    return "\n".join(lines) + "\n"


def write(report_dir: Path, cert: dict[str, Any]) -> tuple[Path, Path]:
    json_path, md_path = report_dir / CERTIFICATE_JSON, report_dir / CERTIFICATE_MD
    json_path.write_bytes(utf8(json.dumps(cert, indent=2, ensure_ascii=False) + "\n"))
    md_path.write_bytes(utf8(markdown(cert)))
    return json_path, md_path


@dataclass
class Verification:
    ok: bool
    problems: list[str]
    level: str = "none"
    verdict: str = ""

    @property
    def certifies(self) -> bool:
        """The evidence matches and the certificate certifies a level (core or full)."""
        return self.ok and self.level in ("core", "full")


def verify(certificate_path: Path, evidence_dir: Path | None = None) -> Verification:
    """Recompute the digest and every evidence hash (certificate.md's included); list what does not match."""
    try:
        cert = json.loads(certificate_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Verification(False, [f"cannot read {certificate_path}: {exc}"])
    if not isinstance(cert, dict):
        return Verification(False, [f"{certificate_path} is not a certificate"])
    if cert.get("certificate_format") != FORMAT:
        return Verification(
            False,
            [
                f"certificate format {cert.get('certificate_format')!r} is not {FORMAT} (the format whose digest "
                "covers certificate.md): certify again with this suite"
            ],
        )
    folder = evidence_dir or certificate_path.parent
    level = str(cert.get("level"))
    problems: list[str] = []
    if level not in LEVELS:
        problems.append(f"the level {level!r} is none of {', '.join(LEVELS)}")
    if digest(cert) != cert.get("digest"):
        problems.append("the certificate's digest does not match its content (the certificate was edited)")
    for name, expected in (cert.get("evidence") or {}).items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != expected:
            problems.append(f"{name}: sha256 differs from the certificate (the file was modified)")
    summary_path = folder / "summary.json"
    if summary_path.is_file() and not problems:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        if summary.get("verdict") != cert.get("verdict"):
            problems.append("the verdict is not the one summary.json records")
        if level_reached(summary["requirements"], summary.get("verdict", "")) != level:
            problems.append("the level does not follow from summary.json")
        if "coverage" in cert and coverage_of(summary) != cert["coverage"]:
            problems.append("the contract coverage is not the one summary.json records")
    return Verification(not problems, problems, level, str(cert.get("verdict", "")))
