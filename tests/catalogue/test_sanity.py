"""Lint the requirement catalogue: format, references into the fragment, check names, levels and templates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing.exceptions import Unresolvable

from conformance import contract
from conformance.engine import oracle
from conformance.engine.properties import emitted_check_keys

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE_DIR = ROOT / "conformance" / "catalogue"
SCHEMA_PATH = CATALOGUE_DIR / "catalogue.schema.json"
FILES = sorted(CATALOGUE_DIR.glob("*.yaml"))

#: Names the run provides to every case besides its fixtures and saved bodies.
BUILTIN_TEMPLATES = {"metric", "metric2", "other_metric", "tag", "chars"}
#: Values the live API added after the seed era: valid there, so never sent by a case that applies to the seed
#: revision (least of all as invalid input), and never in a fixture (fixtures are seed-era bodies).
LATER_VALUES = {"chart_type": {"stat"}, "aggregation_function": {"p50", "p95", "p99"}}
LATER_KEYS = {"group_by", "can_group_by"}

REQUIRED_IDS = [
    "WPATCH-AUTH-01",
    *(f"WPATCH-PARTIAL-0{n}" for n in range(1, 5)),
    *(f"WPATCH-RT-0{n}" for n in range(1, 4)),
    "WPATCH-RO-01",
    "WPATCH-RO-02",
    *(f"WPATCH-ENUM-0{n}" for n in range(1, 4)),
    *(f"WPATCH-LEN-0{n}" for n in range(1, 4)),
    *(f"WPATCH-EF-0{n}" for n in range(1, 5)),
    *(f"WPATCH-MET-0{n}" for n in range(1, 6)),
    *(f"WPATCH-DASH-0{n}" for n in range(1, 6)),
    *(f"WPATCH-FLT-0{n}" for n in range(1, 6)),
    "WPATCH-TS-01",
    "WPATCH-TS-02",
    "WPATCH-NF-01",
    "WPATCH-TEN-01",
    "WPATCH-TEN-02",
    "WPATCH-TEN-03",
    "WPATCH-JSON-01",
    "WPATCH-CT-01",
    "WPATCH-METHOD-01",
    "WPATCH-ERR-01",
    "WPATCH-SCHEMA-01",
    "WPATCH-HTTP-01",
    "WPATCH-HTTP-02",
    "WPATCH-VAL-01",
    "WPATCH-VAL-02",
    "WPATCH-STATE-01",
]

TEMPLATE = re.compile(r"\$\{([^}]*)\}")


# ---------------------------------------------------------------------------------------------------- loading


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


DOCS: dict[str, Any] = {path.name: _load(path) for path in FILES}


def _requirements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, doc in DOCS.items():
        for req in (doc or {}).get("requirements", []) or []:
            yield name, req


REQUIREMENTS = list(_requirements())
REQ_IDS = [req.get("id", f"{name}#{i}") for i, (name, req) in enumerate(REQUIREMENTS)]


def _cases() -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    for _, req in REQUIREMENTS:
        for case in req.get("cases", []) or []:
            yield req["id"], req, case


CASES = list(_cases())
CASE_IDS = [f"{rid}:{case.get('name')}" for rid, _, case in CASES]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _template_roots(node: Any) -> Iterator[tuple[str, str]]:
    """(root name, whole expression) of every ``${...}`` inside ``node``; ``str:`` (stringify) is looked through."""
    for text in _strings(node):
        for expr in TEMPLATE.findall(text):
            inner = expr.strip().removeprefix("str:")
            yield re.split(r"[.:]", inner, maxsplit=1)[0], inner


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _preconditions(req: dict[str, Any], case: dict[str, Any]) -> set[str]:
    return set(req.get("requires", []) or []) | set(case.get("requires", []) or [])


def _statuses(expect: dict[str, Any]) -> list[Any]:
    status = expect.get("status")
    if status is None:
        return []
    return status if isinstance(status, list) else [status]


# ---------------------------------------------------------------------------------------------------- files


def test_catalogue_has_files() -> None:
    assert FILES, f"no catalogue files in {CATALOGUE_DIR}"


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_file_matches_catalogue_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(DOCS[path.name]), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:20])


def test_ids_are_unique_across_files() -> None:
    seen: dict[str, str] = {}
    duplicates = []
    for name, req in REQUIREMENTS:
        rid = req["id"]
        if rid in seen:
            duplicates.append(f"{rid} in {seen[rid]} and {name}")
        seen[rid] = name
    assert not duplicates, duplicates


def test_every_listed_requirement_is_present() -> None:
    present = {req["id"] for _, req in REQUIREMENTS}
    missing = [rid for rid in REQUIRED_IDS if rid not in present]
    assert not missing, f"missing requirements: {missing}"


def test_ids_carry_their_file_area_consistently() -> None:
    """All requirements of one area prefix live in one file, so an id says where to look."""
    homes: dict[str, set[str]] = {}
    for name, req in REQUIREMENTS:
        homes.setdefault(req["id"].split("-")[1], set()).add(name)
    scattered = {area: sorted(files) for area, files in homes.items() if len(files) > 1}
    assert not scattered, scattered


# ---------------------------------------------------------------------------------------------------- requirements


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_requirement_has_a_case_or_a_check(file: str, req: dict[str, Any]) -> None:
    assert req.get("cases") or req.get("checks"), f"{req['id']} in {file} has neither cases nor checks"


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_title_is_present_tense(file: str, req: dict[str, Any]) -> None:
    assert not re.search(r"\bshould\b", req["title"], re.IGNORECASE), req["title"]
    assert not re.search(r"\bshould\b", req.get("story", ""), re.IGNORECASE), req["story"]


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_level_matches_source(file: str, req: dict[str, Any]) -> None:
    """MUST only for what the docs (or HTTP itself) state; tentative only for MAY; never a guess as a MUST."""
    level, kind = req["level"], req["source"]["kind"]
    if level == "MUST":
        assert kind in {"documented", "http"}, f"{req['id']}: MUST from a {kind} source"
        assert not req.get("tentative"), f"{req['id']}: a tentative MUST"
    if req.get("tentative"):
        assert level == "MAY", f"{req['id']}: tentative but {level}"


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_must_rejections_use_a_status_class(file: str, req: dict[str, Any]) -> None:
    """At MUST level "rejected" is any 4xx; the exact 400 belongs to a separate SHOULD."""
    if req["level"] != "MUST":
        return
    for case in req.get("cases", []) or []:
        for step in case["steps"]:
            assert 400 not in _statuses(step.get("expect", {})), f"{req['id']}/{case['name']}: exact 400 in a MUST"


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_every_check_key_a_requirement_names_is_emitted(file: str, req: dict[str, Any]) -> None:
    """A key no stage emits would make the requirement pass on evidence that can never exist."""
    emitted = emitted_check_keys()
    unknown = [check for check in req.get("checks", []) or [] if check not in emitted]
    assert not unknown, f"{req['id']} in {file}: no stage emits {unknown}; emitted: {sorted(emitted)}"


def test_oracle_check_keys_come_from_its_registry() -> None:
    assert {key for key in emitted_check_keys() if key.startswith("oracle:")} == {
        f"oracle:{aspect}" for aspect in oracle.ASPECTS
    }
    assert all(description.strip() for description in oracle.ASPECTS.values())


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_case_names_are_unique_within_requirement(file: str, req: dict[str, Any]) -> None:
    names = [case["name"] for case in req.get("cases", []) or []]
    assert len(names) == len(set(names)), f"{req['id']}: duplicate case names {names}"


# ---------------------------------------------------------------------------------------------------- cases


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_operations_exist(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    fragment = contract.default()
    for step in case["steps"]:
        op_id = step["request"]["operation"]
        try:
            fragment.operation(op_id)
        except KeyError:
            pytest.fail(f"{rid}/{case['name']}: no operation {op_id!r} in the fragment")


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_schema_refs_resolve(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    fragment = contract.default()
    for step in case["steps"]:
        schema = step.get("expect", {}).get("schema")
        if schema is None:
            continue
        for ref in _refs(schema):
            assert ref.startswith("#/"), f"{rid}/{case['name']}: non-local $ref {ref!r}"
            try:
                fragment.resolve(ref)
            except (Unresolvable, LookupError) as exc:
                pytest.fail(f"{rid}/{case['name']}: $ref {ref!r} does not resolve: {exc}")
        fragment.validator(schema)  # builds: the ad-hoc schema itself is well-formed


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_templates_reference_known_names(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    """Fixtures of the case (earlier ones only, inside `given`), saved bodies of earlier steps, run builtins."""
    where = f"{rid}/{case['name']}"
    fixtures: list[str] = []
    for name, fixture in (case.get("given") or {}).items():
        for root, expr in _template_roots(fixture):
            assert root in fixtures or root in BUILTIN_TEMPLATES, (
                f"{where}: fixture {name} uses ${{{expr}}}, not an earlier fixture or a builtin"
            )
        fixtures.append(name)
    saved: list[str] = []
    for index, step in enumerate(case["steps"]):
        for root, expr in _template_roots({"request": step["request"], "expect": step.get("expect", {})}):
            assert root in fixtures or root in saved or root in BUILTIN_TEMPLATES, (
                f"{where} step {index}: ${{{expr}}} names no fixture, earlier saved body or builtin"
            )
            if root == "chars":
                assert re.fullmatch(r"chars:\d+", expr), f"{where}: malformed ${{{expr}}}"
        same_as = step.get("expect", {}).get("same_as")
        if same_as:
            assert same_as["saved"] in saved, f"{where} step {index}: same_as {same_as['saved']!r} is not saved earlier"
        if "save" in step:
            assert step["save"] not in fixtures, f"{where}: saved name {step['save']!r} shadows a fixture"
            saved.append(step["save"])


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_preconditions_are_declared(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    """A case that uses a metric or the second tenant says so, so it is skipped (not errored) without them."""
    where = f"{rid}/{case['name']}"
    pre = _preconditions(req, case)
    roots = {root for root, _ in _template_roots(case)}
    if "metric" in roots:
        assert pre & {"metric", "two_metrics"}, f"{where}: uses ${{metric...}} without requires metric"
    if "metric2" in roots:
        assert "two_metrics" in pre, f"{where}: uses ${{metric2...}} without requires two_metrics"
    if "other_metric" in roots:
        assert {"other_metric", "other_key"} <= pre, f"{where}: uses ${{other_metric...}} without requires other_metric"
    other = any(f.get("as") == "other" for f in (case.get("given") or {}).values()) or any(
        step["request"].get("auth") == "other" for step in case["steps"]
    )
    if other:
        assert "other_key" in pre, f"{where}: uses the second tenant without requires other_key"


def _later(body: Any) -> list[str]:
    """The later values and keys ``body`` sends."""
    if not isinstance(body, dict):
        return []
    found = [f"{key}={body.get(key)!r}" for key, values in LATER_VALUES.items() if body.get(key) in values]
    return found + sorted(LATER_KEYS & set(body))


def test_the_later_values_are_the_seed_revisions_markers() -> None:
    seed = contract.get("seed")
    assert {prop: set(seed.later_values("Widget", prop)) for prop in LATER_VALUES} == LATER_VALUES


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_later_values_are_sent_only_by_live_requirements_and_never_in_fixtures(
    rid: str, req: dict[str, Any], case: dict[str, Any]
) -> None:
    """stat, p50/p95/p99 and group_by are valid on the live API: a case of the seed revision never sends them (least
    of all as invalid input); a live-only requirement sends them in its steps, where a refusal is its failure."""
    for name, fixture in (case.get("given") or {}).items():
        assert not _later(fixture.get("widget")), f"{rid}/{case['name']}: fixture {name} sends {_later(fixture)}"
    if req.get("revisions") == ["live"]:
        return
    bodies = [step["request"].get("json") for step in case["steps"]]
    for body in bodies:
        if not isinstance(body, dict):
            continue
        for key, values in LATER_VALUES.items():
            assert body.get(key) not in values, f"{rid}/{case['name']}: sends {key}={body.get(key)!r}"
        assert not LATER_KEYS & set(body), f"{rid}/{case['name']}: sends {LATER_KEYS & set(body)}"


@pytest.mark.parametrize(("file", "req"), REQUIREMENTS, ids=REQ_IDS)
def test_revisions_are_shipped_ones(file: str, req: dict[str, Any]) -> None:
    assert set(req.get("revisions", [])) <= set(contract.revisions()), f"{req['id']}: {req.get('revisions')}"


def test_live_only_requirements_exist_and_the_seed_catalogue_is_unchanged() -> None:
    from conformance.engine.catalogue import default

    whole = default()
    seed, live = whole.for_revision("seed"), whole.for_revision("live")
    only_live = sorted(r.id for r in live.requirements if r not in seed.requirements)
    assert only_live == [
        *["WPATCH-GRP-01", "WPATCH-GRP-02", "WPATCH-GRP-03", "WPATCH-PCT-01", "WPATCH-STAT-01", "WPATCH-STAT-02"]
    ]
    assert [r.id for r in seed.requirements] == [r.id for r in whole.requirements if not r.revisions]
    assert seed.sha256 == live.sha256 == whole.sha256


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_fixtures_are_creatable(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    """Widget fixtures carry what WidgetCreate requires (chart_type) and a field, as the README asks."""
    for name, fixture in (case.get("given") or {}).items():
        if "widget" in fixture:
            assert {"chart_type", "field"} <= set(fixture["widget"]), f"{rid}/{case['name']}: fixture {name}"


@pytest.mark.parametrize(("rid", "req", "case"), CASES, ids=CASE_IDS)
def test_requests_are_well_formed(rid: str, req: dict[str, Any], case: dict[str, Any]) -> None:
    """Path parameters are the operation's; raw_hex is even-length hex (the schema also says so)."""
    fragment = contract.default()
    for step in case["steps"]:
        request = step["request"]
        op = fragment.operation(request["operation"])
        declared = set(re.findall(r"\{(\w+)\}", op.path))
        given = set(request.get("path", {}) or {})
        assert given == declared, f"{rid}/{case['name']}: path params {given} != {declared} of {op.operation_id}"
        if "method" in request:
            assert request["method"].upper() != op.method, f"{rid}/{case['name']}: method equals the operation's"
        parameters = [fragment.resolve(p["$ref"]) if "$ref" in p else p for p in op.spec.get("parameters", [])]
        queries = {p["name"] for p in parameters if p.get("in") == "query"}
        unknown = set(request.get("query", {}) or {}) - queries
        assert not unknown, f"{rid}/{case['name']}: query {unknown} not declared by {op.operation_id}"


def test_every_check_key_the_engine_emits_counts_against_a_requirement() -> None:
    """A finding whose key no requirement claims would vanish from the verdict."""
    claimed = {check for _, entry in _requirements() for check in entry.get("checks", [])}
    assert sorted(emitted_check_keys() - claimed) == []
