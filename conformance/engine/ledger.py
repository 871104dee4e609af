"""The ledger of every object a run created, by id, and its file ``REPORT_DIR/ledger.jsonl``.

Objects are tracked by id, never by name: the property stages' stateful sequences and the fuzzer rename
what they create. The one HTTP seam (``Target.send``) feeds the ledger, so every object enters it as soon as
its 2xx answer arrives, whoever sent the POST (a catalogue fixture or schemathesis' stateful sequence).

The file gets one flushed JSON line per event, so a run killed outright (SIGKILL) still leaves a record for
``cekura-conformance cleanup``. It names the tenant that created each object (``primary`` or ``other``),
never a key. Events::

    {"event": "run", "tag", "target", "started_at", "suite_version"}   first line
    {"event": "posting", "seq", "kind", "tenant"}                       a creating POST is about to be sent
    {"event": "created", "seq", "kind", "id", "tenant", "name"}         its answer: created (2xx with an id)
    {"event": "refused", "seq", "status"}                               its answer: nothing created
    {"event": "deleted", "kind", "id", "tenant"}                        a cleanup saw it gone (deleted, or 404)
    {"event": "probed", "seq"}                   ``cleanup`` found nothing with the run's tag after the known ids

A ``posting`` with neither ``created`` nor ``refused`` after it is a POST whose answer was never read: the
target may have created an object the ledger cannot name (see ``conformance.engine.cleanup``).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from conformance import __version__
from conformance.engine.answers import json_or_none

LEDGER = "ledger.jsonl"
# The collections the suite creates objects in, and the item paths it deletes them at.
PATHS = {"dashboard": "/dashboards/dashboards/", "widget": "/dashboards/widgets/"}
KINDS = {path: kind for kind, path in PATHS.items()}
EMBEDDED = "embedded"


@dataclass
class Created:
    kind: str
    id: Any
    auth: str  # the tenant that created it: "primary", "other" (or "none"/"invalid" on a target ignoring keys)
    name: str
    deleted: bool = False
    note: str = ""


@dataclass
class Posting:
    seq: int
    kind: str
    tenant: str


@dataclass
class Ledger:
    """What a run created, in memory for the run's own cleanup and, with a ``path``, in the ledger file."""

    tag: str
    target: str  # the target's label: its base URL, or "embedded"
    path: Path | None = None
    scrub: Callable[[str], str] = str
    entries: list[Created] = field(default_factory=list)
    unanswered: list[Posting] = field(default_factory=list)  # creating POSTs whose answer never arrived
    _seq: int = 0
    _file: IO[str] | None = None
    # Workers and the cleanup's thread record side by side; each thread collects what it created (``collecting``).
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    # -- the file --------------------------------------------------------------------------------------------
    def open(self, started_at: str) -> str | None:
        """Start the file (truncating a finished run's); returns a note when an earlier run left objects."""
        if self.path is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        note = None
        if self.path.exists():
            previous = read(self.path)
            if previous.outstanding():
                # Never overwrite the only record of objects left on a target: keep it for `cleanup`.
                aside = self.path.with_name(f"ledger-{previous.tag or 'unknown'}.jsonl")
                self.path.replace(aside)
                note = (
                    f"an earlier run (tag {previous.tag}) left {previous.outstanding_text()} on {previous.target}; "
                    f"its ledger is kept as {aside}: `cekura-conformance cleanup --report-dir {self.path.parent}` "
                    "deletes them"
                )
        self._file = self.path.open("w", encoding="utf-8")
        self._write(
            {
                "event": "run",
                "tag": self.tag,
                "target": self.target,
                "started_at": started_at,
                "suite_version": __version__,
            }
        )
        return note

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def _write(self, event: dict[str, Any]) -> None:
        if self._file is None:
            return
        # One write and a flush per event: what the kernel has survives a SIGKILL of this process.
        self._file.write(self.scrub(json.dumps(event, ensure_ascii=False, default=str)) + "\n")
        self._file.flush()

    # -- events from the HTTP seam ---------------------------------------------------------------------------
    def posting(self, kind: str, tenant: str) -> Posting:
        with self._lock:
            self._seq += 1
            post = Posting(self._seq, kind, tenant)
            self.unanswered.append(post)
            self._write({"event": "posting", "seq": post.seq, "kind": kind, "tenant": tenant})
        return post

    def answered(self, post: Posting, response: httpx.Response) -> Created | None:
        """Record a creating POST's answer: an object when it is a 2xx JSON object with an id."""
        body = json_or_none(response) if 200 <= response.status_code < 300 else None
        with self._lock:
            if isinstance(body, dict) and body.get("id") is not None:
                name = body.get("name")
                item = self.add(post.kind, body["id"], post.tenant, name if isinstance(name, str) else "", seq=post.seq)
            else:
                item = None
                self._write({"event": "refused", "seq": post.seq, "status": response.status_code})
            if post in self.unanswered:  # the cleanup may have given up on it meanwhile
                self.unanswered.remove(post)
        return item

    def add(self, kind: str, id: Any, tenant: str, name: str, *, seq: int | None = None, note: str = "") -> Created:
        item = Created(kind, id, tenant, name[:255], note=note)
        with self._lock:
            self.entries.append(item)
            event: dict[str, Any] = {"event": "created", "seq": seq, "kind": kind, "id": id, "tenant": tenant}
            self._write({**event, "name": item.name, **({"note": note} if note else {})})
        for collected in getattr(self._local, "collectors", ()):
            collected.append(item)
        return item

    @contextlib.contextmanager
    def collecting(self) -> Iterator[list[Created]]:
        """What this thread creates inside the block (nested blocks each get it), whatever other threads create."""
        collectors: list[list[Created]] = self._local.__dict__.setdefault("collectors", [])
        mine: list[Created] = []
        collectors.append(mine)
        try:
            yield mine
        finally:
            del collectors[next(i for i, c in enumerate(collectors) if c is mine)]  # by identity: [] == []

    def snapshot(self) -> list[Created]:
        with self._lock:
            return list(self.entries)

    def find(self, kind: str, id: Any) -> Created | None:
        key = str(id)
        return next((c for c in reversed(self.entries) if c.kind == kind and str(c.id) == key), None)

    def gone(self, item: Created, note: str = "") -> None:
        with self._lock:
            if item.deleted:
                return
            item.deleted = True
            item.note = note
            self._write({"event": "deleted", "kind": item.kind, "id": item.id, "tenant": item.auth})

    def leftovers(self) -> list[Created]:
        return [c for c in self.entries if not c.deleted]


