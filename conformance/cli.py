"""The ``cekura-conformance`` command line: parses arguments and delegates; no behaviour lives here."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conformance import __version__
from conformance.options import ENV_API_KEY, ENV_OTHER_API_KEY, REVISIONS_HELP, TARGET_OPTIONS, add_cli

if TYPE_CHECKING:
    from conformance.settings import RunOptions


def _add_emulator(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emulator", help="serve the reference emulator over HTTP (loopback by default)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    p.add_argument("--db", type=Path, default=None, help="SQLite file that survives restarts (default: memory)")
    p.add_argument("--seed-file", type=Path, default=None, help="YAML or JSON seed replacing the default")
    p.add_argument(
        "--guess",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="switch an undocumented choice, e.g. auth_failure_status=403 (see the emulator README); repeatable",
    )
    _revision_option(p, "the contract revision the emulator serves")
    p.set_defaults(handler=_run_emulator)


def _revision_option(p: argparse.ArgumentParser, what: str) -> None:
    add_cli(p, "revision", revision={"help": f"{what}: {REVISIONS_HELP}"})


def _run_emulator(args: argparse.Namespace) -> int:
    from conformance.contract import UnknownRevision
    from conformance.emulator.serve import SeedFileError, serve

    try:
        serve(
            host=args.host,
            port=args.port,
            db=args.db,
            seed_file=args.seed_file,
            guesses=args.guess,
            revision=args.revision,
        )
    except UnknownRevision as exc:
        return _usage_error(f"emulator --revision: {exc}")
    except SeedFileError as exc:
        return _usage_error(str(exc))
    except ValueError as error:  # a bad --guess
        return _usage_error(f"emulator: {error}")
    return 0


def _usage_error(message: str) -> int:
    """A configuration mistake: one line on stderr saying what to change, exit 2."""
    from conformance.engine.verdict import ExitCode

    print(f"cekura-conformance: {message}", file=sys.stderr)
    return int(ExitCode.USAGE)


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the suite against a target (default: the embedded emulator)")
    add_cli(p, *TARGET_OPTIONS, "profile", "seed", "report_dir", "revision")
    p.set_defaults(handler=_run_suite)


def _options(args: argparse.Namespace, **overrides: object) -> RunOptions:
    from conformance.settings import RunOptions

    given = {name: getattr(args, name) for name in RunOptions.__dataclass_fields__ if hasattr(args, name)}
    return RunOptions(**{**given, **overrides})


def _run_suite(args: argparse.Namespace) -> int:
    from conformance.runcmd import run_suite

    return run_suite(_options(args))


def _add_cleanup(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("cleanup", help="delete what a killed run left on its target (from REPORT_DIR/ledger.jsonl)")
    add_cli(
        p,
        "report_dir",
        "base_url",
        "api_key",
        "other_api_key",
        "allow_production",
        report_dir={"help": "the run's report dir (default: reports/)"},
        base_url={"help": "the target (default: the one the ledger records; must match)"},
        api_key={"help": f"the run's API key (default: ${ENV_API_KEY})"},
        other_api_key={"help": f"the run's second key (default: ${ENV_OTHER_API_KEY})"},
    )
    p.set_defaults(handler=_cleanup)


def _cleanup(args: argparse.Namespace) -> int:
    from conformance.cleanupcmd import main as cleanup

    return cleanup(
        args.report_dir,
        base_url=args.base_url,
        api_key=args.api_key,
        other_api_key=args.other_api_key,
        allow_production=args.allow_production,
    )


def _add_certify(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("certify", help="run the certify profile and write certificate.json and certificate.md")
    add_cli(p, *TARGET_OPTIONS)
    p.add_argument(
        "--product", type=Path, default=None, help="YAML with vendor, name, version of the product (required)"
    )
    add_cli(p, "report_dir")
    _revision_option(p, "the contract revision certified")
    p.set_defaults(handler=_certify)

    v = sub.add_parser("verify-certificate", help="recompute a certificate's hashes; with --rerun, run it again")
    v.add_argument("certificate", type=Path)
    v.add_argument("--evidence-dir", type=Path, default=None, help="default: the certificate's folder")
    v.add_argument(
        "--rerun",
        action="store_true",
        help="re-run the recorded suite version, profile and seed against the target (--base-url, default: the "
        "recorded one) and check that the verdict and level reproduce",
    )
    add_cli(
        v,
        *TARGET_OPTIONS,
        "report_dir",
        report_dir={"default": Path("reports-rerun"), "help": "the re-run's reports (default: reports-rerun/)"},
    )
    v.set_defaults(handler=_verify_certificate)


def _certify(args: argparse.Namespace) -> int:
    from conformance.engine.verdict import ExitCode
    from conformance.reporting import certificate
    from conformance.runcmd import run_suite

    if args.product is None:
        return _usage_error(
            "certify needs --product PRODUCT.yaml (vendor, name, version; see docs/PRODUCT.example.yaml)"
        )
    try:
        product = certificate.load_product(args.product)
    except certificate.CertificateError as exc:
        return _usage_error(str(exc))
    code = run_suite(_options(args, profile="certify", seed=None))
    if code == ExitCode.USAGE or not (args.report_dir / "summary.json").is_file():
        return code
    try:
        cert = certificate.build(args.report_dir, product)
    except certificate.CertificateError as exc:
        print(f"cekura-conformance: {exc}", file=sys.stderr)
        return ExitCode.NO_VERDICT
    json_path, md_path = certificate.write(args.report_dir, cert)
    print(f"certificate: level {cert['level']} · {json_path} · {md_path}")
    return code


def _verify_certificate(args: argparse.Namespace) -> int:
    from conformance.reporting import certificate

    result = certificate.verify(args.certificate, args.evidence_dir)
    if not result.ok:
        for problem in result.problems:
            print(f"{args.certificate}: {problem}")
        return 1
    meaning = certificate.LEVEL_MEANING[result.level]
    print(f"{args.certificate}: level {result.level} ({meaning}), verdict {result.verdict}")
    print(f"{args.certificate}: the evidence matches; digest and every sha256 recomputed (integrity, not authorship)")
    code = 0 if result.certifies else 1
    if args.rerun:
        from conformance.reporting.rerun import rerun

        reproduced = rerun(args.certificate, _options(args), report_dir=args.report_dir)
        return reproduced if reproduced != 0 else code
    return code


def _add_report(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="render the last run's Allure results as HTML (Allure 3; needs Node.js)")
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="the run's report dir (default: reports/)")
    p.add_argument("--output", type=Path, default=None, help="where the HTML goes (default: REPORT_DIR/allure-report)")
    p.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace) -> int:
    from conformance.reporting.allure_html import main as render_report

    return render_report(args.report_dir, args.output)


def _add_summary(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "summary", help="print the last run's summary as Markdown (for a CI job summary or a PR comment)"
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="the run's report dir (default: reports/)")
    p.add_argument("--format", choices=["markdown"], default="markdown", help="default: markdown")
    p.set_defaults(handler=_print_summary)


def _print_summary(args: argparse.Namespace) -> int:
    from conformance.reporting.markdown import main as print_summary

    return print_summary(args.report_dir)


def _add_selftest(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("selftest", help="run the suite against faulty emulator variants: each must fail it")
    add_cli(p, "profile", "seed", seed={"help": "generation seed (default: a fixed one)"})
    p.add_argument("--only", nargs="+", metavar="NAME", default=None, help="only these variants (and the clean one)")
    _revision_option(p, "the contract revision judged, and served by every variant")
    p.add_argument(
        "--differential",
        action="store_true",
        help="the differential kill table instead: the clean emulator's program replayed against each variant, "
        "which must diverge where it declares (independent of the catalogue)",
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="sweep the variants in N processes (default 1; the table is the same, in the same order)",
    )
    p.set_defaults(handler=_run_selftest)


def _run_selftest(args: argparse.Namespace) -> int:
    from conformance.selftest import main as selftest

    return selftest(
        profile=args.profile,
        seed=args.seed,
        only=args.only,
        revision=args.revision,
        differential=args.differential,
        jobs=max(1, args.jobs),
    )


def _add_contract(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("contract", help="the contract's revisions, and the changes between two fragments")
    inner = p.add_subparsers(dest="contract_command", required=True)
    listed = inner.add_parser("revisions", help="list the shipped revisions with their files and sha256")
    listed.set_defaults(handler=_contract_revisions)
    d = inner.add_parser(
        "diff",
        help="every change from OLD to NEW, classified compatible or breaking for clients and for servers",
        description="OLD and NEW are revision names (seed, live) or fragment files. Exit 1 if a change is breaking "
        "for the side asked (both without --for), 2 for a usage error.",
    )
    d.add_argument("old", metavar="OLD", help="a revision name or a fragment file")
    d.add_argument("new", metavar="NEW", help="a revision name or a fragment file")
    d.add_argument("--for", dest="side", choices=["clients", "servers"], default=None, help="default: both")
    d.add_argument("--format", choices=["text", "json"], default="text", help="default: text")
    d.set_defaults(handler=_contract_diff)


def _contract_revisions(args: argparse.Namespace) -> int:
    from conformance import contract

    for name in contract.revisions():
        loaded = contract.get(name)
        default = " (default)" if name == contract.DEFAULT_REVISION else ""
        print(f"{name}{default}  {contract.fragment_path(name)}  sha256 {loaded.sha256}")
    return 0


def _contract_diff(args: argparse.Namespace) -> int:
    from conformance.contractdiff import SIDES, main

    sides = (args.side,) if args.side else SIDES
    return main(args.old, args.new, sides=sides, output=args.format)


def _reference_options(p: argparse.ArgumentParser) -> None:
    """The run options that choose the reference and its program, declared once (options.py), said of the reference."""
    add_cli(
        p,
        "base_url",
        "api_key",
        "other_api_key",
        "allow_production",
        "profile",
        "seed",
        "max_rps",
        base_url={"help": "the reference's URL; default: the embedded emulator, in-process"},
        api_key={"help": "the reference's API key (default: $CEKURA_API_KEY)"},
        other_api_key={"help": "the reference's second tenant (default: $CEKURA_OTHER_API_KEY)"},
        seed={"help": "the program's seed (default: a random one, reported)"},
        max_rps={"help": "start at most R requests per second to each target (a shared staging's rate limit)"},
    )
    _revision_option(p, "the contract revision whose program is sent")


def _add_diff(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "diff",
        help="send the suite's requests to a reference and a candidate; report where they answer differently",
        description="Runs the suite's request program against the reference twice (what differs between the two "
        "is noise) and against the candidate, or replays a --cassette against the candidate; reports every "
        "divergence beyond the noise. Exit 0: none, 1: some, 2: a usage error, 3: a target did not answer.",
    )
    _reference_options(p)
    p.add_argument(
        "--cassette",
        type=Path,
        default=None,
        help="replay this recording instead of a live reference (`shipped`: the emulator's, in the package)",
    )
    p.add_argument("--candidate-url", default=None, help="the candidate's URL (`embedded`: the emulator in-process)")
    p.add_argument(
        "--candidate-api-key",
        default=None,
        help="the candidate's key (default: $CEKURA_CANDIDATE_API_KEY, else the emulator's development key)",
    )
    p.add_argument(
        "--candidate-other-api-key",
        default=None,
        help="the candidate's second tenant (default: $CEKURA_CANDIDATE_OTHER_API_KEY, else the emulator's)",
    )
    p.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a place never counted as a divergence: status, header:Allow, $.updated_at, $.widgets[*].name, a glob "
        "or a prefix; repeatable (the report lists what each one hid)",
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports"), help="where diff.json goes (default: reports/)")
    p.set_defaults(handler=_run_diff)

    r = sub.add_parser(
        "record",
        help="record the suite's request program with the reference's answers and noise as a cassette",
    )
    _reference_options(r)
    r.add_argument("--out", type=Path, required=True, help="the cassette file (.json, or .json.gz compressed)")
    r.set_defaults(handler=_run_record)


def _run_diff(args: argparse.Namespace) -> int:
    from conformance.differential.command import main_diff

    return main_diff(args)


def _run_record(args: argparse.Namespace) -> int:
    from conformance.differential.command import main_record

    return main_record(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cekura-conformance",
        description="Conformance suite for Cekura's PATCH /dashboards/widgets/{id}/.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_run(sub)
    _add_cleanup(sub)
    _add_certify(sub)
    _add_emulator(sub)
    _add_selftest(sub)
    _add_report(sub)
    _add_summary(sub)
    _add_contract(sub)
    _add_diff(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
