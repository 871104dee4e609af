"""``summary.json`` as the Markdown a reviewer reads in a pull request: GitHub's job summary, or a PR comment.

Built from the summary alone. Whatever the target sent (reasons, messages, bodies) goes into code spans or
fenced code blocks, so none of it becomes HTML, a link, an emphasis or an @mention; the only HTML is
``<details>``/``<summary>``. The text stays within a byte budget: the head and the tables come first (reasons
shortened), curl reproducers are added while they fit, and one that does not fit is left out and said so,
never cut (a cut reproducer would not reproduce).
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.engine.target import EMBEDDED
from conformance.reporting import run_facts

STEP_SUMMARY_LIMIT = 1 << 20  # bytes GitHub accepts in one step's summary
COMMENT_LIMIT = 65_536  # characters GitHub accepts in a pull request comment
BUDGET = 60_000  # bytes: fits both, with room for what a workflow adds around it

REASON_CHARS = 200
MESSAGE_CHARS = 600
CURL_BYTES = 4_000
CASES_SHOWN = 3
IDS_LISTED = 20
MISSING_LISTED = 100

OPERATION = "PATCH /dashboards/widgets/{id}/"

_HEADLINE = {
    "conformant": "✅ conformant",
    "not-conformant": "❌ not conformant",
    "no-verdict": "⚠️ no verdict",
    "interrupted": "⚠️ interrupted",
}
# Backslash-escaped in text we wrote or the catalogue did: everything CommonMark or GFM gives a meaning inline.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# Bytes kept back by every optional block for what is always placed after it: later headings and the notes
# that say what was left out (at most a few hundred bytes each).
_RESERVE = 4_000


class _Budget:
    """Bytes left. Headings and notes are always placed (``spend``); rows and reproducers only while they fit."""

    def __init__(self, size: int) -> None:
        self.left = size

    def spend(self, text: str) -> str:
        self.left -= len(text.encode())
        return text

    def take(self, text: str) -> bool:
        size = len(text.encode())
        if self.left - size < _RESERVE:
            return False
        self.left -= size
        return True


def render(summary: Mapping[str, Any], *, budget: int = BUDGET) -> str:
    """The Markdown summary of one run, at most ``budget`` bytes (UTF-8)."""
    must = run_facts.must(summary)
    by_id = {str(r["id"]): r for r in run_facts.requirements(summary)}
    room = _Budget(budget)
    # Built in order of importance, placed in reading order.
    head = room.spend(_head(summary, must))
    footer = room.spend(_footer(summary))
    failed = _table(
        "MUST requirements that failed",
        ("Requirement", "What it requires", "Why it failed"),
        [_row(by_id, i, None) for i in must.failed],
        room,
    )
    errored = _table(
        "MUST requirements that could not be judged (errored: the suite, the network or the configuration)",
        ("Requirement", "What it requires", "What went wrong"),
        [_row(by_id, i, None) for i in must.errored],
        room,
    )
    skipped = _table(
        "MUST requirements skipped (not judged)",
        ("Requirement", "What it requires", "Why it was skipped"),
        [_row(by_id, i, reason) for i, reason in must.skipped],
        room,
    )
    others = run_facts.not_counted_failures(summary)
    folded = _folded_table(
        f"{len(others)} SHOULD or MAY requirement{_s(len(others))} failed: conventions the docs imply, "
        "they do not decide conformance",
        ("Requirement", "Level", "What it requires", "Why it failed"),
        [_row(by_id, str(r["id"]), None, level=True) for r in others],
        room,
    )
    failed_details = _details(by_id, must.failed, "failed", room)
    errored_details = _details(by_id, must.errored, "errored", room)
    coverage = _coverage_missing(summary.get("coverage"), room)
    parts = [head, failed, failed_details, errored, errored_details, skipped, folded, coverage, footer]
    return "\n".join(p for p in parts if p)


def load(report_dir: Path) -> dict[str, Any]:
    """The run's summary.json; ValueError with a one-line reason if there is none or it is not a summary."""
    path = report_dir / "summary.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"no summary.json in {report_dir}: run `cekura-conformance run --report-dir {report_dir}`"
        ) from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a run summary")
    return data


