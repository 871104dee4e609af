"""The development API keys of the emulator's default seed (documented in its README): one place for the
emulator's seed, the embedded target's defaults (settings) and the benchmarks."""

from __future__ import annotations

from collections.abc import Mapping

#: By tenant name; tenant A owns dashboard 1 and widget 1, tenant B dashboard 2 and widget 2.
DEV_KEYS: Mapping[str, str] = {
    "tenant-a": "cekura-dev-key-tenant-a",
    "tenant-b": "cekura-dev-key-tenant-b",
}
TENANT_A_KEY = DEV_KEYS["tenant-a"]
TENANT_B_KEY = DEV_KEYS["tenant-b"]
