"""Create the dashboards and widgets a run needs, tagged by run, and always delete them again."""

from __future__ import annotations

import contextlib
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.engine.errors import SuiteError, TargetUnavailable
from conformance.engine.target import Target

PATHS = {"dashboard": "/dashboards/dashboards/", "widget": "/dashboards/widgets/"}
TAG_PREFIX = "cwc-"


def new_tag() -> str:
    """A per-run tag put in every fixture's name: ``cwc-<utc date>-<random>``."""
    return f"{TAG_PREFIX}{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(3)}"


class FixtureError(SuiteError):
    """The target would not create a fixture: the checks that need it cannot run."""


@dataclass
class Created:
    kind: str
    id: Any
    auth: str
    name: str
    deleted: bool = False
    note: str = ""


@dataclass
class Fixtures:
    """The ledger of what a run created; ``cleanup`` deletes whatever is left, widgets first."""

    target: Target
    tag: str
    ledger: list[Created] = field(default_factory=list)

    def create(self, kind: str, body: dict[str, Any], *, auth: str = "primary", label: str = "") -> dict[str, Any]:
        body = dict(body)
        name = body.get("name")
        body["name"] = f"{self.tag} {label or kind}{' ' + name if isinstance(name, str) and name else ''}"[:255]
        response = self.target.request("POST", PATHS[kind], json=body, auth=auth)
        created = _json(response)
        if response.status_code != 201 or not isinstance(created, dict) or "id" not in created:
            raise FixtureError(
                f"could not create the {kind} fixture {label!r}: POST {PATHS[kind]} answered "
                f"{response.status_code} {response.text[:300]}"
            )
        self.ledger.append(Created(kind, created["id"], auth, body["name"]))
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
        item.deleted = response.status_code in (200, 202, 204, 404)
        if not item.deleted:
            item.note = f"DELETE answered {response.status_code}"

    @contextlib.contextmanager
    def scope(self) -> Iterator[Fixtures]:
        """Fixtures created inside are deleted on leaving, whatever happened (Ctrl-C included)."""
        start = len(self.ledger)
        try:
            yield self
        finally:
            self._delete(self.ledger[start:])

    def cleanup(self) -> None:
        self._delete(self.ledger)

    def _delete(self, items: list[Created]) -> None:
        # Widgets before dashboards, newest first, so nothing is deleted out from under another.
        for kind in ("widget", "dashboard"):
            for item in reversed(items):
                if item.kind == kind:
                    self.delete(item)

    def leftovers(self) -> list[Created]:
        return [c for c in self.ledger if not c.deleted]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "created": [c.__dict__ for c in self.ledger],
            "leftovers": [c.__dict__ for c in self.leftovers()],
        }


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