def main(report_dir: Path) -> int:
    """``cekura-conformance summary``: print the Markdown summary; 2 if there is no summary to read."""
    try:
        summary = load(report_dir)
    except ValueError as exc:
        print(f"cekura-conformance: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(summary))
    return 0


_EXIT_MEANING = {
    1: "a MUST requirement failed",
    2: "a usage or configuration error",
    3: "no verdict: the target did not answer, the run was interrupted or the suite broke",
}


def without_summary(exit_code: int, reason: str = "", *, interrupted: bool = False) -> str:
    """The Markdown for a run that wrote no summary.json: it never started, or was stopped before its end."""
    word = "interrupted" if interrupted else run_facts.NO_VERDICT
    meaning = _EXIT_MEANING.get(exit_code, "the run did not finish")
    lines = [
        f"## Cekura widget conformance: {_HEADLINE[word]}",
        "",
        f"The run wrote no summary.json: exit code {exit_code}, {meaning}.",
    ]
    if reason:
        lines += ["", _code(reason, limit=MESSAGE_CHARS)]
    return "\n".join(lines) + "\n"


# The head: verdict, what ran against what, counts ----------------------------------------------------------


def _head(summary: Mapping[str, Any], must: run_facts.MustOutcome) -> str:
    word = run_facts.verdict(summary)
    lines = [f"## Cekura widget conformance: {_HEADLINE[word]}", "", _verdict_sentence(summary, word, must), ""]
    lines += [_meta(summary), "", _counts(summary)]
    coverage = _coverage_line(summary.get("coverage"))
    if coverage:
        lines += ["", coverage]
    return "\n".join(lines) + "\n"


def _verdict_sentence(summary: Mapping[str, Any], word: str, must: run_facts.MustOutcome) -> str:
    fatal = summary.get("fatal")
    skipped = [i for i, _ in must.skipped]
    if word == "conformant":
        judged = f" ({must.judged} judged)." if must.judged is not None else "."
        text = "Every MUST requirement that was judged passed" + judged
        if skipped:
            text += f" {_count(len(skipped), 'MUST requirement')} skipped, not judged: {_ids(skipped)} (reasons below)."
        return text
    if word == "not-conformant":
        return f"**{_count(len(must.failed), 'MUST requirement')} failed:** {_ids(must.failed)}."
    if word == "interrupted":
        return "The run was stopped before it finished; no verdict." + (f" {_code(str(fatal))}" if fatal else "")
    if not run_facts.has_verdict(summary):
        return (
            "This summary.json carries no verdict (an older version of the suite wrote it); "
            f"its exit code is {summary.get('exit_code', 'unknown')}."
        )
    if fatal:
        return f"The run ended without judging the catalogue: {_code(str(fatal))}"
    if must.errored:
        return f"**{_count(len(must.errored), 'MUST requirement')} could not be judged:** {_ids(must.errored)}."
    return "No MUST requirement was judged."


def _meta(summary: Mapping[str, Any]) -> str:
    target = str((summary.get("target") or {}).get("base_url") or "")
    contract = summary.get("contract") or {}
    items = [_code(OPERATION), "target " + ("the embedded emulator" if target == EMBEDDED else _code(target))]
    items.append(f"profile {_code(str(summary.get('profile', '?')))}")
    if contract.get("revision"):
        items.append(f"revision {_code(str(contract['revision']))}")
    items.append(f"seed {_code(str(summary.get('seed', '?')))}")
    if summary.get("suite_version"):
        items.append(f"suite {_escape(str(summary['suite_version']))}")
    if contract.get("version"):
        items.append(f"contract {_escape(str(contract['version']))}")
    return " · ".join(items)


def _counts(summary: Mapping[str, Any]) -> str:
    totals = summary.get("totals") or {}
    total = sum(v for v in totals.values() if isinstance(v, int))
    counts = ", ".join(f"{totals.get(k, 0)} {k}" for k in ("passed", "failed", "errored", "skipped"))
    text = f"{_count(total, 'requirement')}: {counts}"
    levels = []
    for level in ("MUST", "SHOULD", "MAY"):
        reqs = [r for r in run_facts.requirements(summary) if r.get("level") == level]
        if reqs:
            passed = sum(r.get("status") == "passed" for r in reqs)
            levels.append(f"{level} {passed}/{len(reqs)} passed")
    if levels:
        text += " (" + ", ".join(levels) + ")"
    if isinstance(summary.get("requests"), int):
        text += f" · {summary['requests']:,} requests"
        if isinstance(summary.get("seconds"), int | float):
            text += f" in {summary['seconds']:.1f} s"
    return text


def _coverage_line(coverage: Any) -> str:
    if not isinstance(coverage, Mapping) or not isinstance(coverage.get("percent"), int | float):
        return ""
    text = f"Contract coverage: **{coverage['percent']:.1f} %**"
    if isinstance(coverage.get("covered"), int) and isinstance(coverage.get("total"), int):
        text += f" ({coverage['covered']} of {coverage['total']} documented values sent)"
    return text


def _footer(summary: Mapping[str, Any]) -> str:
    target = str((summary.get("target") or {}).get("base_url") or "")
    profile = str(summary.get("profile", "quick"))
    command = ["cekura-conformance", "certify" if profile == "certify" else "run"]
    if target and target != EMBEDDED:
        command += ["--base-url", target]
    if profile != "certify":
        command += ["--profile", profile, "--seed", str(summary.get("seed", ""))]
    revision = (summary.get("contract") or {}).get("revision")
    if revision:
        command += ["--revision", str(revision)]
    return (
        f"To reproduce: {_code(' '.join(command))}, with the keys in `CEKURA_API_KEY` and `CEKURA_OTHER_API_KEY`. "
        "Every request and response is in the Allure report; `junit.xml` and `summary.json` hold the same results.\n"
    )


# Tables --------------------------------------------------------------------------------------------------------


def _row(by_id: Mapping[str, Mapping[str, Any]], rid: str, reason: str | None, *, level: bool = False) -> list[str]:
    req = by_id.get(rid, {})
    why = reason if reason is not None else str(req.get("reason", ""))
    cells = [_requirement_link(rid, req.get("source"))]
    if level:
        cells.append(str(req.get("level", "")) + (" (tentative)" if req.get("tentative") else ""))
    cells += [_escape(_one_line(str(req.get("title", "")), REASON_CHARS)), _code(why, limit=REASON_CHARS, table=True)]
    return cells


def _table_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def _fit_rows(header: Sequence[str], rows: list[list[str]], room: _Budget) -> str:
    """The table, rows added while they fit; a last row says how many were left out."""
    lines = [room.spend(line + "\n").rstrip("\n") for line in _table_text(header, [])]
    for index, row in enumerate(rows):
        line = _table_text(header, [row])[-1]
        if not room.take(line + "\n"):
            note = [f"… {len(rows) - index} more", *([""] * (len(header) - 2)), "left out to fit: see junit.xml"]
            lines.append(room.spend(_table_text(header, [note])[-1]))
            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def _table(title: str, header: Sequence[str], rows: list[list[str]], room: _Budget) -> str:
    if not rows:
        return ""
    return room.spend(f"### {title}\n\n") + _fit_rows(header, rows, room)


def _folded_table(summary_text: str, header: Sequence[str], rows: list[list[str]], room: _Budget) -> str:
    if not rows:
        return ""
    opening = room.spend(f"<details>\n<summary>{html.escape(summary_text)}</summary>\n\n")
    return opening + _fit_rows(header, rows, room) + room.spend("\n</details>\n")


def _coverage_missing(coverage: Any, room: _Budget) -> str:
    if not isinstance(coverage, Mapping) or not coverage.get("missing"):
        return ""
    missing = [str(m) for m in coverage["missing"]]
    shown = missing[:MISSING_LISTED]
    lines = [f"- {_code(m, limit=REASON_CHARS)}" for m in shown]
    if len(missing) > len(shown):
        lines.append(f"- … and {len(missing) - len(shown)} more (see summary.json)")
    text = (
        f"<details>\n<summary>Not exercised by this run ({len(missing)})</summary>\n\n" + "\n".join(lines) + "\n\n"
        "</details>\n"
    )
    return text if room.take(text) else ""


# Reproducers ---------------------------------------------------------------------------------------------------


def _details(by_id: Mapping[str, Mapping[str, Any]], ids: Sequence[str], status: str, room: _Budget) -> str:
    """One folded block per requirement with its failing checks and curl reproducers, while they fit."""
    blocks: list[str] = []
    left_out: list[str] = []
    for rid in ids:
        block = _detail_block(rid, by_id.get(rid, {}), status)
        if block and (left_out or not room.take(block)):
            left_out.append(rid)
        elif block:
            blocks.append(block)
    if left_out:
        blocks.append(
            room.spend(
                f"The checks of {_ids(left_out)} are left out to keep this summary under GitHub's size limit: "
                "they are in `junit.xml` and the Allure report.\n"
            )
        )
    return "\n".join(blocks)


def _detail_block(rid: str, req: Mapping[str, Any], status: str) -> str:
    cases = [c for c in req.get("cases") or () if isinstance(c, Mapping) and c.get("status") == status]
    if not cases:
        return ""
    word = "failed" if status == "failed" else "errored"
    summary = f"{rid}: {_count(len(cases), 'check')} {word}" + (", with curl reproducers" if _has_curl(cases) else "")
    parts = [f"<details>\n<summary>{html.escape(summary)}</summary>\n"]
    for case in cases[:CASES_SHOWN]:
        parts.append(_case(case))
    if len(cases) > CASES_SHOWN:
        parts.append(f"… and {len(cases) - CASES_SHOWN} more {word} checks in `junit.xml` and the Allure report.\n")
    parts.append("</details>\n")
    return "\n".join(parts)


def _has_curl(cases: Sequence[Mapping[str, Any]]) -> bool:
    return any(c.get("curl") for c in cases[:CASES_SHOWN])


def _case(case: Mapping[str, Any]) -> str:
    name = _escape(_one_line(str(case.get("name", "")), REASON_CHARS))
    extra = (
        f" (seed {_code(str(case['seed']))})" if case.get("seed") is not None and case.get("kind") == "property" else ""
    )
    parts = [f"**{name}**{extra}\n", _fence(_shorten(str(case.get("message", "")), MESSAGE_CHARS), "text")]
    if case.get("minimal_example"):
        parts += ["Minimal example:\n", _fence(_shorten(str(case["minimal_example"]), MESSAGE_CHARS), "text")]
    curl = case.get("curl")
    if curl:
        curl = str(curl)
        if _CONTROL.search(curl):
            parts.append("Its curl reproducer holds control characters: it is in `junit.xml` and the Allure report.\n")
        elif len(curl.encode()) > CURL_BYTES:
            parts.append(
                f"Its curl reproducer ({len(curl.encode()):,} bytes) is in `junit.xml` and the Allure report.\n"
            )
        else:
            parts.append(_fence(curl, "sh"))
    return "\n".join(parts)


# Text ----------------------------------------------------------------------------------------------------------


def _requirement_link(rid: str, source: Any) -> str:
    url = source.get("url") if isinstance(source, Mapping) else None
    label = _escape(rid)
    if isinstance(url, str) and re.fullmatch(r"https?://[^\s<>()\\`]+", url):
        return f"[{label}]({url})"
    return label


def _visible(text: str) -> str:
    """Control characters as ``\\xNN``: never raw in Markdown."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _one_line(text: str, limit: int) -> str:
    return _shorten(" ".join(_visible(text).split()), limit)


def _shorten(text: str, limit: int) -> str:
    text = _visible(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _code(text: str, *, limit: int = REASON_CHARS, table: bool = False) -> str:
    """An inline code span holding ``text`` on one line (pipes escaped inside a table cell, as GFM wants)."""
    text = _one_line(text, limit)
    if not text:
        return "—"
    if table:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _fence(text: str, info: str) -> str:
    """A fenced code block: longer than any run of backticks inside, so nothing in ``text`` can close it."""
    text = _visible(text)
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{text}\n{ticks}\n"


def _ids(ids: Sequence[str]) -> str:
    shown = ", ".join(_escape(i) for i in ids[:IDS_LISTED])
    return shown + (f" and {len(ids) - IDS_LISTED} more" if len(ids) > IDS_LISTED else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{_s(n)}"


def _s(n: int) -> str:
    return "" if n == 1 else "s"
