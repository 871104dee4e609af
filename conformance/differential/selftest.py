"""``selftest --differential``: the differential kill table, independent of the catalogue.

The program is recorded once from the clean emulator (two passes: the program and its noise), then replayed
against each faulty variant and once more against the clean emulator. A variant is caught when the diff finds
a divergence at every place it declares it touches (``Fault.touches``: ``status``, ``header:Allow``,
``$.metric_name``, ...; a prefix covers what is under it); the clean emulator must show none.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from conformance import contract as contract_module
from conformance.differential.command import Recording, record_reference
from conformance.differential.compare import matches
from conformance.differential.outcome import judge
from conformance.differential.replay import replay
from conformance.emulator import Behaviour, create_app
from conformance.emulator.faults import Fault
from conformance.engine.interrupt import Interruption
from conformance.engine.profiles import Profile
from conformance.engine.target import TargetConfig
from conformance.settings import EMBEDDED_KEY, EMBEDDED_OTHER_KEY

CLEAN = "clean emulator"
Write = Callable[[str], None]


@dataclass
class Row:
    name: str
    touches: tuple[str, ...]
    divergences: int = 0
    paths: Counter[str] = field(default_factory=Counter)  # general path -> count
    error: str | None = None
    seconds: float = 0.0

    @property
    def untouched(self) -> list[str]:
        """Declared places where nothing diverged."""
        return [t for t in self.touches if not any(matches(p, (t,)) for p in self.paths)]

    @property
    def ok(self) -> bool:
        if self.error is not None:
            return False
        if self.name == CLEAN:
            return self.divergences == 0
        return bool(self.touches) and self.divergences > 0 and not self.untouched

    def line(self, width: int) -> str:
        if self.error is not None:
            state, detail = "ERROR", self.error
        elif self.name == CLEAN:
            state = "SAME" if self.ok else "DIVERGED"
            detail = f"{self.divergences} divergences"
        else:
            state = "CAUGHT" if self.ok else ("MISPLACED" if self.divergences else "MISSED")
            top = ", ".join(f"{p} ({n})" for p, n in self.paths.most_common(4))
            detail = f"{self.divergences} divergences: {top or '-'}"
            if not self.touches:
                detail += "; declares no touches"
            elif self.untouched:
                detail += f"; nothing at {', '.join(self.untouched)}"
        return f"{self.name:<{width}}  {state:<9} {detail}  [{self.seconds:.1f} s]"


def _config(behaviour: type[Behaviour], contract: contract_module.Contract) -> TargetConfig:
    return TargetConfig(
        api_key=EMBEDDED_KEY,
        other_api_key=EMBEDDED_OTHER_KEY,
        app_factory=lambda: create_app(behaviour=behaviour, contract=contract),
    )


def reference(profile: Profile, seed: int, revision: str) -> Recording:
    contract = contract_module.get(revision)
    return record_reference(_config(Behaviour, contract), profile, seed, contract, Interruption())


def sweep(recording: Recording, name: str, behaviour: type[Behaviour], revision: str) -> Row:
    """Replay the recorded program against one variant and see where it diverges."""
    touches = behaviour.touches if issubclass(behaviour, Fault) else ()
    row = Row(name, touches)
    started = time.perf_counter()
    contract = contract_module.get(revision)
    result = replay(recording.program, _config(behaviour, contract))
    outcome = judge(recording.program, recording.answers, result.answers, recording.noise)
    row.divergences = len(outcome.divergences)
    row.paths = Counter(d.general for d in outcome.divergences)
    row.error = result.error or result.interrupted
    row.seconds = time.perf_counter() - started
    return row


def run(
    profile: Profile,
    seed: int,
    variants: Sequence[tuple[str, type[Fault], str]],
    *,
    revision: str,
    write: Write,
) -> int:
    started = time.perf_counter()
    profile = dataclasses.replace(profile, shrink=False)
    recording = reference(profile, seed, revision)
    if recording.error or recording.interrupted:
        write(f"error: the clean emulator's recording failed: {recording.error or recording.interrupted}")
        return 1
    width = max([len(CLEAN), *(len(name) for name, _, _ in variants)])
    write(
        f"differential selftest: {len(recording.program.steps)} steps recorded from the clean emulator "
        f"(revision {revision}, profile {profile.name}, seed {seed}); replayed against {len(variants)} variants"
    )
    rows = []
    for name, behaviour, _kind in variants:
        rows.append(sweep(recording, name, behaviour, revision))
        write(rows[-1].line(width))
    clean = sweep(recording, CLEAN, Behaviour, revision)
    write(clean.line(width))
    caught = sum(r.ok for r in rows)
    diverged = sum(r.divergences > 0 for r in rows)
    write("")
    write(f"diverged: {diverged}/{len(rows)} variants; at the places they touch: {caught}/{len(rows)}")
    missed = [r.name for r in rows if not r.ok]
    if missed:
        write("not caught where declared: " + ", ".join(missed))
    write(f"wall time: {time.perf_counter() - started:.1f} s")
    passed = caught == len(rows) and clean.ok
    write("DIFFERENTIAL SELFTEST PASSED" if passed else "DIFFERENTIAL SELFTEST FAILED")
    return 0 if passed else 1