@dataclass
class Recorded:
    """A ledger file as read back (by ``cleanup``, or by a new run finding an earlier run's file)."""

    path: Path
    tag: str | None = None
    target: str | None = None
    started_at: str | None = None
    entries: list[Created] = field(default_factory=list)
    unanswered: list[Posting] = field(default_factory=list)
    unreadable: int = 0  # lines that did not parse (a line cut by a kill)

    @property
    def embedded(self) -> bool:
        return self.target == EMBEDDED

    def leftovers(self) -> list[Created]:
        return [c for c in self.entries if not c.deleted]

    def outstanding(self) -> bool:
        """Objects (known or possibly created) that may still be on an HTTP target."""
        return not self.embedded and bool(self.leftovers() or self.unanswered)

    def outstanding_text(self) -> str:
        text = f"{len(self.leftovers())} object(s)"
        if self.unanswered:
            text += f" and {len(self.unanswered)} unanswered POST(s)"
        return text


def read(path: Path) -> Recorded:
    recorded = Recorded(path)
    postings: dict[int, Posting] = {}
    by_key: dict[tuple[str, str], Created] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            recorded.unreadable += 1
            continue
        if not isinstance(event, dict):
            recorded.unreadable += 1
            continue
        kind = event.get("event")
        if kind == "run":
            recorded.tag, recorded.target = event.get("tag"), event.get("target")
            recorded.started_at = event.get("started_at")
        elif kind == "posting":
            postings[int(event["seq"])] = Posting(int(event["seq"]), str(event["kind"]), str(event["tenant"]))
        elif kind == "created":
            postings.pop(event.get("seq") or -1, None)
            name, note = str(event.get("name", "")), str(event.get("note", ""))
            item = Created(str(event["kind"]), event["id"], str(event["tenant"]), name, note=note)
            by_key[(item.kind, str(item.id))] = item
            recorded.entries.append(item)
        elif kind in ("refused", "probed"):
            postings.pop(int(event["seq"]), None)
        elif kind == "deleted":
            found = by_key.get((str(event["kind"]), str(event["id"])))
            if found is not None:
                found.deleted = True
    recorded.unanswered = list(postings.values())
    return recorded


def append(path: Path, events: list[dict[str, Any]]) -> None:
    """Add events to an existing ledger file (``cleanup`` records what it deleted)."""
    with path.open("a", encoding="utf-8") as out:
        for event in events:
            out.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            out.flush()
