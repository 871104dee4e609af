"""GitHub Actions' side of the conversation: workflow commands on stdout, and the files a step appends to.

Workflow commands are lines ``::name key=value,key=value::message``; the runner reads them from the step's
output. Data escapes ``%``, CR and LF; property values also ``:`` and ``,`` (they delimit the properties).
Outputs go to ``$GITHUB_OUTPUT`` as ``name=value``, or ``name<<DELIMITER`` ... ``DELIMITER`` for a value that
spans lines; the job summary is Markdown appended to ``$GITHUB_STEP_SUMMARY``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", **properties: str) -> str:
    """One workflow command line, e.g. ``command("error", "why", title="WPATCH-RO-01")``."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def output_lines(values: Mapping[str, str]) -> str:
    """``$GITHUB_OUTPUT`` text for the values: one line each, or a heredoc with a fresh delimiter."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            lines += [f"{name}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


def append(path: str | None, text: str) -> bool:
    """Append to a runner file (``$GITHUB_OUTPUT``, ``$GITHUB_STEP_SUMMARY``); False outside a runner."""
    if not path:
        return False
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(text)
    return True
