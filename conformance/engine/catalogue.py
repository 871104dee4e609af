"""Load the requirement catalogue (YAML data) into frozen records, validated once against its JSON Schema.

``Requirement`` -> ``Case`` -> ``Fixture`` (``given``) and ``Step`` -> ``Request`` and ``Expect`` -> ``SameAs``,
``Comparison``: the runner reads attributes, so a key the schema does not know is a load error naming the file and
the line, never a KeyError (or a silently skipped check) in the middle of a run. Values that may hold ``${...}``
templates stay JSON as written; they are rendered when the case runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from conformance._types import JSON
from conformance.contract import REVISIONS
from conformance.engine.errors import ConfigurationError
from conformance.engine.outcomes import Level
from conformance.engine.template import undefined
from conformance.engine.verdict import counts_for_conformance

# libyaml's safe loader when PyYAML has it: the same documents, a sixth of the time (every run loads the catalogue).
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CATALOGUE_ENV = "CEKURA_CATALOGUE_DIR"


def catalogue_dir() -> Path:
    """The catalogue shipped with the package, unless ``CEKURA_CATALOGUE_DIR`` names another."""
    override = os.environ.get(CATALOGUE_ENV)
    return Path(override) if override else Path(__file__).resolve().parent.parent / "catalogue"


@dataclass(frozen=True)
class Request:
    """A step's request: ``operation`` is an operationId of the fragment; every text may hold templates."""

    operation: str
    method: str | None = None  # another method to the operation's path (405 probes); None: the operation's
    path: Mapping[str, JSON] = field(default_factory=dict)
    query: Mapping[str, JSON] = field(default_factory=dict)
    json: JSON = None  # a JSON body; None: none
    raw: str | None = None  # a body sent as is
    raw_hex: str | None = None  # body bytes, hex-encoded
    content_type: str | None = None
    auth: str = "primary"  # primary, other, none, invalid
    without_slash: bool = False


@dataclass(frozen=True)
class Comparison:
    path: str  # dotted path into the body
    op: str  # one of expectations.COMPARISON_OPS
    value: JSON = None  # templates allowed; none for is_string and absent


@dataclass(frozen=True)
class SameAs:
    saved: str
    except_: tuple[str, ...] = ()  # ``except`` in YAML


@dataclass(frozen=True)
class Expect:
    """What an answer must show; every part is optional."""

    status: int | str | tuple[int | str, ...] | None = None
    schema: Mapping[str, JSON] | None = None
    body: Mapping[str, JSON] = field(default_factory=dict)
    headers: Mapping[str, JSON] = field(default_factory=dict)
    same_as: SameAs | None = None
    compare: tuple[Comparison, ...] = ()
    if_accepted: Expect | None = None


@dataclass(frozen=True)
class Step:
    request: Request
    expect: Expect = field(default_factory=Expect)
    save: str | None = None  # the name its response body is kept under for later templates


@dataclass(frozen=True)
class Fixture:
    kind: str  # dashboard or widget
    body: Mapping[str, JSON]  # the POST body (templates allowed)
    auth: str = "primary"  # ``as`` in YAML: primary or other


@dataclass(frozen=True)
class Case:
    name: str
    steps: tuple[Step, ...]
    given: Mapping[str, Fixture] = field(default_factory=dict)  # created in order, deleted afterwards
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class Requirement:
    id: str
    title: str
    level: Level
    area: str
    source: dict[str, Any]
    tentative: bool = False
    story: str | None = None
    rationale: str | None = None
    checks: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    cases: tuple[Case, ...] = field(default=(), repr=False)
    file: str = ""
    revisions: tuple[str, ...] = ()  # the contract revisions it applies to; empty: every revision

    def applies_to(self, revision: str) -> bool:
        return not self.revisions or revision in self.revisions

    @property
    def counts_for_conformance(self) -> bool:
        """Only untentative MUSTs decide conformance."""
        return counts_for_conformance(self.level, self.tentative)

    @property
    def source_url(self) -> str | None:
        url = self.source.get("url")
        return str(url) if url else None


@dataclass(frozen=True)
class Catalogue:
    requirements: tuple[Requirement, ...]
    sha256: str

    def for_revision(self, revision: str) -> Catalogue:
        """The requirements that apply to ``revision`` (the digest stays the whole catalogue's: the run records
        its revision beside it)."""
        return Catalogue(tuple(r for r in self.requirements if r.applies_to(revision)), self.sha256)

    def by_id(self, requirement_id: str) -> Requirement:
        for req in self.requirements:
            if req.id == requirement_id:
                return req
        raise KeyError(requirement_id)


