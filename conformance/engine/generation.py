"""Hypothesis as the suite runs it: generation that depends on the seed and the fragment only, and no files
dropped in the user's working directory.

Two of Hypothesis's conveniences for testing local code are wrong for a suite whose code under test is a
server at the other end of a socket:

* It draws about one value in twenty from constants parsed out of the source of the "local" modules loaded at
  the time (outside site-packages and the stdlib). With the suite installed editable its own modules count, and
  in a pytest session whatever else is loaded: a seed would generate other cases per install, per process, and
  as lazily imported modules come and go. ``without_local_constants`` gives the suite's runs none.
* It keeps Unicode tables in ``.hypothesis/`` under the working directory, computing them when missing: for
  ``text(codec="utf-8")`` that is a pass over every code point costing 1.5 s of CPU and ~170 MB of memory, in every
  fresh checkout a CI job starts from. ``suite_storage`` keeps them in the user's cache directory instead
  (``$HYPOTHESIS_STORAGE_DIRECTORY`` still wins), and writes the UTF-8 table there directly: UTF-8 encodes every
  code point but the surrogates, and each one round-trips.

Both are undone when the run ends, so the Hypothesis tests of a pytest session around the plugin keep theirs.
Hypothesis has no setting for either: its lookups are replaced, when this Hypothesis has them.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The UTF-8 table as Hypothesis 6 stores it (charmap.intervals_from_codec): encodable intervals, and those that
# do not round-trip. A future format would use another file name, and Hypothesis would compute its own again.
UTF8_TABLE = "codec-v2-utf-8.json.gz"
UTF8_INTERVALS: list[Any] = [[[0, 0xD7FF], [0xE000, sys.maxunicode]], []]


def cache_root() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "cekura-conformance" / "hypothesis"


@contextlib.contextmanager
def without_local_constants() -> Iterator[None]:
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        sorted_set: Any = providers.SortedSet  # type: ignore[attr-defined]
        empty = providers.Constants(  # type: ignore[attr-defined]
            integers=sorted_set(),
            floats=sorted_set(key=providers.float_to_int),  # type: ignore[attr-defined]
            bytes=sorted_set(),
            strings=sorted_set(),
        )
        cache = providers.CONSTANTS_CACHE
    except (ImportError, AttributeError):  # another Hypothesis: its own behaviour
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.cache.clear()  # choices computed with local constants are cached by constraint
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.cache.clear()


def _seed_utf8_table(home: Path) -> None:
    table = home / "unicode_data" / unicodedata.unidata_version / UTF8_TABLE
    if table.exists():
        return
    table.parent.mkdir(parents=True, exist_ok=True)
    partial = table.with_name(f".{table.name}.{os.getpid()}")
    with gzip.GzipFile(partial, "wb", mtime=1) as out:
        out.write(json.dumps(UTF8_INTERVALS).encode())
    partial.replace(table)  # atomic: a concurrent run reads the whole file or none


@contextlib.contextmanager
def suite_storage() -> Iterator[None]:
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        yield
        return
    try:
        from hypothesis import configuration

        previous = configuration.__dict__["__hypothesis_home_directory"]
        set_home = configuration.set_hypothesis_home_dir
    except (ImportError, AttributeError, KeyError):
        yield
        return
    home = cache_root()
    with contextlib.suppress(OSError):  # unwritable: Hypothesis computes what it needs, as it would anyway
        _seed_utf8_table(home)
    set_home(home)
    try:
        yield
    finally:
        set_home(previous)


@contextlib.contextmanager
def suite_generation() -> Iterator[None]:
    """Both, for the length of a run."""
    with suite_storage(), without_local_constants():
        yield
