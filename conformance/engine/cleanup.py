"""Delete what a run created, by id, with each tenant's own key: at the end of a run, after a signal under a
deadline, and from a ledger file after a run was killed (``cekura-conformance cleanup``).

A creating POST whose answer was never read may still have created an object the ledger cannot name. Ids of
the API are sequential integers, so the few ids after the highest one the ledger knows are read (GET only), and
the ids missing from the ledger just below it (with ``--concurrency`` an unanswered POST may have got an id
before another worker's answered one); whatever carries the run's tag in its name is taken into the ledger.
When the ids find nothing (or the ledger knows no id of that kind: the run was killed before its first answer),
the tenant's list of that kind is read for names with the run's tag. Only there does a name tag count: an
object whose creation the run never saw answered cannot have been renamed by the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.engine.answers import json_or_none
from conformance.engine.interrupt import request_timeout
from conformance.engine.ledger import PATHS, Created, Posting

PROBE_SPAN = 20  # ids read after the highest known one, per kind with an unanswered POST
GAP_SPAN = 40  # ids below the highest known one read when the ledger does not know them (other workers' gaps)
LIST_PAGES = 10  # pages of LIST_PAGE_SIZE read per kind and tenant when the ids did not find every object
LIST_PAGE_SIZE = 100
# (method, path, tenant, timeout) -> response; raises httpx.HTTPError or TargetUnavailable when unanswered
Send = Callable[[str, str, str, "float | None"], httpx.Response]
# The deadline as it is now: a signal during a normal run's cleanup sets one while it runs.
Deadline = Callable[[], "float | None"]


def no_deadline() -> float | None:
    return None


@dataclass
class CleanupReport:
    deleted: list[Created] = field(default_factory=list)  # by this cleanup (or found already gone)
    left: list[Created] = field(default_factory=list)  # still there, or not known to be gone, with a note why
    found: list[Created] = field(default_factory=list)  # objects of unanswered POSTs, found by their tag
    unresolved: list[Posting] = field(default_factory=list)  # unanswered POSTs nothing was found for
    timed_out: bool = False
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "deleted": len(self.deleted),
            "left": len(self.left),
            "found_by_tag": [c.__dict__ for c in self.found],
            "unanswered_posts": [p.__dict__ for p in self.unresolved],
            "timed_out": self.timed_out,
            "seconds": round(self.seconds, 3),
        }

    def line(self, created: int) -> str:
        """One line: what the run created, what is deleted and what is left, for the console and the verdict."""
        left = f"{len(self.left)} left on the target" if self.left else "none left on the target"
        text = f"the run created {created} object(s): {created - len(self.left)} deleted, {left}"
        if self.timed_out:
            text += " (the cleanup deadline passed)"
        if self.unresolved:
            text += (
                f"; {len(self.unresolved)} POST(s) got no answer and nothing with the run's tag was found after the "
                "highest known ids"
            )
        return text


def _late(deadline: Deadline) -> bool:
    at = deadline()
    return at is not None and time.monotonic() >= at


def _listed(send: Send, kind: str, tenant: str, tag: str, deadline: Deadline) -> list[tuple[Any, str]]:
    """``(id, name)`` of the tenant's objects of ``kind`` whose name carries ``tag``, from the paginated list
    (DRF's ``{"results", "next"}``, or a plain list), at most LIST_PAGES pages."""
    listed: list[tuple[Any, str]] = []
    for page in range(1, LIST_PAGES + 1):
        if _late(deadline):
            break
        path = f"{PATHS[kind]}?page={page}&page_size={LIST_PAGE_SIZE}"
        try:
            response = send("GET", path, tenant, request_timeout(deadline()))
            body = json_or_none(response) if response.status_code == 200 else None
        except Exception:  # no answer: nothing more to read (a body that is not JSON reads as None)
            break
        items = body.get("results") if isinstance(body, dict) else body
        if not isinstance(items, list):
            break
        for item in items:
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str) and name.startswith(tag) and item.get("id") is not None:
                listed.append((item["id"], name))
        if not (isinstance(body, dict) and body.get("next")):
            break
    return listed


