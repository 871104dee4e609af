"""The property and stateful stages, one job a module:

* ``stages``: the stages and their parts (what runs, cut how, merged how): ``stage_for``, ``STAGES``;
* ``harness``: the ground every stage shares and each part's environment (sending cases, reading the widget);
* ``judging``: schemathesis's checks on one response, in one pass;
* ``findings``: what a stage found (``Finding``, ``StageResult``).

``from conformance.engine import properties`` gives the stages' names, as it did when this was one module.
"""

from __future__ import annotations

from conformance.engine.properties.stages import (
    EXPLICIT_STAGES,
    STAGES,
    UNIT_STAGES,
    PartResult,
    Stage,
    emitted_check_keys,
    failed_stage,
    generate_explicit,
    merge,
    part_seed,
    shares,
    stage_for,
    stage_seed,
)

__all__ = [
    "EXPLICIT_STAGES",
    "STAGES",
    "UNIT_STAGES",
    "PartResult",
    "Stage",
    "emitted_check_keys",
    "failed_stage",
    "generate_explicit",
    "merge",
    "part_seed",
    "shares",
    "stage_for",
    "stage_seed",
]
