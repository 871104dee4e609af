"""Run profiles: how much the property layer generates. Catalogue cases always run in full."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.engine.errors import ConfigurationError


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    examples_phase: bool  # the fragment's own examples
    coverage_phase: bool  # schemathesis's deterministic boundary cases
    fuzz_examples: int  # Hypothesis examples per generation mode (positive, negative)
    stateful_examples: int  # state-machine scenarios
    stateful_steps: int  # steps per scenario at most
    shrink: bool = True  # shrink failures to a minimal example
    fixed_seed: int | None = None  # the certify profile always uses the same seed


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("quick", "every requirement, a light property layer (CI on every deploy)", True, True, 40, 15, 5),
        Profile("full", "every requirement, a thorough property layer (release gate)", True, True, 300, 60, 8),
        Profile(
            "certify",
            "every phase, more examples, a fixed seed (vendor certification)",
            True,
            True,
            500,
            100,
            10,
            fixed_seed=20260101,
        ),
    )
}


def get(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ConfigurationError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}") from None
