"""A stateless, auth-less echo mock, like the simplest third-party mock a vendor might write: every request is
answered 200 with its own body, byte for byte (binary garbage included), or a fixed JSON object when it has
none. It stores nothing and checks no key. Its one concession: a JSON object POSTed gets an ``id``, as any
mock's create answer has, so the suite's fixtures exist and every stage runs against it."""

from __future__ import annotations

import json
from typing import Any

FIXED = {"id": 1, "name": "echo"}


def answer(method: str, body: bytes) -> bytes:
    if not body:
        return json.dumps(FIXED).encode()
    if method == "POST":
        try:
            created = json.loads(body)
        except ValueError:
            return body
        if isinstance(created, dict):
            return json.dumps({**created, "id": FIXED["id"]}).encode()
    return body


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": answer(scope["method"], body)})
