"""Create the dashboards and widgets a run needs, tagged by run, and always delete them again."""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.engine.answers import json_or_none
from conformance.engine.cleanup import CleanupReport, Deadline, no_deadline, probe
from conformance.engine.cleanup import delete as delete_objects
from conformance.engine.errors import ConformanceFailure, SuiteError, TargetUnavailable
from conformance.engine.ledger import PATHS, Created
from conformance.engine.target import Target

TAG_PREFIX = "cwc-"

__all__ = ["PATHS", "TAG_PREFIX", "Created", "FixtureError", "Fixtures", "new_tag"]


def new_tag() -> str:
    """A per-run tag put in every fixture's name: ``cwc-<utc date>-<random>``."""
    return f"{TAG_PREFIX}{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


class FixtureError(SuiteError):
    """The target refused to create a fixture (4xx, 5xx): the checks that need it cannot be judged.

    ``target_error`` ("POST /dashboards/widgets/ answered 500") groups the refusals: the run states each
    once, with a count, and the cases that needed the fixture are errored by the target, not the suite.
    """

    def __init__(self, message: str, *, target_error: str) -> None:
        super().__init__(message)
        self.target_error = target_error


class FixtureAnswerInvalid(ConformanceFailure):
    """The target said it created a fixture (2xx) but its answer is no usable object (not JSON, no ``id``):
    the target's failure of the requirement the case checks."""

    def __init__(self, message: str, *, target_error: str) -> None:
        super().__init__(message)
        self.target_error = target_error


@dataclass
class Fixtures:
    """The run's fixtures. What was created is in the target's ledger (every creating POST, by id);
    ``cleanup`` deletes whatever of it is left, widgets first."""

    target: Target
    tag: str
    refused: Counter[str] = field(default_factory=Counter)  # "POST /dashboards/widgets/ answered 500" -> times
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def ledger(self) -> list[Created]:
        return self.target.ledger.entries

    def create(self, kind: str, body: dict[str, Any], *, auth: str = "primary", label: str = "") -> dict[str, Any]:
        body = dict(body)
        name = body.get("name")
        body["name"] = f"{self.tag} {label or kind}{' ' + name if isinstance(name, str) and name else ''}"[:255]
        response = self.target.request("POST", PATHS[kind], json=body, auth=auth)
        answered = f"POST {PATHS[kind]} answered {response.status_code}"
        if not 200 <= response.status_code < 300:
            with self._lock:
                self.refused[answered] += 1
            raise FixtureError(
                f"could not create the {kind} fixture {label!r}: {answered}: {response.text[:300]}",
                target_error=answered,
            )
        created = json_or_none(response)
        if not isinstance(created, dict) or "id" not in created:
            what = "no JSON object" if not isinstance(created, dict) else "an object without `id`"
            raise FixtureAnswerInvalid(
                f"creating the {kind} fixture {label!r}: {answered} with {what}: {response.text[:300]}",
                target_error=f"{answered} with {what}",
            )
        return created

    def delete(self, item: Created) -> None:
        if item.deleted:
            return
        try:
            response = self.target.request("DELETE", f"{PATHS[item.kind]}{item.id}/", auth=item.auth)
        except TargetUnavailable as exc:
            item.note = str(exc)
            return
        # 404: already gone (a dashboard delete cascades to its widgets; a case deleted it itself).
        if response.status_code in (200, 202, 204, 404):
            self.target.ledger.gone(item, "deleted" if response.status_code != 404 else "already gone (404)")
        else:
            item.note = f"DELETE answered {response.status_code}"

    @contextlib.contextmanager
    def scope(self) -> Iterator[list[Created]]:
        """Objects this thread creates inside (fixtures, and what generated requests create) are deleted on
        leaving, whatever happened; other workers' objects are theirs. Yields the list of them, as created.

        After a stop (a signal), nothing is sent here: the run's final cleanup deletes everything, by deadline.
        """
        with self.target.ledger.collecting() as mine:
            try:
                yield mine
            finally:
                if not self.target.interruption.requested:
                    self._delete(list(mine))

    def cleanup(self, *, deadline: Deadline = no_deadline) -> CleanupReport:
        """Delete every object of the ledger still there; with a deadline, stop there and say what is left."""
        target = self.target

        def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
            return target.request_now(method, path, auth=tenant, timeout=timeout)

        ledger = target.ledger
        if ledger.unanswered:
            found, ledger.unanswered = probe(send, ledger.snapshot(), list(ledger.unanswered), self.tag, deadline)
            for kind, id, tenant, name in found:
                ledger.add(kind, id, tenant, name, note="found by its run tag: its POST's answer was never read")
        seen = ledger.snapshot()
        report = delete_objects(send, seen, deadline=deadline, on_gone=ledger.gone)
        # A worker's POST answered while this ran (after the grace the stop gave it): its object too.
        late = [c for c in ledger.snapshot() if not any(c is s for s in seen)]
        if late:
            more = delete_objects(send, late, deadline=deadline, on_gone=ledger.gone)
            report.deleted += more.deleted
            report.left += more.left
            report.timed_out = report.timed_out or more.timed_out
            report.seconds += more.seconds
        report.unresolved = list(ledger.unanswered)
        return report

    def _delete(self, items: list[Created]) -> None:
        # Widgets before dashboards, newest first, so nothing is deleted out from under another.
        for kind in ("widget", "dashboard"):
            for item in reversed(items):
                if item.kind == kind:
                    self.delete(item)

    def leftovers(self) -> list[Created]:
        return [c for c in self.ledger if not c.deleted]

    def as_dict(self) -> dict[str, Any]:
        ledger = self.target.ledger
        return {
            "tag": self.tag,
            "ledger": str(ledger.path) if ledger.path else None,
            "created": [c.__dict__ for c in self.ledger],
            "deleted": [c.__dict__ for c in self.ledger if c.deleted],
            "leftovers": [c.__dict__ for c in self.leftovers()],
            "unanswered_posts": [p.__dict__ for p in ledger.unanswered],
        }
