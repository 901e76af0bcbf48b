"""``-v`` turns on libguestfs's debug output for its own command only: an in-process caller's
environment is as it was afterwards (a leaked LIBGUESTFS_DEBUG once made a later
``guestinspect mount`` child fill its stderr pipe with the appliance's console and block)."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from tests.snapshots import SNAPSHOTS


@pytest.mark.parametrize("before", [None, "0"])
def test_verbose_and_trace_leave_the_environment_as_it_was(
    before: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LIBGUESTFS_DEBUG", "LIBGUESTFS_TRACE"):
        if before is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, before)
    seen: dict[str, str | None] = {}
    import guestinspect.api

    real = guestinspect.api.Inspector.inspect

    def inspect(self: guestinspect.api.Inspector) -> object:
        seen.update({n: os.environ.get(n) for n in ("LIBGUESTFS_DEBUG", "LIBGUESTFS_TRACE")})
        return real(self)

    monkeypatch.setattr(guestinspect.api.Inspector, "inspect", inspect)
    result = CliRunner().invoke(cli, ["--facts", str(SNAPSHOTS["debian"].directory), "-v", "-x"])
    assert result.exit_code == 0, result.stderr
    assert seen == {"LIBGUESTFS_DEBUG": "1", "LIBGUESTFS_TRACE": "1"}  # during the command
    assert os.environ.get("LIBGUESTFS_DEBUG") == before  # and as it was after
    assert os.environ.get("LIBGUESTFS_TRACE") == before
