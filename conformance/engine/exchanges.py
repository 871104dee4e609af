"""An HTTP exchange as reports show it: redacted headers, bodies cut to a readable size, a curl reproducer.

Built from an httpx response (the suite's seam) or from schemathesis's response wrapper (the stateful stage),
so a property finding carries the request and the answer that broke the rule, as a catalogue case does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from conformance.engine import redact
from conformance.engine.outcomes import Exchange

BODY_LIMIT = 64 * 1024  # keep report attachments readable


def body_text(data: bytes | str | None, scrub: redact.Scrubber) -> str | None:
    """A body as text for a report: UTF-8 (other bytes escaped), cut at BODY_LIMIT, secrets scrubbed."""
    if not data:
        return None
    raw = data.encode() if isinstance(data, str) else data
    text = raw[:BODY_LIMIT].decode("utf-8", "backslashreplace")
    if len(raw) > BODY_LIMIT:
        text += f"... [{len(raw) - BODY_LIMIT} more bytes]"
    return scrub(text)


def _pairs(headers: Any) -> Iterable[tuple[str, str]]:
    """Header pairs from httpx.Headers, a plain mapping, or schemathesis's mapping of lists."""
    for name, value in headers.items():
        yield (name, ", ".join(value)) if isinstance(value, list) else (name, str(value))


def exchange_of(response: Any, scrub: redact.Scrubber) -> Exchange:
    """The exchange behind a response (httpx.Response or schemathesis's Response)."""
    request = response.request
    content = getattr(request, "content", None) if hasattr(request, "content") else getattr(request, "body", None)
    if isinstance(content, str):
        content = content.encode()
    try:
        elapsed = response.elapsed
        seconds = elapsed if isinstance(elapsed, int | float) else elapsed.total_seconds()
    except RuntimeError:  # httpx: a response not read to its end has no elapsed time
        seconds = 0.0
    request_headers = dict(_pairs(request.headers))
    return Exchange(
        method=str(request.method).upper(),
        url=str(request.url),
        request_headers=redact.headers(request_headers),
        request_body=body_text(content, scrub),
        status=response.status_code,
        response_headers=redact.headers(list(_pairs(response.headers))),
        response_body=body_text(response.content, scrub),
        elapsed_ms=round(seconds * 1000, 2),
        curl=scrub(redact.curl(str(request.method), str(request.url), request_headers, content)),
    )
