"""A stand-in for DRF's browsable API page (``BrowsableAPIRenderer``), served only when the guess enables it.

The real page is a full Bootstrap template with forms; this one keeps what a client can rely on: ``text/html``,
the status of the JSON answer, and that answer (indented, as the browsable API shows it) inside the page.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from conformance.emulator import jsonio


def browsable_page(view: str, status: int, headers: Mapping[str, str], body: Any) -> bytes:
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
    head = "\n".join(
        [
            f"HTTP {status} {reason}",
            *(f"{name}: {value}" for name, value in headers.items()),
            "Content-Type: application/json",
        ]
    )
    text = jsonio.dumps(body, indent=4).decode("utf-8")
    title = html.escape(f"{view} – Django REST framework")
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        f'<meta charset="utf-8">\n<title>{title}</title>\n</head>\n<body>\n'
        f"<h1>{html.escape(view)}</h1>\n"
        f'<pre class="response-info">{html.escape(head)}\n\n{html.escape(text)}</pre>\n'
        "</body>\n</html>\n"
    ).encode()
