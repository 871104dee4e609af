"""The Markdown summary (``cekura-conformance summary``): what a reviewer reads in a pull request."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from conformance.reporting import markdown

KEY = "SENTINEL-KEY-MARKDOWN-91c0ffee"
HOSTILE = "<script>alert(1)</script> @octocat #1 **bold** | pipe ``` </details> [x](javascript:alert(1))"
_PARSER = MarkdownIt("commonmark").enable("table")


def _req(rid: str, level: str, status: str, reason: str = "", cases: list[dict[str, Any]] | None = None) -> dict:
    return {
        "id": rid,
        "level": level,
        "title": f"title of {rid}",
        "status": status,
        "reason": reason or f"{status} because of {rid}",
        "area": "area",
        "tentative": False,
        "source": {"kind": "documented", "url": "https://docs.cekura.ai/api-reference/dashboards/update-widget"},
        "checks": [],
        "cases": cases or [],
    }


def _case(name: str, status: str, message: str, curl: str | None) -> dict[str, Any]:
    return {"name": name, "status": status, "message": message, "kind": "case", "curl": curl, "seed": None}


def _summary(requirements: list[dict], **extra: Any) -> dict[str, Any]:
    totals = {s: sum(r["status"] == s for r in requirements) for s in ("passed", "failed", "errored", "skipped")}
    return {
        "suite_version": "0.1.0",
        "contract": {"version": "1.0.0", "sha256": "0" * 64, "revision": "live"},
        "target": {"base_url": "https://staging.example"},
        "profile": "quick",
        "seed": 4242,
        "requests": 1461,
        "seconds": 5.04,
        "totals": totals,
        "requirements": requirements,
        **extra,
    }


def _failing() -> dict[str, Any]:
    curl = "curl -X PATCH https://staging.example/dashboards/widgets/7/ -H 'x-cekura-api-key: [REDACTED]'"
    reqs = [
        _req("WPATCH-TS-01", "MUST", "failed", cases=[_case("rename", "failed", "updated_at did not advance", curl)]),
        _req("WPATCH-RO-01", "MUST", "passed"),
        _req("WPATCH-TEN-01", "MUST", "skipped", reason="no second tenant: give --other-api-key"),
        _req("WPATCH-METHOD-01", "SHOULD", "failed", reason="POST: header Allow is missing"),
    ]
    must = {
        "judged": 2,
        "failed": ["WPATCH-TS-01"],
        "errored": [],
        "skipped": [{"id": "WPATCH-TEN-01", "reason": "no second tenant: give --other-api-key"}],
    }
    coverage = {
        "percent": 96.0,
        "covered": 48,
        "total": 50,
        "missing": ["aggregation_function=null", "filter op isnull"],
    }
    return _summary(reqs, verdict="not-conformant", conformant=False, exit_code=1, must=must, coverage=coverage)


def _html_tags(text: str) -> set[str]:
    return {m.lower() for m in re.findall(r"</?\s*([a-zA-Z][\w-]*)", text)}


def _tokens(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        out += _tokens(token.children or [])
    return out


def _check_markdown(text: str) -> list[Token]:
    """Parses; the only raw HTML is <details>/<summary>; returns every token."""
    tokens = _tokens(_PARSER.parse(text))
    raw = [t.content for t in tokens if t.type in ("html_block", "html_inline")]
    assert all(_html_tags(r) <= {"details", "summary"} for r in raw), raw
    opened = sum(r.count("<details>") for r in raw)
    assert opened == sum(r.count("</details>") for r in raw), "every <details> is closed"
    return tokens


def _text_outside_code(tokens: list[Token]) -> str:
    return " ".join(t.content for t in tokens if t.type in ("text", "html_block", "html_inline"))


def test_a_failing_run_leads_with_the_verdict_then_the_failed_and_skipped_musts() -> None:
    text = markdown.render(_failing())
    tokens = _check_markdown(text)
    lines = text.splitlines()
    assert lines[0] == "## Cekura widget conformance: ❌ not conformant"
    assert "**1 MUST requirement failed:** WPATCH-TS-01." in text
    meta = next(line for line in lines if line.startswith("`PATCH"))
    for fact in ("`https://staging.example`", "profile `quick`", "revision `live`", "seed `4242`"):
        assert fact in meta
    assert "4 requirements: 1 passed, 2 failed, 0 errored, 1 skipped (MUST 1/3 passed, SHOULD 0/1 passed)" in text
    assert "· 1,461 requests in 5.0 s" in text
    assert "Contract coverage: **96.0 %** (48 of 50" in text
    failed = text.index("### MUST requirements that failed")
    skipped = text.index("### MUST requirements skipped (not judged)")
    assert failed < skipped
    assert "`no second tenant: give --other-api-key`" in text[skipped:]
    # The reproducer, whole, in a shell block inside <details>; the SHOULD failure folded, not in a MUST table.
    fences = [t for t in tokens if t.type == "fence" and t.info == "sh"]
    assert [f.content.strip() for f in fences] == [_failing()["requirements"][0]["cases"][0]["curl"]]
    should = text.index("SHOULD or MAY requirement failed")
    assert text.rindex("<details>", 0, should) > skipped and "WPATCH-METHOD-01" not in text[:should]
    assert "`aggregation_function=null`" in text
    assert (
        "cekura-conformance run --base-url https://staging.example --profile quick --seed 4242 --revision live" in text
    )


def test_a_conformant_run_names_its_skipped_musts() -> None:
    reqs = [_req("WPATCH-RO-01", "MUST", "passed"), _req("WPATCH-TEN-01", "MUST", "skipped", reason="no second key")]
    must = {"judged": 1, "failed": [], "errored": [], "skipped": [{"id": "WPATCH-TEN-01", "reason": "no second key"}]}
    text = markdown.render(_summary(reqs, verdict="conformant", conformant=True, exit_code=0, must=must))
    _check_markdown(text)
    assert text.startswith("## Cekura widget conformance: ✅ conformant\n")
    assert "Every MUST requirement that was judged passed (1 judged). 1 MUST requirement skipped" in text
    assert "### MUST requirements that failed" not in text
    assert "| [WPATCH-TEN-01](https://docs.cekura.ai/api-reference/dashboards/update-widget) |" in text


def test_a_summary_without_a_verdict_word_says_so_and_claims_nothing() -> None:
    # Summaries written before the verdict word existed: the MUST lists come from the requirements.
    reqs = [_req("WPATCH-RO-01", "MUST", "passed"), _req("WPATCH-TS-01", "MUST", "failed")]
    text = markdown.render(_summary(reqs, conformant=False, exit_code=1))
    _check_markdown(text)
    assert text.startswith("## Cekura widget conformance: ⚠️ no verdict\n")
    assert "carries no verdict" in text and "exit code is 1" in text
    assert "conformant" not in text.split("\n", 1)[1].lower().replace("widget conformance", "")
    assert "WPATCH-TS-01" in text.split("### MUST requirements that failed")[1]


def test_interrupted_and_errored_runs_are_no_verdict() -> None:
    interrupted = _summary([], verdict="interrupted", fatal="interrupted by SIGTERM", exit_code=3)
    assert markdown.render(interrupted).startswith("## Cekura widget conformance: ⚠️ interrupted\n")
    reqs = [_req("WPATCH-RO-01", "MUST", "errored", reason="ConnectError: connection refused")]
    must = {"judged": 0, "failed": [], "errored": ["WPATCH-RO-01"], "skipped": []}
    text = markdown.render(_summary(reqs, verdict="no-verdict", exit_code=3, must=must))
    _check_markdown(text)
    assert "**1 MUST requirement could not be judged:** WPATCH-RO-01." in text
    assert "### MUST requirements that could not be judged" in text


def test_whatever_the_target_sent_stays_inside_code() -> None:
    # Case names and titles come from the catalogue; reasons, messages, reproducers and the URL carry target text.
    case = _case("rename", "failed", f"body: {HOSTILE}\nsecond line", f"curl --data-raw '{HOSTILE}'")
    reqs = [_req("WPATCH-TS-01", "MUST", "failed", reason=HOSTILE, cases=[case])]
    reqs.append(_req("WPATCH-ERR-01", "SHOULD", "failed", reason=HOSTILE))
    summary = _summary(
        reqs, verdict="not-conformant", fatal=None, must={"failed": ["WPATCH-TS-01"], "errored": [], "skipped": []}
    )
    summary["target"]["base_url"] = "https://staging.example/@octocat"
    text = markdown.render(summary)
    tokens = _check_markdown(text)
    outside = _text_outside_code(tokens)
    assert "@octocat" not in outside and "<script" not in outside and "javascript" not in outside
    assert not [t for t in tokens if t.type in ("strong_open", "em_open") and t.level > 3]
    links = [str(t.attrs.get("href")) for t in tokens if t.type == "link_open"]
    assert links and all(link.startswith("https://docs.cekura.ai/") for link in links)
    # The tables keep their columns: the pipes in the reasons are escaped.
    for table in text.split("\n\n"):
        rows = [line for line in table.splitlines() if line.startswith("| ")]
        if rows:
            parsed = _tokens(_PARSER.parse(table))
            assert sum(t.type == "th_open" for t in parsed) * len(rows) == sum(
                t.type in ("th_open", "td_open") for t in parsed
            )
    assert "`body: <script>" not in text  # messages are fenced blocks, whole lines kept
    fenced = [t.content for t in tokens if t.type == "fence"]
    assert f"body: {HOSTILE}\nsecond line\n" in fenced and f"curl --data-raw '{HOSTILE}'\n" in fenced


def test_every_requirement_failing_fits_github_limits_and_drops_reproducers_whole() -> None:
    long = "x" * 5_000 + " | <b>bold</b> " + "y" * 5_000
    reqs = []
    for n in range(60):
        level = "MUST" if n < 40 else "SHOULD"
        cases = [
            _case(
                f"case {n}.{c}", "failed", long, f"curl -X PATCH https://t.example/{n}/{c} --data-raw '{'z' * 3_000}'"
            )
            for c in range(20)
        ]
        reqs.append(_req(f"WPATCH-X-{n:02d}", level, "failed", reason=long, cases=cases))
    must = {"judged": 40, "failed": [f"WPATCH-X-{n:02d}" for n in range(40)], "errored": [], "skipped": []}
    summary = _summary(reqs, verdict="not-conformant", must=must, coverage={"percent": 1.0, "missing": [long] * 500})
    text = markdown.render(summary)
    size = len(text.encode())
    assert size <= markdown.BUDGET < markdown.STEP_SUMMARY_LIMIT
    assert len(text) <= markdown.COMMENT_LIMIT
    tokens = _check_markdown(text)
    curls = {c["curl"] for r in reqs for c in r["cases"]}
    fences = [t.content.rstrip("\n") for t in tokens if t.type == "fence" and t.info == "sh"]
    assert fences and all(f in curls for f in fences), "a reproducer is whole or absent"
    assert "left out to keep this summary under GitHub's size limit" in text
    # Every failed MUST is named, in the table or in the row that counts the rest.
    table = text.split("### MUST requirements that failed")[1].split("\n\n")[1]
    named = re.findall(r"\[(WPATCH-X-\d\d)\]", table)
    more = re.search(r"… (\d+) more", table)
    assert len(named) + (int(more.group(1)) if more else 0) == 40


def test_smaller_budgets_are_kept_too() -> None:
    summary = _failing()
    for budget in (8_000, 12_000, 30_000):
        text = markdown.render(summary, budget=budget)
        assert len(text.encode()) <= budget
        _check_markdown(text)


def test_the_cli_prints_the_summary_and_no_key(tmp_path: Path) -> None:
    summary = _failing()
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "summary", "--report-dir", str(tmp_path), "--format", "markdown"],
        capture_output=True,
        text=True,
        env={"CEKURA_API_KEY": KEY, "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == markdown.render(summary)
    assert KEY not in done.stdout + done.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "conformance", "summary", "--report-dir", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "no summary.json" in missing.stderr and not missing.stdout
