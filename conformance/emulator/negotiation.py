"""DRF's content negotiation: which renderer answers (``Accept``, ``?format=``) and which parser reads a body.

A port of ``rest_framework.negotiation.DefaultContentNegotiation`` and ``rest_framework.utils.mediatypes``:
``q`` values are ignored, more specific media types are tried first, and a match between two media types allows
``*`` on either side. The JSON renderer honours an ``indent`` parameter of the accepted media type (capped at 8).
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from conformance.emulator.errors import ApiError, detail


@dataclass(frozen=True)
class Renderer:
    media_type: str
    format: str


JSON_RENDERER = Renderer("application/json", "json")
BROWSABLE_RENDERER = Renderer("text/html", "api")


@dataclass(frozen=True)
class Accepted:
    """The renderer negotiation chose, and the JSON indent the accepted media type asked for."""

    renderer: Renderer
    indent: int | None = None


PLAIN_JSON = Accepted(JSON_RENDERER)

#: DRF's default parsers, in order (``DEFAULT_PARSER_CLASSES``).
PARSERS = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


class MediaType:
    """``rest_framework.utils.mediatypes._MediaType``: a media type with its parameters, lower-cased names."""

    def __init__(self, text: str | None) -> None:
        full, self.params = parse_header(text or "")
        self.main_type, _, self.sub_type = full.partition("/")

    def match(self, other: MediaType) -> bool:
        """Whether ``self`` satisfies ``other`` (``*`` matches anything, on either side)."""
        for key, value in self.params.items():
            if key != "q" and other.params.get(key) != value:
                return False
        if self.sub_type != "*" and other.sub_type != "*" and other.sub_type != self.sub_type:
            return False
        return not (self.main_type != "*" and other.main_type != "*" and other.main_type != self.main_type)

    @property
    def precedence(self) -> int:
        if self.main_type == "*":
            return 0
        if self.sub_type == "*":
            return 1
        if not self.params or list(self.params) == ["q"]:
            return 2
        return 3


def parse_header(line: str) -> tuple[str, dict[str, str]]:
    """Django's ``parse_header_parameters``: the lower-cased value and its ``;``-separated parameters."""
    parts = line.split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            params[name.strip().lower()] = value
    return parts[0].strip().lower(), params


def select_renderer(accept: str | None, format_: str | None, renderers: tuple[Renderer, ...]) -> Accepted:
    """``DefaultContentNegotiation.select_renderer``; raises the 406 DRF answers when nothing matches."""
    if format_:
        renderers = tuple(r for r in renderers if r.format == format_)
        if not renderers:
            raise detail(406, "format_not_acceptable")
    tokens = [token.strip() for token in (accept if accept is not None else "*/*").split(",")]
    by_precedence: list[list[str]] = [[], [], [], []]
    for token in tokens:
        by_precedence[3 - MediaType(token).precedence].append(token)
    for group in by_precedence:
        for renderer in renderers:
            wanted = MediaType(renderer.media_type)
            for token in group:
                accepted = MediaType(token)
                if wanted.match(accepted):
                    return Accepted(renderer, _indent(accepted) if renderer is JSON_RENDERER else None)
    raise detail(406, "not_acceptable")


def _indent(accepted: MediaType) -> int | None:
    """``JSONRenderer.get_indent``: the ``indent`` parameter, between 0 and 8, 0 meaning none."""
    try:
        indent = max(min(int(accepted.params["indent"]), 8), 0)
    except (KeyError, ValueError):
        return None
    return indent or None


def select_parser(content_type: str | None) -> str | None:
    """The media type of the first default parser matching the request's Content-Type, or None (415)."""
    requested = MediaType(content_type)
    for media_type in PARSERS:
        if MediaType(media_type).match(requested):
            return media_type
    return None


def charset(content_type: str | None) -> str:
    """The body's charset: the Content-Type's ``charset`` when Python knows it, else UTF-8 (Django's default)."""
    name = parse_header(content_type or "")[1].get("charset", "utf-8")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return "utf-8"


def unsupported(content_type: str | None) -> ApiError:
    return detail(415, "unsupported_media_type", media_type=content_type or "")
