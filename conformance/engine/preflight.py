"""Preflight: before anything is created, the target answers as the API, takes the keys, knows the metric.

The user's mistakes (a refused key, a base URL without the API under it, a metric id that is not theirs) are
configuration errors, said in one line with what to change; the target's own errors (a 5xx on the metrics
list) are noted as the target's and never blamed on the user.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.engine.answers import json_or_none
from conformance.engine.errors import ConfigurationError, TargetUnavailable
from conformance.engine.target import Target, TargetConfig

METRICS_PATH = "/test_framework/v1/metrics/"
WIDGETS_PATH = "/dashboards/widgets/"
# Where an API is often mounted under a host: tried when the given base URL has nothing under it.
COMMON_PREFIXES = ("/api",)


@dataclass
class Preflight:
    metrics: list[dict[str, Any]] = field(default_factory=list)
    metric_note: str = ""
    target_errors: list[str] = field(default_factory=list)  # the target's own errors, said once up front
    other_metrics: list[dict[str, Any]] = field(default_factory=list)  # the second tenant's, for isolation cases


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("content-type", "") or json_or_none(response) is not None


def _present(response: httpx.Response) -> bool:
    """The path exists as the API: a JSON 200, a key refused (401/403), a method refused (405)."""
    if response.status_code == 200:
        return _is_json(response)
    return response.status_code in (401, 403, 405)


def _refused(response: httpx.Response) -> bool:
    return response.status_code in (401, 403)


def _described(response: httpx.Response) -> str:
    text = f"{response.request.method} {response.request.url} answered {response.status_code}"
    if response.is_redirect and response.headers.get("location"):
        return f"{text} (redirect to {response.headers['location']})"
    kind = response.headers.get("content-type", "").split(";")[0].strip()
    return f"{text} ({kind})" if kind and "json" not in kind else text


def _candidates(base_url: str) -> list[str]:
    """Base URLs to try when the given one has no API under it: its parents, then common prefixes."""
    parts = urlsplit(base_url)
    segments = [s for s in parts.path.split("/") if s]
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    found = [origin + "/" + "/".join(segments[:n]) if n else origin for n in range(len(segments) - 1, -1, -1)]
    found += [
        base_url.rstrip("/") + prefix for prefix in COMMON_PREFIXES if not parts.path.rstrip("/").endswith(prefix)
    ]
    return found


def _suggestion(target: Target) -> str:
    tried = []
    for candidate in _candidates(target.base_url):
        try:
            response = target.request("GET", candidate + METRICS_PATH)
        except TargetUnavailable:
            tried.append(candidate)
            continue
        if _present(response):
            return f"the API answers under {candidate}: use --base-url {candidate}"
        tried.append(candidate)
    return f"nor under {', '.join(tried)}: give the URL the API's paths start from" if tried else ""


def _check_api(target: Target, metrics: httpx.Response) -> httpx.Response | None:
    """Raise ConfigurationError unless the API answers at the base URL with the primary key; return the
    widget probe's response when it was needed."""
    if _present(metrics) and not _refused(metrics):
        return None
    widgets = target.request("GET", WIDGETS_PATH)
    answers = [metrics, widgets]
    if any(_present(r) and not _refused(r) for r in answers):
        return widgets
    if any(_refused(r) for r in answers):
        said = ", ".join(f"{r.request.method} {r.request.url.path} answered {r.status_code}" for r in answers)
        raise ConfigurationError(f"the target refused the API key ({said}): check --api-key or CEKURA_API_KEY")
    if any(r.status_code >= 500 for r in answers):
        return widgets  # the target's error, not the user's: the run judges it
    said = "; ".join(_described(r) for r in answers)
    hint = _suggestion(target)
    raise ConfigurationError(
        f"--base-url {target.base_url} does not answer as the Cekura API ({said}){'; ' + hint if hint else ''}"
    )


def _listed(response: httpx.Response) -> list[dict[str, Any]] | None:
    """The metrics the list names, or None when there is no usable list to check a metric id against."""
    data = json_or_none(response) if response.status_code == 200 else None
    if not isinstance(data, list):
        return None
    listed = [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), int)]
    return listed if listed or not data else None


