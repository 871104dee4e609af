"""The HTTP benchmark's verdict and rendering: the emulator's figures against Prism's and its own targets, as a
table, ratios and PASS/MISS lines."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from benchmarks.http_load import NOISY_PCT, PRISMS, TargetResult

# Targets the emulator is held to (measured on the project's 2-core machine): against Prism as users run it
# and as a vendor tuning it for speed would (TUNED_PRISM_ARGS).
MIN_RATIO = 3.0
MAX_P99_MS = 20.0
MAX_RSS_MB = 150.0
# Above this the load generator, not the server, is probably what limits requests/s.
CLIENT_BOUND_PCT = 90.0


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def compute_checks(
    targets: dict[str, TargetResult], generators: Sequence[str]
) -> tuple[dict[str, float | None], list[dict[str, Any]]]:
    """Ratios of the emulator's req/s to each Prism's (``prism/wrk``, ``prism-tuned/wrk``), and of their CPU time
    per request to the emulator's (``prism-tuned/wrk cpu``: the same comparison, insensitive to a busy machine)."""
    emu = targets.get("emulator")
    ratios: dict[str, float | None] = {}
    checks: list[dict[str, Any]] = []
    for gen in generators:
        e = emu.runs.get(gen) if emu else None
        for name in PRISMS:
            prism = targets.get(name)
            if prism is None:
                continue
            p = prism.runs.get(gen)
            ratio = e["rps"] / p["rps"] if e and p and p["rps"] > 0 else None
            ratios[f"{name}/{gen}"] = ratio
            e_cpu, p_cpu = (e or {}).get("server_cpu_ms_per_req"), (p or {}).get("server_cpu_ms_per_req")
            ratios[f"{name}/{gen} cpu"] = p_cpu / e_cpu if e_cpu and p_cpu else None
            checks.append(
                {"generator": gen, "check": f"emulator req/s >= {MIN_RATIO:g}x {name}", "value": ratio,
                 "limit": MIN_RATIO, "ok": None if ratio is None else ratio >= MIN_RATIO}
            )  # fmt: skip
        p99 = e["p99_ms"] if e else None
        checks.append(
            {"generator": gen, "check": f"emulator p99 <= {MAX_P99_MS:g} ms", "value": p99,
             "limit": MAX_P99_MS, "ok": None if p99 is None else p99 <= MAX_P99_MS}
        )  # fmt: skip
    rss = emu.peak_rss_mb if emu else None
    checks.append(
        {"generator": "any", "check": f"emulator peak RSS <= {MAX_RSS_MB:g} MB", "value": rss,
         "limit": MAX_RSS_MB, "ok": None if rss is None else rss <= MAX_RSS_MB}
    )  # fmt: skip
    return ratios, checks


def render(
    targets: dict[str, TargetResult],
    generators: Sequence[str],
    ratios: dict[str, float | None],
    checks: list[dict[str, Any]],
) -> Iterator[str]:
    head = (
        f"{'target':<11} {'generator':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} "
        f"{'errors':>6} {'srv CPU%':>8} {'CPU ms/req':>10} {'cli CPU%':>8} {'oth CPU%':>8} {'peak RSS MB':>11}"
    )
    yield head
    yield "-" * len(head)
    notes: list[str] = []
    for t in targets.values():
        if not t.started or not t.runs:
            yield f"{t.name:<11} {'-':<9} not measured: {t.error or 'no run'}"
            continue
        for gen in generators:
            r = t.runs.get(gen)
            if r is None:
                continue
            yield (
                f"{t.name:<11} {gen:<9} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                f"{r['non_2xx']:>8d} {r['errors']:>6d} {r['server_cpu_pct']:>8.0f} "
                f"{_fmt(r.get('server_cpu_ms_per_req'), '.3f'):>10} "
                f"{r['client_cpu_pct']:>8.0f} {r.get('other_cpu_pct', 0.0):>8.0f} {_fmt(t.peak_rss_mb):>11}"
            )
            if r.get("other_cpu_pct", 0.0) > NOISY_PCT:
                notes.append(
                    f"{t.name}/{gen}: other processes used {r['other_cpu_pct']:.0f}% of a core during the run; "
                    "re-run on a quiet machine"
                )
            if r["client_cpu_pct"] >= CLIENT_BOUND_PCT:
                notes.append(
                    f"{t.name}/{gen}: the load generator used {r['client_cpu_pct']:.0f}% of a core, so "
                    "it, not the server, probably capped requests/s"
                )
    yield ""
    for key, ratio in ratios.items():
        name, _, what = key.partition("/")
        if what.endswith(" cpu"):
            yield f"ratio {name}/emulator CPU time per request ({what[:-4]}): {_fmt(ratio, '.2f')}x"
        else:
            yield f"ratio emulator/{name} req/s ({what}): {_fmt(ratio, '.2f')}x"
    emu = targets.get("emulator")
    yield f"emulator peak RSS: {_fmt(emu.peak_rss_mb if emu else None)} MB"
    yield ""
    for c in checks:
        verdict = "n/a" if c["ok"] is None else ("PASS" if c["ok"] else "MISS")
        value = _fmt(c["value"], ".2f")
        yield f"{verdict:<5} {c['check']:<32} [{c['generator']}] measured {value}"
    if notes:
        yield ""
        yield from (f"note: {n}" for n in notes)
