"""The figures the READMEs give about the catalogue and the variants are the catalogue's and the registry's."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from conformance.emulator.faults import CONVENTION_VARIANTS, LIVE_VARIANTS, VARIANTS, faults_for
from conformance.engine.catalogue import default

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
CATALOGUE_README = (ROOT / "conformance" / "catalogue" / "README.md").read_text(encoding="utf-8")


def _stated(text: str) -> tuple[int, int, int, int]:
    found = re.search(r"(\d+) requirements — (\d+) MUST, (\d+) SHOULD[^0-9]*?(\d+) hand-written cases", text, re.S)
    assert found, "no 'N requirements — M MUST, S SHOULD ... K hand-written cases' sentence"
    total, must, should, cases = (int(group) for group in found.groups())
    return total, must, should, cases


def _actual() -> tuple[int, int, int, int]:
    requirements = default().requirements
    levels = Counter(r.level.value for r in requirements)
    return len(requirements), levels["MUST"], levels["SHOULD"], sum(len(r.cases) for r in requirements)


def test_both_readmes_count_the_catalogue_as_it_is() -> None:
    assert _stated(README) == _actual()
    assert _stated(CATALOGUE_README) == _actual()


def test_the_readme_counts_the_variants_as_registered() -> None:
    assert f"against {len(VARIANTS)} faulty variants" in README
    assert f"({len(VARIANTS)} + {len(CONVENTION_VARIANTS)} variants" in README
    live = len(faults_for("live"))
    assert live == len(VARIANTS) + len(LIVE_VARIANTS)
    assert f"plus {len(LIVE_VARIANTS)} of the live additions" in README
    assert f"{live} + {len(CONVENTION_VARIANTS)} variants" in README
