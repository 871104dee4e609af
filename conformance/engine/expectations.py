"""Judge one response against a case step's ``expect`` block; raise ConformanceFailure on a mismatch."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from conformance.contract import Contract
from conformance.engine.answers import iso_datetime
from conformance.engine.catalogue import Comparison, Expect
from conformance.engine.errors import ConformanceFailure, SuiteError
from conformance.engine.template import MissingFromAnswer, render

_MISSING = object()
#: The comparison ops a case's ``compare`` may use (catalogue.schema.json lists the same; a test keeps them equal).
COMPARISON_OPS = (
    "eq",
    "ne",
    "ne_or_absent",
    "gt",
    "gte",
    "in",
    "filter_equiv",
    "is_string",
    "absent",
    "has_item",
    "lacks_item",
)


def status_matches(status: int, expected: Any) -> bool:
    options = expected if isinstance(expected, list | tuple) else [expected]
    for option in options:
        if isinstance(option, int) and status == option:
            return True
        if isinstance(option, str) and option.endswith("xx") and str(status)[0] == option[0]:
            return True
    return False


def body_of(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _MISSING


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, default=str) if value is not _MISSING else "<not JSON>"
    return text if len(text) <= limit else text[:limit] + "..."


def dig(body: Any, path: str) -> Any:
    value = body
    for key in path.split(".") if path else []:
        if isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            return _MISSING
    return value


def _ordered(left: Any, right: Any) -> tuple[Any, Any]:
    """Comparable forms: datetimes for ISO-8601 strings, numbers as they are."""
    l_dt, r_dt = iso_datetime(left), iso_datetime(right)
    if l_dt is not None and r_dt is not None:
        return l_dt, r_dt
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left, right
    raise ConformanceFailure(f"cannot order {_short(left)} and {_short(right)}")


def normalise_filter(node: Any) -> Any:
    """A canonical form of a filter: empty -> None, `and` groups flattened and unwrapped when of one."""
    if node is None or node == {}:
        return None
    if isinstance(node, Mapping) and node.get("operator") == "and" and isinstance(node.get("conditions"), list):
        flat: list[Any] = []
        for child in node["conditions"]:
            norm = normalise_filter(child)
            if norm is None:
                continue
            if isinstance(norm, Mapping) and norm.get("operator") == "and" and isinstance(norm.get("conditions"), list):
                flat.extend(norm["conditions"])
            else:
                flat.append(norm)
        if not flat:
            return None
        return flat[0] if len(flat) == 1 else {"operator": "and", "conditions": flat}
    if isinstance(node, Mapping) and isinstance(node.get("conditions"), list):
        return {**node, "conditions": [normalise_filter(c) for c in node["conditions"]]}
    return node


def _compare(body: Any, item: Comparison) -> str | None:
    path, op, expected = item.path, item.op, item.value
    if op not in COMPARISON_OPS:
        # The catalogue schema lists the ops; one it lets through that nothing judges must not pass silently.
        raise SuiteError(f"unknown comparison op {op!r} (path {path!r}); known: {', '.join(COMPARISON_OPS)}")
    actual = dig(body, path)
    if op == "absent":
        return None if actual is _MISSING else f"{path} is present ({_short(actual)})"
    if op == "ne_or_absent":
        return None if actual != expected else f"{path} is {_short(actual)}, expected anything else or no {path}"
    if actual is _MISSING:
        return f"{path} is missing from the body"
    if op == "eq" and actual != expected:
        return f"{path} is {_short(actual)}, expected {_short(expected)}"
    if op == "ne" and actual == expected:
        return f"{path} is {_short(actual)}, expected anything else"
    if op in {"gt", "gte"}:
        left, right = _ordered(actual, expected)
        if not (left > right if op == "gt" else left >= right):
            return f"{path} is {_short(actual)}, expected {'>' if op == 'gt' else '>='} {_short(expected)}"
    if op == "in" and actual not in (expected or []):
        return f"{path} is {_short(actual)}, expected one of {_short(expected)}"
    if op == "filter_equiv" and normalise_filter(actual) != normalise_filter(expected):
        return f"{path} is {_short(actual)}, expected a filter equivalent to {_short(expected)}"
    if op == "is_string":
        return (
            None if isinstance(actual, str) and actual else f"{path} is {_short(actual)}, expected a non-empty string"
        )
    if op in {"has_item", "lacks_item"}:
        return _membership(path, op, actual, expected)
    return None


def _membership(path: str, op: str, actual: Any, expected: Any) -> str | None:
    """has_item: some object of the list holds every key of ``expected`` with its value; lacks_item: none does."""
    if not isinstance(actual, list):
        return f"{path} is {_short(actual)}, expected a list"
    wanted = expected if isinstance(expected, Mapping) else {}
    found = any(
        isinstance(item, Mapping) and all(item.get(k, _MISSING) == v for k, v in wanted.items()) for item in actual
    )
    if op == "has_item" and not found:
        return f"{path} has no item with {_short(wanted)}: {_short(actual)}"
    if op == "lacks_item" and found:
        return f"{path} still has an item with {_short(wanted)}: {_short(actual)}"
    return None


def _header_values(response: httpx.Response, name: str) -> list[str]:
    values: list[str] = []
    for raw in response.headers.get_list(name):
        values.extend(v.strip().upper() for v in raw.split(","))
    return values


def check(
    expect: Expect,
    response: httpx.Response,
    *,
    contract: Contract,
    variables: Mapping[str, Any],
    saved: Mapping[str, Any],
    answers: Mapping[str, str] | None = None,
) -> None:
    """Raise ConformanceFailure listing every way ``response`` misses ``expect``.

    ``answers`` names the variables that hold the target's earlier answers: a key one of them lacks is
    listed as the target's failure ("`metric_name` is missing from ..."), like any other mismatch.
    """
    problems: list[str] = []
    body = body_of(response)
    if expect.status is not None and not status_matches(response.status_code, expect.status):
        problems.append(f"status {response.status_code}, expected {_short(expect.status)}")
        # The rest would only restate that the wrong kind of answer came back.
        raise ConformanceFailure(f"{'; '.join(problems)}; body: {_short(body)}")
    if expect.schema is not None:
        if body is _MISSING:
            problems.append("body is not JSON")
        else:
            for error in contract.errors(expect.schema, body)[:3]:
                where = "/".join(str(p) for p in error.absolute_path) or "body"
                problems.append(f"{where}: {error.message[:200]}")
    try:
        expected_body = render(dict(expect.body), variables, answers)
    except MissingFromAnswer as lacking:
        problems.append(str(lacking))
        expected_body = {}
    for key, value in expected_body.items():
        actual = dig(body, key)
        if actual is _MISSING:
            problems.append(f"{key} is missing, expected {_short(value)}")
        elif actual != value:
            problems.append(f"{key} is {_short(actual)}, expected {_short(value)}")
    for name, wanted in expect.headers.items():
        present = response.headers.get_list(name)
        if not present:
            problems.append(f"header {name} is missing")
        elif wanted is not True:
            have = _header_values(response, name)
            missing = [w for w in ([wanted] if isinstance(wanted, str) else wanted) if w.upper() not in have]
            if missing:
                problems.append(f"header {name}: {', '.join(present)} lacks {', '.join(missing)}")
    if expect.same_as is not None:
        spec = expect.same_as
        reference = saved[spec.saved]
        skip = set(spec.except_)
        if not isinstance(body, Mapping):
            problems.append(f"body is {_short(body)}, expected the saved {spec.saved!r}")
        else:
            for key in sorted((set(reference) | set(body)) - skip):
                before, after = reference.get(key, _MISSING), body.get(key, _MISSING)
                if before != after:
                    problems.append(f"{key} changed: was {_short(before)}, now {_short(after)}")
    for item in expect.compare:
        try:
            rendered = Comparison(
                render(item.path, variables, answers), item.op, render(item.value, variables, answers)
            )
            problem = _compare(body, rendered)
        except MissingFromAnswer as lacking:
            problem = str(lacking)
        if problem:
            problems.append(problem)
    if expect.if_accepted is not None and 200 <= response.status_code < 300:
        # What an accepted request must have answered, where refusing it (a 4xx) is conformant too.
        try:
            check(expect.if_accepted, response, contract=contract, variables=variables, saved=saved)
        except ConformanceFailure as failure:
            problems.append(f"accepted with {response.status_code}, but {failure}")
    if problems:
        raise ConformanceFailure("; ".join(problems))
