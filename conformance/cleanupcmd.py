"""``cekura-conformance cleanup``: delete what a killed run left on its target, from the run's ledger file.

A run writes ``REPORT_DIR/ledger.jsonl`` as it creates objects (an earlier run's unfinished ledger is kept as
``ledger-<tag>.jsonl``). This command reads every such file in the report dir and deletes, by id and with the
key of the tenant that created each object, whatever is not recorded as deleted; it appends what it deleted,
so a second call finds nothing. Exit 0 when nothing is left, 1 when something could not be deleted, 2 for a
usage error (no ledger, no key, another target than the ledger's).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from conformance.engine.cleanup import delete, probe
from conformance.engine.errors import ConfigurationError
from conformance.engine.ledger import LEDGER, Created, Recorded, append, read
from conformance.engine.target import Target, TargetConfig
from conformance.engine.verdict import ExitCode
from conformance.settings import ENV_API_KEY, ENV_OTHER_API_KEY

Write = Callable[[str], None]


class UsageProblem(Exception):
    """Why the command cannot run (exit 2)."""


def ledgers(report_dir: Path) -> list[Path]:
    found = sorted(report_dir.glob("ledger-*.jsonl"))
    current = report_dir / LEDGER
    return [current, *found] if current.is_file() else found


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def clean(
    recorded: Recorded,
    *,
    base_url: str | None,
    api_key: str | None,
    other_api_key: str | None,
    allow_production: bool,
    write: Write,
) -> int:
    """Delete one ledger's leftovers; returns how many objects are still on the target."""
    label = f"{recorded.path.name} (run {recorded.tag}, target {recorded.target})"
    if recorded.target is None:
        raise UsageProblem(f"{recorded.path}: not a ledger (no run line)")
    if recorded.embedded:
        write(
            f"{label}: a run against the embedded emulator, whose objects lived in that run's process and ended "
            "with it: nothing to clean across processes"
        )
        return 0
    if not recorded.outstanding():
        write(f"{label}: nothing left ({len(recorded.entries)} object(s) created, all deleted)")
        return 0
    if base_url is not None and not _same(base_url, recorded.target):
        raise UsageProblem(
            f"{recorded.path} records objects on {recorded.target}, not {base_url}: refusing to delete its ids on "
            "another target (leave out --base-url to use the recorded one)"
        )
    config = TargetConfig(
        base_url=recorded.target.rstrip("/"),
        api_key=api_key,
        other_api_key=other_api_key,
        allow_production=allow_production,
    )
    try:
        config.check()
    except ConfigurationError as exc:
        raise UsageProblem(str(exc)) from None
    events: list[dict[str, Any]] = []
    with Target(config) as target:

        def send(method: str, path: str, tenant: str, timeout: float | None) -> httpx.Response:
            return target.request_now(method, path, auth=tenant, timeout=timeout)

        found, unresolved = probe(send, recorded.entries, recorded.unanswered, recorded.tag or "")
        found_items = []
        for kind, id, tenant, name in found:
            note = "found by its run tag: its POST's answer was never read"
            found_items.append(Created(kind, id, tenant, name, note=note))
            events.append({"event": "created", "seq": None, "kind": kind, "id": id, "tenant": tenant, "name": name})
        recorded.entries += found_items
        events += [{"event": "probed", "seq": p.seq} for p in recorded.unanswered]
        keyless = [c for c in recorded.leftovers() if c.auth == "other" and not other_api_key]
        for item in keyless:
            item.note = f"not deleted: created by the second tenant; give --other-api-key (or {ENV_OTHER_API_KEY})"

        def gone(item: Created, note: str) -> None:
            item.deleted, item.note = True, note
            events.append({"event": "deleted", "kind": item.kind, "id": item.id, "tenant": item.auth})

        report = delete(send, [c for c in recorded.entries if c not in keyless], on_gone=gone)
    append(recorded.path, events)
    left = recorded.leftovers()
    write(f"{label}: {len(report.deleted)} object(s) deleted, {len(left)} left")
    for item in found_items:
        write(f"  {item.kind} {item.id} ({item.auth}): found by the run's tag after its POST went unanswered")
    for item in left:
        write(f"  {item.kind} {item.id} ({item.auth}, {item.name!r}): {item.note}")
    if unresolved:
        write(
            f"  {len(unresolved)} POST(s) of the run got no answer and no object with the run's tag was found after "
            "the highest known ids: probably nothing was created"
        )
    return len(left)


def main(
    report_dir: Path,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    other_api_key: str | None = None,
    allow_production: bool = False,
    write: Write = print,
) -> int:
    files = ledgers(report_dir)
    if not files:
        print(f"cekura-conformance: no ledger in {report_dir} ({LEDGER} is written by `run`)", file=sys.stderr)
        return ExitCode.USAGE
    api_key = api_key or os.environ.get(ENV_API_KEY) or None
    other_api_key = other_api_key or os.environ.get(ENV_OTHER_API_KEY) or None
    left = 0
    try:
        for path in files:
            left += clean(
                read(path),
                base_url=base_url,
                api_key=api_key,
                other_api_key=other_api_key,
                allow_production=allow_production,
                write=write,
            )
    except UsageProblem as exc:
        print(f"cekura-conformance: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    write("nothing left on the target" if not left else f"{left} object(s) left on the target")
    return ExitCode.OK if not left else ExitCode.LEFT_OVER
