"""DRF's ``PageNumberPagination`` over Django's ``Paginator``: page parsing, the 404 for a bad page, the links.

``page`` is Django's ``Paginator.validate_number`` (an integer, or ``last``; anything else, below 1 or past the end
is "Invalid page."); ``page_size`` is DRF's ``_positive_int`` with the maximum as cutoff, and silently falls back to
the default when it is not a positive integer. ``next``/``previous`` are the request's absolute URL with ``page``
replaced (``rest_framework.utils.urls.replace_query_param``: parameters re-encoded in sorted order), and the
link back to page 1 drops ``page`` altogether.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from conformance.emulator.errors import ApiError, detail

PAGE = "page"
PAGE_SIZE = "page_size"


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    count: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def num_pages(self) -> int:
        # Django's Paginator: an empty list still has one (empty) first page.
        return max(1, math.ceil(self.count / self.size))


def page_size(raw: str | None, default: int, maximum: int) -> int:
    """``PageNumberPagination.get_page_size``: a positive integer, capped; otherwise the default."""
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        return default
    if size <= 0:
        return default
    return min(size, maximum)


def invalid_page() -> ApiError:
    return detail(404, "invalid_page")


def page(raw: str | None, size: int, count: int) -> Page:
    """The requested page of ``count`` items, or DRF's 404 "Invalid page."."""
    pages = max(1, math.ceil(count / size))
    if raw is None:
        number = 1
    elif raw == "last":
        number = pages
    else:
        try:
            number = int(raw)
        except ValueError:
            raise invalid_page() from None
    if number < 1 or number > pages:
        raise invalid_page()
    return Page(number, size, count)


def replace_query_param(url: str, key: str, value: object) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def remove_query_param(url: str, key: str) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def links(url: str, current: Page) -> tuple[str | None, str | None]:
    """``get_next_link`` and ``get_previous_link`` for the absolute request URL ``url``."""
    following = replace_query_param(url, PAGE, current.number + 1) if current.number < current.num_pages else None
    if current.number <= 1:
        return following, None
    if current.number == 2:
        return following, remove_query_param(url, PAGE)
    return following, replace_query_param(url, PAGE, current.number - 1)