def _metrics(target: Target, response: httpx.Response, found: Preflight) -> None:
    listed = _listed(response)
    unavailable = f"GET {METRICS_PATH} answered {response.status_code}" + (
        " without a list of metrics" if response.status_code == 200 else ""
    )
    if response.status_code >= 500:
        found.target_errors.append(f"{unavailable} during preflight: no metric could be discovered")
    wanted = target.config.metric_id
    if wanted is not None and listed is None:
        # The list is unavailable: the id cannot be checked, and that is no fault of the user's.
        found.metrics = [{"id": wanted, "name": None}]
        found.metric_note = f"from --metric-id, not checked: {unavailable}"
    elif wanted is not None and listed is not None:
        named = [m for m in listed if m["id"] == wanted]
        if not named:
            ids = ", ".join(str(m["id"]) for m in listed[:10]) + (", ..." if len(listed) > 10 else "")
            raise ConfigurationError(
                f"--metric-id {wanted} is not one of the caller's metrics (GET {METRICS_PATH} lists "
                f"{ids or 'none'}): give one of those, or leave --metric-id out to use them"
            )
        found.metrics = [{"id": wanted, "name": named[0].get("name")}]
        found.metrics += [{"id": m["id"], "name": m.get("name")} for m in listed if m["id"] != wanted][:1]
        found.metric_note = "from --metric-id"
    elif listed:
        found.metrics = [{"id": m["id"], "name": m.get("name")} for m in listed[:2]]
        found.metric_note = f"discovered through GET {METRICS_PATH}"
    elif listed is not None:
        found.metric_note = f"--metric-id not given and GET {METRICS_PATH} lists no metric"
    else:
        found.metric_note = f"--metric-id not given and {unavailable}"


# What ``check`` found, for the run that follows it in this process (``run`` takes it once): the same GETs,
# seconds apart, would only cost their round trips again.
_CHECKED: dict[TargetConfig, Preflight] = {}


def _key(config: TargetConfig) -> TargetConfig:
    return replace(config, retries=0, concurrency=1, max_rps=None)


def run(target: Target) -> Preflight:
    """Probe the target (GET requests only); ConfigurationError for the user's mistakes."""
    checked = _CHECKED.pop(_key(target.config), None)
    if checked is not None:
        return checked
    found = Preflight()
    metrics = target.request("GET", METRICS_PATH)
    widgets = _check_api(target, metrics)
    if widgets is not None and widgets.status_code >= 500:
        found.target_errors.append(f"GET {WIDGETS_PATH} answered {widgets.status_code} during preflight")
    _metrics(target, metrics, found)
    if target.config.other_api_key:
        probe = METRICS_PATH if _present(metrics) else WIDGETS_PATH
        other = target.request("GET", probe, auth="other")
        if _refused(other):
            raise ConfigurationError(
                f"the target refused the other API key (GET {probe} answered {other.status_code}): "
                "check --other-api-key or CEKURA_OTHER_API_KEY"
            )
        if probe == METRICS_PATH:
            found.other_metrics = _only_theirs(_listed(other) or [], _listed(metrics) or [], found.metrics)
    return found


def _only_theirs(
    theirs: list[dict[str, Any]], listed: list[dict[str, Any]], mine: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The second tenant's metrics the caller cannot see, if the caller's own first metric is not theirs too.

    Keys of one organisation may share metrics; a shared metric is no isolation probe either way, so without
    both lists to tell them apart the cross-tenant metric cases are skipped rather than risk a false failure.
    """
    their_ids = {m["id"] for m in theirs}
    my_ids = {m["id"] for m in listed}
    if not listed or not mine or mine[0]["id"] in their_ids:
        return []
    return [{"id": m["id"], "name": m.get("name")} for m in theirs if m["id"] not in my_ids]


def check(config: TargetConfig) -> None:
    """The preflight on its own, before a run starts: connection errors are left to the run to report
    (with one attempt here, so a silent target is not waited for twice)."""
    _CHECKED.clear()
    try:
        with Target(replace(config, retries=0)) as target:
            _CHECKED[_key(config)] = run(target)
    except TargetUnavailable:
        return
