"""Fixtures for the Windows rule tests: the shipped program, and hives built once a session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.datalog import Program
from guestinspect.inspection.driver import load_program
from tests.rules.windows import hives


@pytest.fixture(scope="session")
def program() -> Program:
    return load_program()


@pytest.fixture(scope="session")
def hive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hives")


@pytest.fixture(scope="session")
def phony_software(hive_dir: Path) -> Path:
    return hives.phony(hive_dir / "phony", "software")


@pytest.fixture(scope="session")
def phony_system(hive_dir: Path) -> Path:
    return hives.phony(hive_dir / "phony", "system")


@pytest.fixture(scope="session")
def make_hive(hive_dir: Path) -> Callable[[str, str, hives.RegKeys], Path]:
    """``make_hive(name, "software" | "system" | "sam" | "security", keys)``: a hive with
    those keys (cached)."""
    made: dict[str, Path] = {}

    def make(name: str, which: str, keys: hives.RegKeys) -> Path:
        if name not in made:
            prefix = {"software": hives.SOFTWARE, "system": hives.SYSTEM, "sam": hives.SAM,
                      "security": hives.SECURITY}[which]
            made[name] = hives.make(hive_dir / name, which.upper(), prefix, keys)
        return made[name]

    return make


@pytest.fixture(scope="session")
def real_hive(hive_dir: Path) -> Callable[[str], Path]:
    return lambda name: hives.real(hive_dir / "real", name)
