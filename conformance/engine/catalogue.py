"""Load the requirement catalogue (YAML data) into frozen records, validated against its JSON Schema."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

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
    cases: tuple[dict[str, Any], ...] = field(default=(), repr=False)
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
            where = "/".join(str(p) for p in error.absolute_path)
            raise ConfigurationError(f"catalogue file {path.name}: {where}: {error.message}")
        for entry in data["requirements"]:
            unknown_revisions = [name for name in entry.get("revisions", ()) if name not in REVISIONS]
            if unknown_revisions:
                raise ConfigurationError(
                    f"{path.name}: {entry['id']} names unknown revisions {', '.join(unknown_revisions)} "
                    f"(known: {', '.join(REVISIONS)})"
                )
            for case in entry.get("cases", ()):
                unknown = undefined(case)
                if unknown:
                    raise ConfigurationError(
                        f"{path.name}: {entry['id']} case {case.get('name')!r}: {', '.join(unknown)} names no "
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
                    cases=tuple(entry.get("cases", ())),
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
