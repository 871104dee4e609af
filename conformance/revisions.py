"""The contract revisions this suite ships, by name: light enough for the option declarations (options.py) that
every pytest start loads; ``conformance.contract`` loads them and re-exports these names."""

from __future__ import annotations

from collections.abc import Mapping

#: The revisions this suite ships, oldest first, with their files (in ``openapi/``, or ``_data/`` in the wheel).
REVISIONS: Mapping[str, str] = {"seed": "widgets.yaml", "live": "widgets-live.yaml"}
DEFAULT_REVISION = "seed"
