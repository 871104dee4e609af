"""The request program: the ordered steps a run sends, with symbols where a target assigns values.

A step is one request as it went on the wire (method, path and query, headers, body bytes), the unit that sent it
(``Target.acting``: "preflight", "<REQ-ID> · <case>", "stage <name>", "property stages") and the tenant it speaks
for (never a key). What differs from target to target is not in the bytes but in ``refs``: spans of the URL or
the body that hold a symbol (``widget#3``: the id the target gave the third widget the program created;
``dashboard#1``; ``tag``: the run tag in fixture names). A step that creates an object ``binds`` its symbol to
the id the target answers with. Spans keep the bytes exact: a body the fuzzer made (invalid JSON, control
characters) is sent again byte for byte, with only the symbols' values spliced in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

TAG = "tag"
# An id symbol the target never bound (it refused the create): an id no object has, so the step still goes out.
UNBOUND = "0"
REQUIREMENT_SEPARATOR = " · "  # "<REQ-ID> · <case name>" (engine/runner.py)
STAGE_PREFIX = "stage "


@dataclass(frozen=True)
class Ref:
    """A span of a step's URL or body that holds a symbol's value."""

    where: str  # "url" or "body"
    start: int  # byte offset in the body, character offset in the URL
    length: int
    symbol: str  # "widget#3", "dashboard#1", "tag"


@dataclass(frozen=True)
class Step:
    unit: str
    tenant: str  # "primary", "other", "invalid" (``key`` then holds the invalid key sent) or "none"
    method: str
    url: str  # below the base URL, with the query: "/dashboards/widgets/17/?format=json"
    headers: tuple[tuple[str, str], ...] = ()  # as sent, without the key, Host, Content-Length and the like
    body: bytes | None = None
    refs: tuple[Ref, ...] = ()
    binds: str | None = None  # the symbol a 2xx answer's ``id`` is bound to
    key: str | None = None  # the literal key of an "invalid" step (no tenant's key: nothing to redact)

    @property
    def requirement(self) -> str | None:
        """The requirement id of a catalogue case's step; None for stages, the preflight and the ground."""
        head, sep, _ = self.unit.partition(REQUIREMENT_SEPARATOR)
        return head if sep else None

    @property
    def stage(self) -> str | None:
        return self.unit[len(STAGE_PREFIX) :] if self.unit.startswith(STAGE_PREFIX) else None

    def render(self, values: Mapping[str, str]) -> tuple[str, bytes | None]:
        """The URL and body with each symbol's value for one target (``UNBOUND`` for an id it never assigned)."""
        url, body = self.url, self.body
        for ref in sorted(self.refs, key=lambda r: r.start, reverse=True):  # from the end: offsets stay valid
            value = values.get(ref.symbol, UNBOUND)
            if ref.where == "url":
                url = url[: ref.start] + value + url[ref.start + ref.length :]
            elif body is not None:
                body = body[: ref.start] + value.encode() + body[ref.start + ref.length :]
        return url, body


@dataclass
class Answer:
    """What a target answered a step, symbolised for its pass (``symbols.Pass``): ids, the tag and timestamps
    replaced by symbols, so that answers from different targets compare."""

    status: int
    content_type: str | None = None
    allow: str | None = None
    kind: str = "empty"  # "json", "text" (not JSON, valid UTF-8), "bytes" (base64 in ``value``), "empty"
    value: Any = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "content_type": self.content_type,
            "allow": self.allow,
            "kind": self.kind,
            "value": self.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Answer:
        return cls(
            status=int(data["status"]),
            content_type=data.get("content_type"),
            allow=data.get("allow"),
            kind=str(data.get("kind", "empty")),
            value=data.get("value"),
        )


@dataclass
class Program:
    """The steps in the order they were sent, and what produced them."""

    steps: list[Step] = field(default_factory=list)
    seed: int | None = None
    profile: str = ""
    revision: str = ""

    def units(self) -> list[str]:
        return list(dict.fromkeys(step.unit for step in self.steps))
