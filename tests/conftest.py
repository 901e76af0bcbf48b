"""Fixtures shared across the test packages.

Appliance launches are the slow part of the suite (about 20 s each under TCG), so each phony
guest is read through the appliance at most once a session: ``recorded(name)`` records the
fact snapshot of a guest's image afresh (tests/snapshots), and the end-to-end, snapshot, layout
and Windows image tests all work from that recording.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

#: The suite's image tests are the appliance's (as before issue 11): the direct and auto
#: backends' tests ask for theirs by name (backend=…, --backend …).
os.environ.setdefault("GUESTINSPECT_BACKEND", "appliance")
#: The suite does not use (nor fill) the user's persistent program cache
#: (datalog/program_cache.py); tests/datalog/test_program_cache.py turns it on for itself.
os.environ.setdefault("GUESTINSPECT_NO_PROGRAM_CACHE", "1")


@pytest.fixture(autouse=True)
def _no_libguestfs_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts without libguestfs's debug output, whatever an earlier one set (with
    it, a ``guestinspect`` child whose stderr a test reads only at the end fills the pipe
    with the appliance's console and blocks libguestfs: seen as an ``lvs`` that never
    returned in ``guestinspect mount``)."""
    monkeypatch.delenv("LIBGUESTFS_DEBUG", raising=False)
    monkeypatch.delenv("LIBGUESTFS_TRACE", raising=False)


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``recorded(name)``: the directory of a fresh recording of snapshot ``name``'s image
    (tests.snapshots.SNAPSHOTS), made on first use."""
    from tests.snapshots import SNAPSHOTS, record

    made: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in made:
            os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
            directory = tmp_path_factory.mktemp("recorded") / name
            record(SNAPSHOTS[name], directory)
            made[name] = directory
        return made[name]

    return get
