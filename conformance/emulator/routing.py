"""URL resolution as Django does it for a DRF router: which view a path reaches, and the slash redirect.

A DRF router matches a lookup with ``[^/.]+`` (``SimpleRouter.lookup_value_regex``), so ``/dashboards/widgets/1.5/``
reaches no view at all. Methods and their order come from the fragment plus what every ``ModelViewSet`` route has:
``HEAD`` wherever there is ``GET`` (``ViewSetMixin.as_view``) and ``OPTIONS`` (``APIView.options``), listed in
Django's ``View.http_method_names`` order, which is the order of DRF's ``Allow`` header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from conformance.contract import Contract

#: Django's ``View.http_method_names`` order (``trace`` is never bound on a ViewSet).
DJANGO_METHOD_ORDER = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_PARAMETER = re.compile(r"\{(\w+)\}")
#: What the view name of a DRF router route ends with: "Widget List", "Widget Instance".
_SUFFIX = {False: "List", True: "Instance"}


@dataclass(frozen=True)
class Route:
    """One router route: a fragment path and everything DRF derives from its view."""

    template: str  # the fragment's path, e.g. /dashboards/widgets/{id}/
    resource: str  # widget, dashboard or metric
    detail: bool  # a {id} route (retrieve/update/destroy) rather than a collection
    methods: tuple[str, ...]  # every method the view answers, in Django's order
    operations: Mapping[str, str]  # method -> Behaviour method name (HEAD shares GET's)
    view_name: str  # DRF's get_view_name(): "Widget Instance"

    @property
    def allow(self) -> str:
        """DRF's ``Allow`` header value: sent with every response of the view."""
        return ", ".join(self.methods)


def _resource(template: str) -> str:
    if "/widgets/" in template:
        return "widget"
    if "/dashboards/dashboards/" in template:
        return "dashboard"
    return "metric"


def build_routes(contract: Contract) -> list[Route]:
    """A ``Route`` per fragment path, each operation bound to the Behaviour method named after its operationId."""
    routes = []
    for template, item in contract.document["paths"].items():
        operations = {
            method.upper(): spec["operationId"].replace("-", "_")
            for method, spec in item.items()
            if method in {"get", "put", "post", "patch", "delete"}
        }
        if "GET" in operations:
            operations["HEAD"] = operations["GET"]
        declared = {*operations, "OPTIONS"}
        detail = "{" in template
        resource = _resource(template)
        routes.append(
            Route(
                template=template,
                resource=resource,
                detail=detail,
                methods=tuple(m for m in DJANGO_METHOD_ORDER if m in declared),
                operations=operations,
                view_name=f"{resource.capitalize()} {_SUFFIX[detail]}",
            )
        )
    return routes


def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regex: literal parts escaped, each ``{name}`` a DRF lookup (``[^/.]+``)."""
    parts = _PARAMETER.split(template)  # literal, name, literal, name, ..., literal
    regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/.]+)" for i, part in enumerate(parts))
    return re.compile(regex)


class Router:
    """Resolve a request path to a route and its path parameters, as Django's URL resolver would."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._exact = {r.template: r for r in routes if "{" not in r.template}
        self._patterns = [(_pattern(r.template), r) for r in routes if "{" in r.template]

    def resolve(self, path: str) -> tuple[Route, dict[str, str]] | None:
        exact = self._exact.get(path)
        if exact is not None:
            return exact, {}
        for pattern, route in self._patterns:
            match = pattern.fullmatch(path)  # as Django's resolver: "$" must not match before a final newline
            if match is not None:
                return route, match.groupdict()
        return None

    def slash_redirect(self, path: str) -> bool:
        """``CommonMiddleware.should_redirect_with_slash``: no slash, no match, but the slash path matches."""
        return not path.endswith("/") and self.resolve(path + "/") is not None
