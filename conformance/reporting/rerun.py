"""``verify-certificate --rerun``: run a certificate's recorded suite version, profile and seed against the
target again, and check that the verdict and the level reproduce. The digest only proves that nothing
changed since the certificate was written; a re-run is what shows the target earns it."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from conformance import __version__, contract
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.target import EMBEDDED
from conformance.engine.verdict import ExitCode
from conformance.reporting.certificate import level_reached
from conformance.settings import RunOptions


def _refusal(cert: dict[str, object]) -> str | None:
    """Why this installation cannot re-run the certificate, or None."""
    suite = cert.get("suite") if isinstance(cert.get("suite"), dict) else {}
    version = suite.get("version") if isinstance(suite, dict) else None
    if version != __version__:
        return (
            f"the certificate was made by suite version {version}, this is {__version__}: "
            f"install cekura-widget-conformance=={version} to re-run it"
        )
    recorded = cert.get("contract") if isinstance(cert.get("contract"), dict) else {}
    revision = str(recorded.get("revision", contract.DEFAULT_REVISION)) if isinstance(recorded, dict) else ""
    if revision not in contract.REVISIONS:
        return f"the certificate's contract revision {revision!r} is not shipped with this installation"
    if isinstance(recorded, dict) and recorded.get("sha256") != contract.get(revision).sha256:
        return "the installed contract differs from the certificate's (sha256): re-run with the recorded one"
    catalogue = cert.get("catalogue") if isinstance(cert.get("catalogue"), dict) else {}
    if isinstance(catalogue, dict) and catalogue.get("sha256") != default_catalogue().sha256:
        return "the installed catalogue differs from the certificate's (sha256; CEKURA_CATALOGUE_DIR?)"
    return None


def rerun(certificate_path: Path, options: RunOptions, *, report_dir: Path) -> int:
    """Exit 0 if the verdict and level reproduce, 1 if not, 2 if this installation cannot re-run it."""
    from conformance.runcmd import run_suite

    cert = json.loads(certificate_path.read_text(encoding="utf-8"))
    refusal = _refusal(cert)
    if refusal:
        print(f"cekura-conformance: cannot re-run {certificate_path}: {refusal}", file=sys.stderr)
        return int(ExitCode.USAGE)
    recorded_target = str(cert["target"]["base_url"])
    base_url = options.base_url or (None if recorded_target == EMBEDDED else recorded_target)
    revision = str(cert["contract"].get("revision", contract.DEFAULT_REVISION))
    chosen = replace(
        options,
        base_url=base_url,
        profile=str(cert["profile"]),
        seed=int(cert["seed"]),
        report_dir=report_dir,
        revision=revision,
    )
    print(
        f"re-running revision {revision}, profile {chosen.profile}, seed {chosen.seed} against {base_url or EMBEDDED}"
    )
    code = run_suite(chosen)
    summary_path = report_dir / "summary.json"
    if code == ExitCode.USAGE or not summary_path.is_file():
        return code
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    verdict, level = summary["verdict"], level_reached(summary["requirements"], summary["verdict"])
    same = verdict == cert["verdict"] and level == cert["level"]
    print(
        f"re-run: verdict {verdict} (certificate: {cert['verdict']}), level {level} (certificate: {cert['level']}): "
        + ("reproduced" if same else "NOT reproduced")
    )
    return 0 if same else 1
