"""One pass's symbols: the ids a target assigned, the run tag and the timestamps, each with its symbol.

Requests get their symbols from the reference's pass when the program is captured (``symbolise_request``);
every pass's answers are symbolised with that pass's own values (``Pass.answer``), so an id is compared as
"the id of the third widget created" and a timestamp as "the second distinct instant among this object's
timestamps, written in this shape": a widget whose ``updated_at`` does not move after a PATCH still diverges,
a clock does not.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import httpx

from conformance.differential.program import TAG, Answer, Ref
from conformance.engine.ledger import KINDS, PATHS

_ITEM = re.compile(r"^(?P<collection>/dashboards/(?:widgets|dashboards)/)(?P<id>\d+)(?=/|$|\?)")
_QUERY_ID = re.compile(r"(?<=[?&])(?:dashboard|widget)=(?P<id>\d+)")
_BODY_ID = re.compile(rb'"(?P<key>id|dashboard|widget)"\s*:\s*(?P<q>"?)(?P<id>-?\d+)(?P=q)')
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_BINDABLE = re.compile(r"[A-Za-z0-9._~-]{1,64}")  # an id that goes into a path segment as it is
# DRF's message for a pk no object has (``Invalid pk "125" - object does not exist.``): the id is the target's.
_INVALID_PK = re.compile(r'(?<=^Invalid pk ")\d+(?=")')
_DIGIT = re.compile(r"\d")
TIMESTAMP_SUFFIX = "_at"  # created_at, updated_at: what the target stamps (a client's datetimes compare as sent)
# Keys whose integer (or numeric string) value names an object of a kind; "id" takes its kind from the context.
KEY_KINDS = {"dashboard": "dashboard", "widget": "widget", "dashboards": "dashboard", "widgets": "widget"}


def kind_of_url(url: str) -> str | None:
    for path, kind in KINDS.items():
        if url.startswith(path):
            return kind
    return None


class Pass:
    """The symbol table of one pass over a target: symbol <-> value, filled as the pass creates objects."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.values: dict[str, str] = {TAG: tag}  # symbol -> the text spliced into requests
        self._ids: dict[tuple[str, str], str] = {}  # (kind, str(id)) -> symbol
        self._counts: dict[str, int] = {}
        self._instants: dict[str, dict[str, int]] = {}  # object -> its timestamps' instants -> ordinal

    # -- ids ---------------------------------------------------------------------------------------------------
    def new_symbol(self, kind: str) -> str:
        self._counts[kind] = self._counts.get(kind, 0) + 1
        return f"{kind}#{self._counts[kind]}"

    def bind(self, symbol: str, kind: str, value: Any) -> None:
        self.values[symbol] = str(value)
        self._ids[(kind, str(value))] = symbol

    def symbol_of(self, kind: str, value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | str):
            return None
        return self._ids.get((kind, str(value)))

    def created(self, method: str, url: str, response: httpx.Response) -> tuple[str, Any] | None:
        """(kind, id) when the answer says the step created an object (a 2xx with an id)."""
        kind = KINDS.get(url.split("?", 1)[0]) if method == "POST" else None
        if kind is None or not 200 <= response.status_code < 300:
            return None
        try:
            data = response.json()
        except ValueError:
            return None
        if not isinstance(data, dict) or "id" not in data or isinstance(data["id"], bool):
            return None
        if not isinstance(data["id"], int | str) or not _BINDABLE.fullmatch(str(data["id"])):
            return None  # an id no URL can carry: the symbol stays unbound (later steps use an id no object has)
        return kind, data["id"]

    # -- requests (the reference's pass, at capture) -------------------------------------------------------------
    def symbolise_request(self, url: str, body: bytes | None) -> list[Ref]:
        """Where this pass's ids and tag occur in a request it sent."""
        refs: list[Ref] = []
        item = _ITEM.match(url)
        if item:
            kind = KINDS[item["collection"]]
            symbol = self.symbol_of(kind, item["id"])
            if symbol:
                refs.append(Ref("url", item.start("id"), len(item["id"]), symbol))
        for query in _QUERY_ID.finditer(url):
            kind = query.group().split("=", 1)[0]
            symbol = self.symbol_of(kind, query["id"])
            if symbol:
                refs.append(Ref("url", query.start("id"), len(query["id"]), symbol))
        refs += _spans("url", url.encode(), self.tag.encode())
        if body:
            resource = kind_of_url(url)
            for found in _BODY_ID.finditer(body):
                key = found["key"].decode()
                owner = resource if key == "id" else KEY_KINDS[key]
                symbol = self.symbol_of(owner, found["id"].decode()) if owner else None
                if symbol:
                    refs.append(Ref("body", found.start("id"), len(found["id"]), symbol))
            refs += _spans("body", body, self.tag.encode())
        return _disjoint(refs)

    # -- answers ---------------------------------------------------------------------------------------------------
    def answer(self, url: str, response: httpx.Response) -> Answer:
        content_type = response.headers.get("content-type")
        allow = response.headers.get("allow")
        raw = response.content
        answer = Answer(response.status_code, content_type, allow)
        if not raw:
            return answer
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            answer.kind, answer.value = "bytes", base64.b64encode(raw).decode()
            return answer
        try:
            data = json.loads(text)
        except ValueError:
            answer.kind, answer.value = "text", text.replace(self.tag, "{tag}")
            return answer
        answer.kind, answer.value = "json", self._walk(data, None, kind_of_url(url))
        return answer

    def _walk(self, value: Any, key: str | None, context: str | None, scope: str = "", field: str = "") -> Any:
        """``key``: the value's own key; ``field``: the key of the list it is in (DRF's errors: a list per field)."""
        if isinstance(value, dict):
            if "id" in value and not isinstance(value["id"], dict | list):
                symbol = self.symbol_of(context, value["id"]) if context else None
                scope = f"{context}:{symbol or value['id']}"
            return {k: self._walk(v, k, KEY_KINDS.get(k, context), scope) for k, v in value.items()}
        if isinstance(value, list):
            inner = KEY_KINDS.get(key or "", context)
            return [self._walk(v, None, inner, scope, key or field) for v in value]
        kind = context if key == "id" else KEY_KINDS.get(key or "")
        if kind is not None and key is not None:
            symbol = self.symbol_of(kind, value)
            if symbol is not None:
                return f"{{{symbol}}}" if isinstance(value, int) else f"{{{symbol}}}:str"
        if isinstance(value, str):
            if key is not None and key.endswith(TIMESTAMP_SUFFIX) and _DATETIME.match(value):
                return self._instant(scope, value)
            named = KEY_KINDS.get(key or field)
            if named is not None:
                value = _INVALID_PK.sub(lambda m: self._pk(named, m), value)
            return value.replace(self.tag, "{tag}") if self.tag in value else value
        return value

    def _pk(self, kind: str | None, match: re.Match[str]) -> str:
        symbol = self.symbol_of(kind, match.group()) if kind else None
        return f"{{{symbol}}}" if symbol else match.group()

    def _instant(self, scope: str, value: str) -> str:
        """A timestamp the target assigned, as the ordinal of its instant among its object's timestamps."""
        instants = self._instants.setdefault(scope, {})
        ordinal = instants.setdefault(value.replace("Z", "+00:00"), len(instants) + 1)
        return f"{{time#{ordinal} {_DIGIT.sub('d', value)}}}"


def _spans(where: str, data: bytes, needle: bytes) -> list[Ref]:
    refs, start = [], data.find(needle)
    while start >= 0 and needle:
        refs.append(Ref(where, start, len(needle), TAG))
        start = data.find(needle, start + len(needle))
    return refs


def _disjoint(refs: list[Ref]) -> list[Ref]:
    """Overlapping spans (an id inside the tag's digits) keep the first found."""
    kept: list[Ref] = []
    for ref in refs:
        if all(
            k.where != ref.where or ref.start >= k.start + k.length or k.start >= ref.start + ref.length for k in kept
        ):
            kept.append(ref)
    return sorted(kept, key=lambda r: (r.where, r.start))


__all__ = ["KEY_KINDS", "PATHS", "Pass", "kind_of_url"]
