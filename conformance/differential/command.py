"""``cekura-conformance diff`` and ``record``: the passes in order, the outcome, the reports, the exit code.

A live diff: the suite runs once against the reference (the program and the reference's first answers), the
program is replayed against the reference again (a second fixture set: what differs is the noise) and against
the candidate, whose answers are compared with the first pass's. ``record`` stops after the two reference
passes and saves a cassette; ``diff --cassette`` replays one against the candidate: the same comparison with
the same inputs, so a recording and a live diff of the same seed report the same divergences.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.contract import Contract
from conformance.differential import cassette as cassettes
from conformance.differential import report, shipped
from conformance.differential.capture import capture
from conformance.differential.noise import Noise, learn
from conformance.differential.outcome import Outcome, judge
from conformance.differential.program import Answer, Program
from conformance.differential.replay import PassResult, replay
from conformance.engine import preflight, properties
from conformance.engine.answers import utc_now
from conformance.engine.catalogue import default as default_catalogue
from conformance.engine.errors import ConfigurationError
from conformance.engine.interrupt import Interruption, RunInterrupted, as_keyboard_interrupt
from conformance.engine.ledger import LEDGER
from conformance.engine.profiles import Profile
from conformance.engine.target import TargetConfig
from conformance.engine.verdict import ExitCode
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY, RunOptions, build

ENV_CANDIDATE_KEY = "CEKURA_CANDIDATE_API_KEY"
ENV_CANDIDATE_OTHER_KEY = "CEKURA_CANDIDATE_OTHER_API_KEY"
EMBEDDED_URL = "embedded"  # --candidate-url embedded: the emulator, in-process


@dataclass
class Recording:
    """The reference's two passes: the program, the first pass's answers and the noise between the two."""

    program: Program
    answers: list[Answer]
    noise: Noise
    passes: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    interrupted: str | None = None


def _facts(target: str, requests: int, error: str | None, cleanup: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "target": target,
        "requests": requests,
        "error": error,
        "created": len(cleanup.get("created") or []),
        "leftovers": len(cleanup.get("leftovers") or []),
    }


def record_reference(
    config: TargetConfig,
    profile: Profile,
    seed: int,
    contract: Contract,
    interruption: Interruption,
    ledger_path: Path | None = None,
) -> Recording:
    """Run the suite against the reference (the program), then replay it there again (the noise); with a
    ``ledger_path`` (an HTTP reference), each pass's objects are written there as they are created, so a killed
    job's leftovers are found by ``cekura-conformance cleanup``."""
    try:
        first = capture(config, profile, seed, contract, interruption=interruption, ledger_path=ledger_path)
    except RunInterrupted as exc:
        return Recording(Program(), [], {}, interrupted=exc.reason)
    recording = Recording(first.program, first.answers, {})
    recording.passes["reference"] = _facts(config.label, first.requests, first.error, first.cleanup)
    if first.error or first.interrupted:
        recording.error = first.error and f"the reference: {first.error}"
        recording.interrupted = first.interrupted
        return recording
    second = replay(first.program, config, interruption=interruption, ledger_path=ledger_path)
    recording.passes["reference-again"] = _facts(config.label, second.requests, second.error, second.cleanup)
    recording.error = second.error and f"the reference's second pass: {second.error}"
    recording.interrupted = second.interrupted
    recording.noise = learn(first.answers, second.answers)
    return recording


def compare(
    program: Program,
    reference: Sequence[Answer],
    noise: Noise,
    candidate: PassResult,
    ignores: Sequence[str],
) -> Outcome:
    outcome = judge(program, reference, candidate.answers, noise, ignores)
    outcome.error = candidate.error and f"the candidate: {candidate.error}"
    outcome.interrupted = candidate.interrupted
    return outcome


def stage_requirements(revision: str) -> dict[str, list[str]]:
    """What each property stage's step counts for: the requirements whose checks the stages feed."""
    catalogue = default_catalogue().for_revision(revision)
    fed = [r.id for r in catalogue.requirements if r.checks]
    return {stage: fed for stage in properties.STAGES}


# The command line ------------------------------------------------------------------------------------------


def candidate_config(args: Any) -> TargetConfig:
    """The candidate: its own keys, never the reference's (a staging key must not reach a vendor's mock);
    without them, the emulator's documented development keys."""
    url = args.candidate_url
    if url is None:
        raise ConfigurationError("diff needs --candidate-url URL (or `embedded` for the emulator in-process)")
    api_key = args.candidate_api_key or os.environ.get(ENV_CANDIDATE_KEY) or EMBEDDED_KEY
    other = args.candidate_other_api_key or os.environ.get(ENV_CANDIDATE_OTHER_KEY) or EMBEDDED_OTHER_KEY
    options = RunOptions(
        base_url=None if url == EMBEDDED_URL else url,
        api_key=api_key,
        other_api_key=other,
        report_dir=args.report_dir,
        allow_production=args.allow_production,
        revision=args.revision,
        concurrency=1,
        max_rps=args.max_rps,
    )
    return build(options).target


