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
    """A bash command line reproducing a request byte for byte, credentials redacted (re-add yours to replay).

    A body that is printable text goes as ``--data-raw 'text'``; any other body (control characters, NUL,
    bytes that are not UTF-8) as ``--data-binary @<(printf '...')`` with octal escapes: a command-line
    argument cannot carry a NUL byte, a pipe from printf can, and the line stays plain ASCII.
    """
    parts = ["curl", "-X", _quote(method.upper()), _quote(url)]
    for name, value in headers(request_headers).items():
        if name.lower() in {"content-length", "accept-encoding", "connection", "user-agent", "host"}:
            continue
        if name.lower().startswith("x-schemathesis"):
            continue
        parts += ["-H", _quote(f"{name}: {value}")]
    if body:
        data = body.encode("utf-8", "backslashreplace") if isinstance(body, str) else body
        text = _plain_text(data)
        if text is not None:
            parts += ["--data-raw", shlex.quote(text)]
        else:
            parts += ["--data-binary", f"@<(printf '{_printf_format(data)}')"]
    return " ".join(parts)


def _plain_text(data: bytes) -> str | None:
    """The body as text when it is UTF-8 with nothing a terminal or shell would mangle, else None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if all(ch.isprintable() or ch in "\n\t" for ch in text) else None


def _printf_format(data: bytes) -> str:
    """A printf format (inside single quotes) that prints exactly ``data``."""
    out = []
    for byte in data:
        char = chr(byte)
        if char == "%":
            out.append("%%")
        elif char == "\\":
            out.append("\\\\")
        elif char == "'":
            out.append("'\\''")
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def _quote(text: str) -> str:
    """A shell word for a header or URL: plain quoting when printable, else bash's $'...' with escapes."""
    if text.isprintable():
        return shlex.quote(text)
    escaped = "".join(
        ch
        if 0x20 <= ord(ch) < 0x7F and ch not in "\\'"
        else "".join(f"\\x{b:02x}" for b in ch.encode("utf-8", "surrogatepass"))
        for ch in text
    )
    return f"$'{escaped}'"
