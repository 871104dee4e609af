"""Form bodies as DRF's ``FormParser`` and ``MultiPartParser`` read them (Django's ``QueryDict`` and multipart parser).

The result is a ``FormData``: DRF calls it "HTML input" and its fields read it differently from JSON (an empty
string becomes null or blank, JSON fields take JSON text); ``html_input`` applies those rules for one serializer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from conformance.emulator.negotiation import parse_header
from conformance.emulator.validation import FieldSpec, JSONText

#: Django's ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` and ``DATA_UPLOAD_MAX_NUMBER_FILES`` defaults.
MAX_FIELDS = 1000
MAX_FILES = 100
# django.http.multipartparser.MultiPartParser.boundary_re (matched at the start, like re.match).
_BOUNDARY = re.compile(r"[ -~]{0,200}[!-~]")


class TooManyFields(Exception):
    """Django's ``TooManyFieldsSent``/``TooManyFilesSent``: a SuspiciousOperation, answered with its 400 page."""


class MultipartError(Exception):
    """Django's ``MultiPartParserError``; DRF answers 400 "Multipart form parse error - <message>"."""


class InMemoryUploadedFile:
    """A file part of a multipart body (named as Django's class, since DRF's messages show the type's name)."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size = size

    def __str__(self) -> str:
        return self.name


class FormData(dict[str, object]):
    """A ``QueryDict``: each key maps to its last value; every value is kept in ``lists``."""

    def __init__(self, pairs: list[tuple[str, object]]) -> None:
        self.lists: dict[str, list[object]] = {}
        for key, value in pairs:
            self.lists.setdefault(key, []).append(value)
        super().__init__({key: values[-1] for key, values in self.lists.items()})


def parse_urlencoded(raw: bytes, encoding: str) -> FormData:
    """``QueryDict(body)``: blank values kept, undecodable bytes replaced, at most ``MAX_FIELDS`` fields."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        text = raw.decode("iso-8859-1")  # Django's fallback for misbehaving user agents
    try:
        pairs = parse_qsl(text, keep_blank_values=True, encoding=encoding, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise TooManyFields from None
    return FormData(list(pairs))


def parse_multipart(content_type: str, raw: bytes, encoding: str) -> FormData:
    """Django's ``MultiPartParser`` for in-memory bodies: fields decoded, file parts kept by name, others skipped."""
    if not content_type.lower().startswith("multipart/"):
        raise MultipartError(f"Invalid Content-Type: {content_type}")
    if not content_type.isascii():
        raise MultipartError(f"Invalid non-ASCII Content-Type in multipart: {content_type}")
    boundary = parse_header(content_type)[1].get("boundary")
    if not boundary or not _BOUNDARY.match(boundary):
        raise MultipartError(f"Invalid boundary in multipart: {boundary}")
    fields: list[tuple[str, object]] = []
    files: list[tuple[str, object]] = []
    for headers, body in _parts(raw, b"--" + boundary.encode("ascii")):
        disposition, params = parse_header(headers.get("content-disposition", ""))
        name = params.get("name", "").strip()
        if disposition != "form-data" or not name:
            continue
        filename = params.get("filename")
        if filename:  # a file part; an empty filename makes a plain field, as in Django
            files.append((name, InMemoryUploadedFile(filename.rsplit("/", 1)[-1], len(body))))
            if len(files) > MAX_FILES:
                raise TooManyFields
        else:
            fields.append((name, body.decode(encoding, errors="replace")))
            if len(fields) > MAX_FIELDS:
                raise TooManyFields
    return FormData(fields + files)  # request.data: the fields, then the files (QueryDict.update appends)


def _parts(raw: bytes, delimiter: bytes) -> list[tuple[dict[str, str], bytes]]:
    """The parts between boundary lines: their headers (lower-cased names) and bodies; a truncated tail is dropped."""
    parts = []
    for segment in raw.split(delimiter)[1:]:
        if segment.startswith(b"--"):
            break  # the closing delimiter
        segment = segment.removeprefix(b"\r\n")
        head, sep, body = segment.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = {}
        for line in head.decode("utf-8", errors="replace").split("\r\n"):
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, body.removesuffix(b"\r\n")))
    return parts


def html_input(specs: Mapping[str, FieldSpec], form: FormData) -> dict[str, object]:
    """The values DRF's fields read from HTML input (``Field.get_value``), keyed like a JSON body.

    An empty string becomes null for a nullable field that takes no blank, and is skipped for an optional one
    that takes neither; JSON fields get ``JSONText`` to parse. Absent fields stay absent, as in JSON.
    """
    values: dict[str, object] = {}
    for name, spec in specs.items():
        if name not in form:
            continue
        raw = form[name]
        if spec.kind in ("filter", "json"):
            values[name] = JSONText(str(raw))
        elif raw == "" and spec.nullable:
            values[name] = "" if spec.allow_blank else None
        elif raw == "" and not spec.required:
            if spec.allow_blank:
                values[name] = ""
        else:
            values[name] = raw
    return values
