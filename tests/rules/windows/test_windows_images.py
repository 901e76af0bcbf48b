"""The Windows rules on the phony test images, read through the libguestfs appliance.

(expected-windows.img.xml itself is compared by tests/cli/test_end_to_end.py; these are the
guests upstream has no oracle for.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import run_snapshot
from tests.images.guests import MULTIBOOT_EXPLORER, WINDOWS_GPT_EXPLORER
from tests.rules.windows.guests import drives, one
from tests.rules.windows.icons import libguestfs_icon, ppm

pytestmark = pytest.mark.appliance


def _inspect(program: Program, recorded: Callable[[str], Path], guest: str) -> Database:
    """The rules over a fresh recording of the guest's image (tests/conftest.py)."""
    return run_snapshot(program, recorded(guest))


def _icon_of(db: Database, root: str) -> bytes:
    icon = one(db, "Icon", root)
    assert isinstance(icon, str)
    return ppm(icon)


def test_windows_gpt_image(program: Program, recorded: Callable[[str], Path]) -> None:
    """C: is the third GPT partition, found by its DMIO:ID: GUID; the ESP is no root. The icon
    is the top of bitmap 6801 of SysWOW64\\explorer.exe."""
    db = _inspect(program, recorded, "windows-gpt")
    assert _icon_of(db, "/dev/sda3") == libguestfs_icon(WINDOWS_GPT_EXPLORER, 6801, 55)
    root = "/dev/sda3"
    assert db.tuples("Root") == {(root,)}
    assert one(db, "OsType", root) == "windows"
    assert one(db, "WindowsSystemroot", root) == "/Windows"
    assert one(db, "ProductName", root) == "Microsoft Windows 7 Phony Edition"
    assert one(db, "Osinfo", root) == "win7"
    assert one(db, "Arch", root) == "i386"
    assert drives(db, root) == {"C": root}


def test_multiboot_image(program: Program, recorded: Callable[[str], Path]) -> None:
    """Windows on sda1 (C: by MBR signature and offset), Debian on sda2."""
    db = _inspect(program, recorded, "multiboot")
    assert _icon_of(db, "/dev/sda1") == libguestfs_icon(MULTIBOOT_EXPLORER, 6801, 55)
    assert db.tuples("Root") == {("/dev/sda1",), ("/dev/sda2",)}
    assert one(db, "OsType", "/dev/sda1") == "windows"
    assert one(db, "Hostname", "/dev/sda1") == "windows.invalid"
    assert drives(db, "/dev/sda1") == {"C": "/dev/sda1"}
    assert one(db, "OsType", "/dev/sda2") == "linux"
    assert one(db, "WindowsSystemroot", "/dev/sda2") is None
