"""DRF's error messages in one table, and the exceptions that carry them to a response."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

#: Every message the emulator answers with, worded as Django REST Framework words it.
MESSAGES: Final[Mapping[str, str]] = {
    # Fields (rest_framework.fields / relations / serializers).
    "required": "This field is required.",
    "null": "This field may not be null.",
    "blank": "This field may not be blank.",
    "invalid_choice": '"{input}" is not a valid choice.',
    "max_length": "Ensure this field has no more than {limit} characters.",
    "min_length": "Ensure this field has at least {limit} characters.",
    "max_value": "Ensure this value is less than or equal to {limit}.",
    "min_value": "Ensure this value is greater than or equal to {limit}.",
    "invalid_value": "Invalid value.",
    "not_a_string": "Not a valid string.",
    "null_characters": "Null characters are not allowed.",
    "surrogate_characters": "Surrogate characters are not allowed: U+{code_point:X}.",
    "not_an_integer": "A valid integer is required.",
    "string_too_large": "String value too large.",
    "pk_does_not_exist": 'Invalid pk "{pk_value}" - object does not exist.',
    "pk_incorrect_type": "Incorrect type. Expected pk value, received {data_type}.",
    "filter_invalid": "Invalid filter at {location}: {reason}",
    "filter_value_type": "Invalid filter at {location}: {op!r} takes {expected}.",
    "invalid_json": "Value must be valid JSON.",
    "enter_a_number": "Enter a number.",
    # Whole bodies (serializers, parsers).
    "not_a_dict": "Invalid data. Expected a dictionary, but got {data_type}.",
    "no_data": "No data provided",
    "json_parse": "JSON parse error - {reason}",
    "unsupported_media_type": 'Unsupported media type "{media_type}" in request.',
    "multipart_parse": "Multipart form parse error - {reason}",
    "not_acceptable": "Could not satisfy the request Accept header.",
    "format_not_acceptable": "Could not satisfy the request format suffix or query.",
    "invalid_page": "Invalid page.",
    # Requests (authentication, routing, views).
    "not_authenticated": "Authentication credentials were not provided.",
    "invalid_key": "Invalid API key.",
    "not_found": "Not found.",
    "method_not_allowed": 'Method "{method}" not allowed.',
    "server_error": "A server error occurred.",
}


def message(code: str, **params: Any) -> str:
    return MESSAGES[code].format(**params)


class ApiError(Exception):
    """An error response: status, JSON body and extra headers."""

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})


def detail(status: int, code: str, headers: Mapping[str, str] | None = None, **params: Any) -> ApiError:
    """An error whose body is DRF's ``{"detail": ...}``."""
    return ApiError(status, {"detail": message(code, **params)}, headers)


class FieldError(Exception):
    """One field's validation failure, as DRF's list of messages."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(messages)
        self.messages = messages

    @classmethod
    def of(cls, code: str, **params: Any) -> FieldError:
        return cls([message(code, **params)])


# Django's own answers: given outside DRF's view (an unresolved URL, a body over DATA_UPLOAD_MAX_MEMORY_SIZE), so
# they are HTML, carry no Allow header and are not content-negotiated. Text from django/views/defaults.py.
_ERROR_PAGE = """
<!doctype html>
<html lang="en">
<head>
  <title>%(title)s</title>
</head>
<body>
  <h1>%(title)s</h1><p>%(details)s</p>
</body>
</html>
"""


class DjangoPage(Exception):
    """A response Django itself gives: its status, body, Content-Type and headers."""

    def __init__(
        self, status: int, content: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.content = content
        self.content_type = content_type
        self.headers = dict(headers or {})


def not_found_page() -> DjangoPage:
    """``django.views.defaults.page_not_found`` without a 404.html template (``DEBUG`` off)."""
    text = _ERROR_PAGE % {"title": "Not Found", "details": "The requested resource was not found on this server."}
    return DjangoPage(404, text.encode(), "text/html")


def bad_request_page() -> DjangoPage:
    """``django.views.defaults.bad_request``: what a ``SuspiciousOperation`` such as ``RequestDataTooBig`` becomes."""
    return DjangoPage(400, (_ERROR_PAGE % {"title": "Bad Request (400)", "details": ""}).encode(), "text/html")


def permanent_redirect(location: str) -> DjangoPage:
    """``HttpResponsePermanentRedirect``: an empty body with Django's default Content-Type."""
    return DjangoPage(301, b"", "text/html; charset=utf-8", {"Location": location})
