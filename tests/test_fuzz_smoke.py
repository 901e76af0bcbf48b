"""A short seeded run of every fuzz target (the full run is `make fuzz`, docs/security.md)."""

from __future__ import annotations

import pytest

from fuzz.runner import run_target
from fuzz.targets import load_all

TARGETS = load_all()


def test_targets_are_registered() -> None:
    assert "binaries.arch" in TARGETS
    for t in TARGETS.values():
        assert t.seeds(), f"{t.name} has no seed inputs"


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_smoke(name: str) -> None:
    r = run_target(TARGETS[name], cases=400, seconds=4.0, seed=20261130, timeout=10.0)
    assert r.cases > 0
    assert r.findings == [], "\n".join(r.findings)