def schema() -> dict[str, Any]:
    path = Path(__file__).resolve().parent.parent / "catalogue" / "catalogue.schema.json"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _line(raw: bytes, path: Sequence[str | int], key: str | None = None) -> int | None:
    """The 1-based line of the node at ``path`` (of its key ``key`` when given) in a YAML text, found again only
    when a file is refused (the fast loader keeps no positions)."""
    try:
        node: yaml.Node | None = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == step), node)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
    if key is not None and isinstance(node, yaml.MappingNode):
        node = next((k for k, _ in node.value if k.value == key), node)
    return node.start_mark.line + 1 if node is not None else None


def _refusal(path: Path, raw: bytes, error: ValidationError) -> str:
    """The schema's complaint with the file and line: for an unexpected key, the line of that key."""
    where = "/".join(str(p) for p in error.absolute_path)
    unexpected = None
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        unexpected = next((k for k in error.instance if k not in known), None)
    line = _line(raw, list(error.absolute_path), unexpected)
    at = f", line {line}" if line is not None else ""
    return f"catalogue file {path.name}{at}: {where}: {error.message}"


def _request(data: Mapping[str, Any]) -> Request:
    return Request(
        operation=data["operation"],
        method=data.get("method"),
        path=data.get("path") or {},
        query=data.get("query") or {},
        json=data.get("json"),
        raw=data.get("raw"),
        raw_hex=data.get("raw_hex"),
        content_type=data.get("content_type"),
        auth=data.get("auth", "primary"),
        without_slash=bool(data.get("without_slash", False)),
    )


def expect_of(data: Mapping[str, Any]) -> Expect:
    """An ``expect`` block as a record (validated already, as part of its file)."""
    status = data.get("status")
    same_as = data.get("same_as")
    return Expect(
        status=tuple(status) if isinstance(status, list) else status,
        schema=data.get("schema"),
        body=data.get("body") or {},
        headers=data.get("headers") or {},
        same_as=SameAs(same_as["saved"], tuple(same_as.get("except", ()))) if same_as is not None else None,
        compare=tuple(Comparison(c["path"], c["op"], c.get("value")) for c in data.get("compare", ())),
        if_accepted=expect_of(data["if_accepted"]) if "if_accepted" in data else None,
    )


def _fixture(data: Mapping[str, Any]) -> Fixture:
    kind = "dashboard" if "dashboard" in data else "widget"
    return Fixture(kind, data[kind], data.get("as", "primary"))


def case_of(data: Mapping[str, Any]) -> Case:
    """A case as a record (validated already, as part of its file)."""
    return Case(
        name=data["name"],
        steps=tuple(
            Step(_request(step["request"]), expect_of(step.get("expect", {})), step.get("save"))
            for step in data["steps"]
        ),
        given={label: _fixture(fixture) for label, fixture in (data.get("given") or {}).items()},
        requires=tuple(data.get("requires", ())),
    )


def load(directory: Path | None = None) -> Catalogue:
    """Load and validate every ``*.yaml`` file of the catalogue, in name order."""
    folder = directory or catalogue_dir()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        raise ConfigurationError(f"no catalogue files in {folder}")
    validator = Draft202012Validator(schema())
    digest = hashlib.sha256()
    requirements: list[Requirement] = []
    for path in files:
        raw = path.read_bytes()
        digest.update(path.name.encode() + b"\0" + raw + b"\0")
        data = yaml.load(raw, Loader=_LOADER)  # a safe loader (libyaml's when built, else PyYAML's)
        error = best_match(validator.iter_errors(data))  # the deepest, most specific error: an unknown op, not "anyOf"
        if error is not None:
            raise ConfigurationError(_refusal(path, raw, error))
        for entry in data["requirements"]:
            unknown_revisions = [name for name in entry.get("revisions", ()) if name not in REVISIONS]
            if unknown_revisions:
                raise ConfigurationError(
                    f"{path.name}: {entry['id']} names unknown revisions {', '.join(unknown_revisions)} "
                    f"(known: {', '.join(REVISIONS)})"
                )
            cases = tuple(case_of(case) for case in entry.get("cases", ()))
            for case in cases:
                unknown = undefined(case)
                if unknown:
                    raise ConfigurationError(
                        f"{path.name}: {entry['id']} case {case.name!r}: {', '.join(unknown)} names no "
                        "earlier fixture, saved body or builtin (a catalogue bug)"
                    )
            requirements.append(
                Requirement(
                    id=entry["id"],
                    title=entry["title"],
                    level=Level(entry["level"]),
                    area=data["area"],
                    source=entry["source"],
                    tentative=bool(entry.get("tentative", False)),
                    story=entry.get("story"),
                    rationale=entry.get("rationale"),
                    checks=tuple(entry.get("checks", ())),
                    requires=tuple(entry.get("requires", ())),
                    cases=cases,
                    file=path.name,
                    revisions=tuple(entry.get("revisions", ())),
                )
            )
    ids = [r.id for r in requirements]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigurationError(f"duplicate requirement ids: {', '.join(duplicates)}")
    return Catalogue(tuple(requirements), digest.hexdigest())


@lru_cache(maxsize=1)
def default() -> Catalogue:
    return load()
