"""Apply an OpenAPI Overlay 1.0 document, and generate the contract revisions derived from the seed fragment.

The live revision (``openapi/widgets-live.yaml``) is never edited by hand: it is the seed fragment
(``openapi/widgets.yaml``) with the overlay ``openapi/overlays/live.yaml`` applied, one action per documented
change. ``python -m conformance.overlay`` rewrites it; a test checks that doing so changes no byte.

Overlay 1.0 (https://spec.openapis.org/overlay/v1.0.0.html) semantics, for the JSONPath subset used here
(``$``, ``.name``, ``['name']``; one node per target, which must exist):

* ``update`` on an object merges recursively (objects into objects, anything else replaces);
* ``update`` on an array appends the value as one entry;
* ``remove: true`` removes the node from the object or array holding it.
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from conformance._types import JSON

ROOT = Path(__file__).resolve().parent.parent
#: Derived revisions: the generated file, its base and its overlay (paths in the checkout).
DERIVED = {"live": ("openapi/widgets-live.yaml", "openapi/widgets.yaml", "openapi/overlays/live.yaml")}

_SEGMENT = re.compile(r"\.([A-Za-z0-9_$-]+)|\['((?:[^'\\]|\\.)*)'\]|\[\"((?:[^\"\\]|\\.)*)\"\]")


class OverlayError(ValueError):
    """The overlay cannot be applied as written (a target that selects nothing, an unsupported path)."""


def parse_target(target: str) -> list[str]:
    """The member names of a JSONPath made of ``$``, ``.name`` and ``['name']`` segments."""
    if not target.startswith("$"):
        raise OverlayError(f"target {target!r} does not start with $")
    names: list[str] = []
    position = 1
    while position < len(target):
        match = _SEGMENT.match(target, position)
        if match is None:
            raise OverlayError(f"target {target!r}: only $, .name and ['name'] segments are supported here")
        raw = next(group for group in match.groups() if group is not None)
        names.append(re.sub(r"\\(.)", r"\1", raw))
        position = match.end()
    return names


def _node(document: JSON, names: list[str], target: str) -> JSON:
    node = document
    for name in names:
        if isinstance(node, dict) and name in node:
            node = node[name]
        elif isinstance(node, list) and name.isdigit() and int(name) < len(node):
            node = node[int(name)]
        else:
            raise OverlayError(f"target {target!r} selects nothing (no {name!r})")
    return node


def merge(base: JSON, update: JSON) -> JSON:
    """Overlay 1.0's recursive merge: objects merge member by member, anything else replaces."""
    if isinstance(base, dict) and isinstance(update, Mapping):
        merged = dict(base)
        for key, value in update.items():
            merged[key] = merge(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    return copy.deepcopy(update)


def apply(document: Mapping[str, JSON], overlay: Mapping[str, JSON]) -> dict[str, JSON]:
    """A new document: ``overlay``'s actions applied in order to a copy of ``document``."""
    if not str(overlay.get("overlay", "")).startswith("1.0"):
        raise OverlayError(f"not an Overlay 1.0 document (overlay: {overlay.get('overlay')!r})")
    result: dict[str, JSON] = copy.deepcopy(dict(document))
    for number, action in enumerate(overlay.get("actions") or [], 1):
        target = str(action.get("target", ""))
        names = parse_target(target)
        if action.get("remove"):
            if not names:
                raise OverlayError(f"action {number}: the root cannot be removed")
            parent = _node(result, names[:-1], target)
            _node(result, names, target)  # must exist
            if isinstance(parent, dict):
                del parent[names[-1]]
            else:
                del parent[int(names[-1])]
            continue
        if "update" not in action:
            raise OverlayError(f"action {number} ({target}) has neither update nor remove")
        node = _node(result, names, target)
        if isinstance(node, list):
            node.append(copy.deepcopy(action["update"]))
        elif isinstance(node, dict):
            if not isinstance(action["update"], Mapping):
                raise OverlayError(f"action {number} ({target}): an object is updated with an object")
            merged = merge(node, action["update"])
            node.clear()
            node.update(merged)
        else:
            raise OverlayError(f"action {number} ({target}) selects a {type(node).__name__}, not an object or array")
    return result


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line text, so the generated file reads like the hand-written one."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def header(name: str) -> str:
    _, base, overlay = DERIVED[name]
    return (
        f"# GENERATED: {base} with the overlay {overlay} applied (python -m conformance.overlay).\n"
        "# Do not edit: change the overlay (or the seed fragment) and regenerate; a test checks the bytes.\n"
    )


def generate(name: str, root: Path = ROOT) -> bytes:
    """The bytes of the derived revision ``name``, generated from its base fragment and its overlay."""
    _, base, overlay = DERIVED[name]
    document = yaml.safe_load((root / base).read_bytes())
    actions = yaml.safe_load((root / overlay).read_bytes())
    derived = apply(document, actions)
    text = yaml.dump(derived, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return (header(name) + text).encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    """Write every derived revision; ``--check`` only says which would change (exit 1)."""
    args = sys.argv[1:] if argv is None else argv
    if not (ROOT / "openapi" / "overlays").is_dir():
        print("python -m conformance.overlay works in a checkout (it rewrites openapi/); this is an installed copy")
        return 2
    stale = []
    for name, (out, _, _) in DERIVED.items():
        path = ROOT / out
        fresh = generate(name)
        if path.is_file() and path.read_bytes() == fresh:
            continue
        stale.append(out)
        if "--check" not in args:
            path.write_bytes(fresh)
            print(f"wrote {out}")
    if "--check" in args and stale:
        print(f"out of date: {', '.join(stale)} (run python -m conformance.overlay)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
