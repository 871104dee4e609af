"""The reference emulator: a Starlette app behaving as the real (DRF) Cekura dashboards API would."""

from __future__ import annotations

from conformance.emulator.app import create_app
from conformance.emulator.behaviour import Behaviour, Reply
from conformance.emulator.seed import DEFAULT_KEYS, Seed, TenantSeed, default_seed, load_seed, seed_from_mapping
from conformance.emulator.testing import IN_PROCESS_URL, Emulator, ServedEmulator, async_transport, transport

__all__ = [
    "DEFAULT_KEYS",
    "IN_PROCESS_URL",
    "Behaviour",
    "Emulator",
    "Reply",
    "Seed",
    "ServedEmulator",
    "TenantSeed",
    "async_transport",
    "create_app",
    "default_seed",
    "load_seed",
    "seed_from_mapping",
    "transport",
]
