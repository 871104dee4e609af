"""Where the real API's choice is unknown: the emulator's pick, and the other one behind a switch.

Each field is one open question the published docs do not answer (Part C of the reference). The default is the
emulator's documented guess; the alternative is offered so that the suite can be shown not to depend on it
(``tests/emulator/test_guesses_verdict.py`` runs the suite once per alternative and expects the same verdict).
Switch them in a seed file (``guesses:`` mapping) or with ``cekura-conformance emulator --guess NAME=VALUE``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conformance._types import JSON


@dataclass(frozen=True)
class Guesses:
    """The emulator's answers to what the docs leave open."""

    #: 401 with ``WWW-Authenticate`` for a missing or unknown key (DRF, when the authentication class names a
    #: challenge), or 403 without it (DRF, when it does not).
    auth_failure_status: int = 401
    #: ``any``: a condition's ``value`` is not checked against its operator (the published schema leaves it
    #: untyped); ``checked``: ``in`` needs a list and ``isnull`` a boolean, else 400.
    filter_value_types: str = "any"
    #: What ``filters`` holds after a create that does not send it: ``null`` (a nullable JSONField without a
    #: default) or ``{}`` (``default=dict``).
    filters_default: str = "null"
    #: Whether DRF's browsable API renderer is enabled (``Accept: text/html`` gets an HTML page instead of 406).
    browsable_api: bool = False
    #: ``PAGE_SIZE`` and ``max_page_size`` of the lists (the docs name ``page_size`` but no default or maximum).
    page_size: int = 10
    max_page_size: int = 100

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.auth_failure_status not in (401, 403) or isinstance(self.auth_failure_status, bool):
            problems.append(f"auth_failure_status must be 401 or 403, not {self.auth_failure_status!r}")
        if self.filter_value_types not in ("any", "checked"):
            problems.append(f"filter_value_types must be 'any' or 'checked', not {self.filter_value_types!r}")
        if self.filters_default not in ("null", "{}"):
            problems.append(f"filters_default must be 'null' or '{{}}', not {self.filters_default!r}")
        if not isinstance(self.browsable_api, bool):
            problems.append(f"browsable_api must be true or false, not {self.browsable_api!r}")
        for name in ("page_size", "max_page_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.append(f"{name} must be a positive integer, not {value!r}")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def default_filters(self) -> JSON:
        return None if self.filters_default == "null" else {}


#: The alternative to each default, as the switch-test flips them one at a time.
ALTERNATIVES: Mapping[str, JSON] = {
    "auth_failure_status": 403,
    "filter_value_types": "checked",
    "filters_default": "{}",
    "browsable_api": True,
}


def guesses_from_mapping(data: JSON) -> Guesses:
    """``Guesses`` from a seed file's ``guesses:`` mapping; unknown names and bad values are errors."""
    if data is None:
        return Guesses()
    if not isinstance(data, Mapping):
        raise ValueError("'guesses' must be a mapping of name: value")
    known = {f.name for f in dataclasses.fields(Guesses)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown guess {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}")
    values = {name: _coerce(name, value) for name, value in data.items()}
    return Guesses(**values)


def guesses_from_options(options: Iterable[str], base: Guesses | None = None) -> Guesses:
    """Apply ``NAME=VALUE`` strings (the CLI's ``--guess``) on top of ``base``."""
    values: dict[str, JSON] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep:
            raise ValueError(f"--guess takes NAME=VALUE, not {option!r}")
        values[name.strip()] = value.strip()
    current = dataclasses.asdict(base or Guesses())
    return guesses_from_mapping({**current, **values})


def _coerce(name: str, value: JSON) -> JSON:
    """Text from the command line (or YAML scalars) as the field's type."""
    if name in ("auth_failure_status", "page_size", "max_page_size") and isinstance(value, str):
        return int(value) if value.strip().isdigit() else value
    if name == "browsable_api" and isinstance(value, str):
        lowered = value.strip().lower()
        return {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}.get(lowered, value)
    if name == "filters_default":
        if value is None or value == "null":
            return "null"
        if value == {} or value == "{}":
            return "{}"
    return value
