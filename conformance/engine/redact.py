"""Keep credentials out of everything the suite prints or writes."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping

REDACTED = "[REDACTED]"
# Any header named like a credential, whatever the target calls it.
_CREDENTIAL_HEADER = re.compile(r"(key|token|auth|secret|password|cookie|session|signature)", re.IGNORECASE)


def is_credential_header(name: str) -> bool:
    return bool(_CREDENTIAL_HEADER.search(name))


def headers(items: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    pairs = items.items() if isinstance(items, Mapping) else items
    return {k: (REDACTED if is_credential_header(k) else v) for k, v in pairs}


class Scrubber:
    """Replaces every known secret value in free text (messages, bodies, tracebacks)."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def curl(method: str, url: str, request_headers: Mapping[str, str], body: bytes | str | None) -> str:
    """A curl command line reproducing a request, credentials redacted (re-add yours to replay)."""
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    for name, value in headers(request_headers).items():
        if name.lower() in {"content-length", "accept-encoding", "connection", "user-agent", "host"}:
            continue
        if name.lower().startswith("x-schemathesis"):
            continue
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body:
        text = body.decode("utf-8", "backslashreplace") if isinstance(body, bytes) else body
        parts += ["--data-raw", shlex.quote(text)]
    return " ".join(parts)