def _reference_settings(args: Any) -> tuple[TargetConfig, Profile, int, Contract]:
    options = RunOptions(
        base_url=args.base_url,
        api_key=args.api_key,
        other_api_key=args.other_api_key,
        profile=args.profile,
        seed=args.seed,
        report_dir=args.report_dir if hasattr(args, "report_dir") else args.out.parent,
        allow_production=args.allow_production,
        revision=args.revision,
        concurrency=1,
        max_rps=args.max_rps,
    )
    settings = build(options)
    seed = settings.seed if settings.seed is not None else (settings.profile.fixed_seed or random.randrange(1, 2**31))
    return settings.target, settings.profile, seed, settings.contract


def _usage(message: str) -> int:
    print(f"cekura-conformance: {message}", file=sys.stderr)
    return int(ExitCode.USAGE)


def main_diff(args: Any) -> int:
    try:
        with as_keyboard_interrupt():
            return _diff(args)
    except KeyboardInterrupt:
        print("cekura-conformance: interrupted outside the diff: no verdict", file=sys.stderr)
        return int(ExitCode.NO_VERDICT)


def _diff(args: Any) -> int:
    started_at = utc_now()
    started = time.perf_counter()
    try:
        if args.cassette is not None and args.base_url is not None:
            raise ConfigurationError("give either --cassette FILE or --base-url REF (the reference), not both")
        candidate = candidate_config(args)
        preflight.check(candidate)
        recorded: cassettes.Cassette | None = None
        if args.cassette is not None:
            recorded = cassettes.load(shipped.resolve(args.cassette))
            build(RunOptions(report_dir=args.report_dir, revision=recorded.program.revision or args.revision))
            reference_cfg = None
        else:
            reference_cfg, profile, seed, contract = _reference_settings(args)
            preflight.check(reference_cfg)
    except ConfigurationError as exc:
        return _usage(str(exc))
    interruption = Interruption()
    interruption.install()
    try:
        notes: list[str] = []
        if recorded is not None:
            from conformance import contract as contract_module

            contract = contract_module.get(recorded.program.revision or args.revision)
            notes += recorded.notes(contract)
            recording = Recording(recorded.program, recorded.answers, recorded.noise)
            reference_label = f"{recorded.reference} (cassette {args.cassette})"
            profile_name, seed_value = recorded.program.profile, recorded.program.seed
        else:
            assert reference_cfg is not None
            ledger = args.report_dir / LEDGER if reference_cfg.base_url is not None else None
            recording = record_reference(reference_cfg, profile, seed, contract, interruption, ledger)
            reference_label, profile_name, seed_value = reference_cfg.label, profile.name, seed
        if recording.error or recording.interrupted:
            outcome = Outcome(recording.program, error=recording.error, interrupted=recording.interrupted)
        else:
            result = replay(recording.program, candidate, interruption=interruption)
            recording.passes["candidate"] = _facts(candidate.label, result.requests, result.error, result.cleanup)
            outcome = compare(recording.program, recording.answers, recording.noise, result, args.ignore)
    finally:
        interruption.uninstall()
    meta = {
        "reference": reference_label,
        "candidate": candidate.label,
        "cassette": str(args.cassette) if args.cassette else None,
        "contract": cassettes.contract_of(contract),
        "profile": profile_name,
        "seed": seed_value,
        "started_at": started_at,
        "seconds": round(time.perf_counter() - started, 3),
    }
    data = report.document(
        outcome,
        meta=meta,
        stage_requirements=stage_requirements(contract.revision),
        passes=recording.passes,
        notes=notes,
    )
    path = report.write(data, args.report_dir)
    print(report.console(data))
    print(f"reports: {path}, {args.report_dir / report.ALLURE_DIR}")
    for note in notes:
        print(f"note: {note}")
    return int(outcome.exit_code)


def main_record(args: Any) -> int:
    try:
        with as_keyboard_interrupt():
            return _record(args)
    except KeyboardInterrupt:
        print("cekura-conformance: interrupted: no cassette written", file=sys.stderr)
        return int(ExitCode.NO_VERDICT)


def _record(args: Any) -> int:
    try:
        config, profile, seed, contract = _reference_settings(args)
        preflight.check(config)
        out: Path = args.out
        if out.exists() and out.is_dir():
            raise ConfigurationError(f"--out {out} is a directory: give a file name (.json or .json.gz)")
    except ConfigurationError as exc:
        return _usage(str(exc))
    interruption = Interruption()
    interruption.install()
    ledger = out.parent / LEDGER if config.base_url is not None else None
    try:
        recording = record_reference(config, profile, seed, contract, interruption, ledger)
    finally:
        interruption.uninstall()
    if recording.error or recording.interrupted:
        print(f"cekura-conformance: {recording.error or recording.interrupted}: no cassette written", file=sys.stderr)
        return int(ExitCode.NO_VERDICT)
    from conformance.engine.redact import Scrubber

    recorded = cassettes.Cassette(
        recording.program,
        recording.answers,
        recording.noise,
        reference=config.label,
        contract=cassettes.contract_of(contract),
    )
    try:
        cassettes.save(recorded, out, Scrubber([config.api_key, config.other_api_key]))
    except ConfigurationError as exc:
        return _usage(str(exc))
    noisy = sum(len(p) for p in recording.noise.values())
    print(
        f"cassette {out}: {len(recording.program.steps)} steps, profile {profile.name}, seed {seed}, "
        f"{noisy} noisy places learned from two passes over {config.label}"
    )
    return int(ExitCode.CONFORMANT)
