"""Fixtures of the command-line tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli.hostile_runs import CLI_TIMEOUT, GUESTINSPECT, Run
from tests.images import hostile


@pytest.fixture(scope="session")
def inspected(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """``inspected(name)``: the CLI's run on hostile guest ``name`` (every hostile guest is
    built, in one appliance launch, on first use)."""
    import os

    from tests.images import build_images

    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    runs: dict[str, Run] = {}
    paths: dict[str, list[Path]] = {}

    def get(name: str) -> Run:
        if not paths:
            paths.update(build_images([g.name for g in hostile.HOSTILE]))
        if name not in runs:
            facts = tmp_path_factory.mktemp("hostile") / name
            start = time.monotonic()
            proc = subprocess.run(
                [str(GUESTINSPECT), "--format", "raw", "-a", str(paths[name][0]),
                 "--facts-out", str(facts)],
                capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False)
            runs[name] = Run(proc.returncode, proc.stdout, proc.stderr,
                             time.monotonic() - start, facts)
        return runs[name]

    return get
