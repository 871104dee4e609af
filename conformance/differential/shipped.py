"""The cassette that ships in the package: the embedded emulator's answers to the ``quick`` program.

A vendor replays it against a mock with no key of Cekura's (``diff --cassette shipped --candidate-url URL``).
Regenerate it after a change of the emulator's behaviour or of the program (the test
``tests/differential/test_shipped.py`` says when it no longer replays against the emulator without divergence)::

    .venv/bin/python -m conformance.differential.shipped
"""

from __future__ import annotations

import sys
from pathlib import Path

from conformance.engine.redact import Scrubber

NAME = "shipped"  # ``--cassette shipped``: this file (a file of that name is ./shipped)
PATH = Path(__file__).resolve().parent / "data" / "emulator-quick.cassette.json.gz"
SEED = 20260101
PROFILE = "quick"
REVISION = "seed"


def resolve(value: Path) -> Path:
    return PATH if str(value) == NAME else value


def record(path: Path = PATH) -> int:
    """Record the program from the embedded emulator (two passes) into ``path``; the number of steps."""
    from conformance import contract as contract_module
    from conformance.differential import cassette
    from conformance.differential.command import record_reference
    from conformance.engine.interrupt import Interruption
    from conformance.engine.profiles import get
    from conformance.settings import RunOptions, build

    settings = build(RunOptions(profile=PROFILE, seed=SEED, revision=REVISION, report_dir=path.parent))
    contract = contract_module.get(REVISION)
    recording = record_reference(settings.target, settings.profile or get(PROFILE), SEED, contract, Interruption())
    if recording.error or recording.interrupted:
        raise RuntimeError(f"recording failed: {recording.error or recording.interrupted}")
    recorded = cassette.Cassette(
        recording.program,
        recording.answers,
        recording.noise,
        reference=settings.target.label,
        contract=cassette.contract_of(contract),
    )
    cassette.save(recorded, path, Scrubber([settings.target.api_key, settings.target.other_api_key]))
    return len(recording.program.steps)


def main() -> int:
    steps = record()
    print(f"{PATH}: {steps} steps (profile {PROFILE}, seed {SEED}, revision {REVISION}), {PATH.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
