"""Conformance suite for Cekura's ``PATCH /dashboards/widgets/{id}/``, with a reference emulator."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cekura-widget-conformance")
except PackageNotFoundError:  # running from a checkout without an install
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
