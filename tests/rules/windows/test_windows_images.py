"""The Windows rules on the phony test images, read through the libguestfs appliance.

(expected-windows.img.xml itself is compared by tests/cli/test_end_to_end.py; these are the
guests upstream has no oracle for.)
"""

from __future__ import annotations

import pytest

from guestinspect.collectors.image import ImageCollector
from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import run_collector
from tests.images import image
from tests.rules.windows.guests import drives, one

pytestmark = pytest.mark.appliance


def _inspect(program: Program, guest: str) -> Database:
    with ImageCollector([image(guest)], format="raw", progress=False) as collector:
        return run_collector(program, collector)


def test_windows_gpt_image(program: Program) -> None:
    """C: is the third GPT partition, found by its DMIO:ID: GUID; the ESP is no root."""
    db = _inspect(program, "windows-gpt")
    root = "/dev/sda3"
    assert db.tuples("Root") == {(root,)}
    assert one(db, "OsType", root) == "windows"
    assert one(db, "WindowsSystemroot", root) == "/Windows"
    assert one(db, "ProductName", root) == "Microsoft Windows 7 Phony Edition"
    assert one(db, "Osinfo", root) == "win7"
    assert one(db, "Arch", root) == "i386"
    assert drives(db, root) == {"C": root}


def test_multiboot_image(program: Program) -> None:
    """Windows on sda1 (C: by MBR signature and offset), Debian on sda2."""
    db = _inspect(program, "multiboot")
    assert db.tuples("Root") == {("/dev/sda1",), ("/dev/sda2",)}
    assert one(db, "OsType", "/dev/sda1") == "windows"
    assert one(db, "Hostname", "/dev/sda1") == "windows.invalid"
    assert drives(db, "/dev/sda1") == {"C": "/dev/sda1"}
    assert one(db, "OsType", "/dev/sda2") == "linux"
    assert one(db, "WindowsSystemroot", "/dev/sda2") is None
