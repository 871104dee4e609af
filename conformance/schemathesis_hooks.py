"""Schemathesis hooks: the calibration ``conformance.calibration`` allows, and nothing else.

* Positive widget and dashboard bodies go through ``fix_positive_body``: random foreign-key ids become ids
  the caller owns (``CEKURA_DASHBOARD_IDS``, ``CEKURA_METRIC_IDS``: comma-separated) and CharFields lose
  NUL characters, so "valid data was rejected" only ever means a real rejection.
* Negative cases whose only negation is a body DRF's default coercions accept ("5" for a pk, a number for
  a CharField, read-only keys) are dropped (``drf_would_accept``), so "invalid data was accepted" only
  ever means a real acceptance.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import schemathesis
from schemathesis.core.parameters import ParameterLocation

from conformance import calibration, contract
from conformance.contract import Contract


def _ids(variable: str) -> list[int | None]:
    return [int(part) for part in os.environ.get(variable, "").split(",") if part.strip()]


def _contract_of(case: Any) -> Contract:
    """The revision schemathesis was given (the fragment names it in ``info.x-cekura-revision``)."""
    raw = getattr(getattr(case.operation, "schema", None), "raw_schema", None)
    info = raw.get("info") if isinstance(raw, Mapping) else None
    name = info.get("x-cekura-revision") if isinstance(info, Mapping) else None
    return contract.get(name) if name in contract.REVISIONS else contract.default()


def _schema_of(case: Any) -> str | None:
    return _contract_of(case).request_schema(case.operation.method, case.operation.path)


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, Mapping):
        return case
    if _schema_of(case) is not None:
        case.body = calibration.fix_positive_body(
            dict(case.body),
            dashboards=_ids("CEKURA_DASHBOARD_IDS"),
            metrics=_ids("CEKURA_METRIC_IDS"),
            group_by=calibration.documented_examples(_contract_of(case), "group_by"),
        )
    return case


@schemathesis.hook
def filter_case(context: Any, case: Any) -> bool:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return True
    found = _schema_of(case)
    body_only = meta.is_negative_at(ParameterLocation.BODY) and not any(
        meta.is_negative_at(location) for location in meta.components if location != ParameterLocation.BODY
    )
    if found is None or not body_only or not isinstance(case.body, Mapping):
        return True
    # The schema's required list counts too: a create body without chart_type is no DRF-acceptable body.
    return not calibration.drf_would_accept(_contract_of(case), found, case.body)