def probe(
    send: Send, entries: list[Created], unanswered: list[Posting], tag: str, deadline: Deadline = no_deadline
) -> tuple[list[tuple[str, Any, str, str]], list[Posting]]:
    """Objects with the run's tag among the ids of each kind an unanswered POST was for that the ledger does not
    know: just after the highest known id and in the gaps just below it; then, if that did not find one object
    per POST, in the tenant's list of that kind.

    Returns ``(kind, id, tenant, name)`` of each found, and the POSTs nothing was found for.
    """
    found: list[tuple[str, Any, str, str]] = []
    unresolved: list[Posting] = []
    for kind in PATHS:
        posts = [p for p in unanswered if p.kind == kind]
        if not posts:
            continue
        known = [int(c.id) for c in entries if c.kind == kind and isinstance(c.id, int)]
        tenants = {("primary" if p.tenant in ("none", "invalid") else p.tenant) for p in posts}
        hits = 0
        if known and tag:
            top, seen = max(known), set(known)
            gaps = [i for i in range(max(1, top - GAP_SPAN), top) if i not in seen]
            for candidate in [*gaps, *range(top + 1, top + 1 + PROBE_SPAN)]:
                for tenant in sorted(tenants):
                    if _late(deadline):
                        return found, unresolved + posts[hits:]
                    try:
                        response = send("GET", f"{PATHS[kind]}{candidate}/", tenant, request_timeout(deadline()))
                        body = json_or_none(response) if response.status_code == 200 else None
                    except Exception:  # no answer: nothing to take (a body that is not JSON reads as None)
                        continue
                    name = body.get("name") if isinstance(body, dict) else None
                    if isinstance(name, str) and name.startswith(tag):
                        found.append((kind, candidate, tenant, name))
                        hits += 1
        if hits < len(posts) and tag:
            taken = {(k, i) for k, i, _, _ in found} | {(kind, c.id) for c in entries if c.kind == kind}
            for tenant in sorted(tenants):
                for id_, name in _listed(send, kind, tenant, tag, deadline):
                    if (kind, id_) not in taken:
                        taken.add((kind, id_))
                        found.append((kind, id_, tenant, name))
                        hits += 1
        unresolved += posts[hits:]
    return found, unresolved


def delete(
    send: Send,
    entries: list[Created],
    *,
    deadline: Deadline = no_deadline,
    timeout: float | None = None,
    on_gone: Callable[[Created, str], None] | None = None,
) -> CleanupReport:
    """Delete every entry not yet deleted: widgets before dashboards, newest first, each with its tenant's key.

    A 2xx or 404 answer means gone (a dashboard's deletion takes its widgets; a case deleted its own).
    """
    started = time.monotonic()
    report = CleanupReport()
    for kind in ("widget", "dashboard"):
        for item in reversed(entries):
            if item.kind != kind or item.deleted:
                continue
            if _late(deadline):
                report.timed_out = True
                item.note = "not deleted: the cleanup deadline passed"
                report.left.append(item)
                continue
            tenant = "primary" if item.auth in ("none", "invalid") else item.auth
            try:
                response = send("DELETE", f"{PATHS[kind]}{item.id}/", tenant, request_timeout(deadline(), timeout))
            except Exception as exc:  # no answer in time: the object may still be there
                item.note = f"not deleted: DELETE got no answer ({type(exc).__name__})"
                report.left.append(item)
                continue
            if 200 <= response.status_code < 300 or response.status_code == 404:
                note = "deleted" if response.status_code != 404 else "already gone (404)"
                if on_gone is not None:
                    on_gone(item, note)
                else:
                    item.deleted, item.note = True, note
                report.deleted.append(item)
            else:
                item.note = f"not deleted: DELETE answered {response.status_code}"
                report.left.append(item)
    report.seconds = time.monotonic() - started
    return report
