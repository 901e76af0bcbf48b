"""Fake Windows guests for the rule tests, and reading the output relations."""

from __future__ import annotations

from pathlib import Path

from guestinspect.datalog import Database, Program
from guestinspect.inspection.driver import run_collector
from tests.images.content import pe32_i386_executable
from tests.rules.windows.fakereg import FakeDisk, FakeFs, FakeGuest, pe_executable

MiB = 1 << 20
I386 = pe32_i386_executable()
AMD64 = pe_executable(0x8664)
ARM64 = pe_executable(0xAA64)

#: The phony guest's layout: MBR disk signature "1234", partitions at sectors 64 and 524288.
PHONY_SIG = b"1234"
PHONY_PARTS = [(1, 64 * 512, (524288 - 64) * 512), (2, 524288 * 512, 512 * MiB)]


def windows_fs(
    software: Path | None,
    system: Path | None,
    cmd: bytes = I386,
    systemroot: str = "/Windows",
    system32: str = "System32",
    config: str = "Config",
    names: tuple[str, str, str] = ("SOFTWARE", "SYSTEM", "cmd.exe"),
    uuid: str | None = None,
    more: dict[str, bytes] | None = None,
    sam: Path | None = None,
    security: Path | None = None,
) -> FakeFs:
    """An NTFS filesystem with a Windows tree (spellings as given), its hives (``sam``,
    ``security``: a SAM and a SECURITY hive too), and ``more`` files (path -> bytes)."""
    s32 = f"{systemroot}/{system32}"
    cfg = f"{s32}/{config}"
    hives: dict[str, Path] = {}
    if software is not None:
        hives[f"{cfg}/{names[0]}"] = software
    if system is not None:
        hives[f"{cfg}/{names[1]}"] = system
    if sam is not None:
        hives[f"{cfg}/SAM"] = sam
    if security is not None:
        hives[f"{cfg}/SECURITY"] = security
    return FakeFs(
        files={f"{s32}/{names[2]}": cmd, "/autoexec.bat": b"", **(more or {})},
        dirs={cfg, f"{s32}/Drivers", "/Program Files"},
        hives=hives,
        uuid=uuid,
    )


def phony_guest(software: Path | None, system: Path | None, **kw: object) -> FakeGuest:
    """libguestfs's phony Windows guest: sda1 an empty NTFS, sda2 the Windows root."""
    disk = FakeDisk("/dev/sda", "msdos", PHONY_SIG, PHONY_PARTS)
    fs = windows_fs(software, system, **kw)  # type: ignore[arg-type]
    return FakeGuest([disk], {"/dev/sda1": FakeFs(), "/dev/sda2": fs})


def run(program: Program, guest: FakeGuest) -> Database:
    return run_collector(program, guest)


def values(db: Database, relation: str, root: str) -> set[object]:
    """The values of a (root, value) output relation for one root."""
    return {t[1] for t in db.tuples(relation) if t[0] == root}


def one(db: Database, relation: str, root: str) -> object | None:
    """The single value of a single-valued output relation (None if it has none)."""
    found = values(db, relation, root)
    assert len(found) <= 1, f"{relation} has several values for {root}: {found}"
    return next(iter(found), None)


def extra(db: Database, root: str) -> dict[str, str]:
    rows = [t for t in db.tuples("Extra") if t[0] == root]
    out = {str(t[1]): str(t[2]) for t in rows}
    assert len(out) == len(rows), f"Extra has several values for one field: {rows}"
    return out


def drives(db: Database, root: str) -> dict[str, str]:
    rows = [t for t in db.tuples("DriveMapping") if t[0] == root]
    out = {str(t[1]): str(t[2]) for t in rows}
    assert len(out) == len(rows), f"a drive letter maps to several devices: {rows}"
    return out


def applications(db: Database, root: str) -> dict[str, dict[str, str]]:
    apps: dict[str, dict[str, str]] = {str(t[1]): {} for t in db.tuples("Application")
                                       if t[0] == root}
    for t in db.tuples("ApplicationField"):
        if t[0] == root:
            assert str(t[2]) not in apps[str(t[1])], f"two values for {t}"
            apps[str(t[1])][str(t[2])] = str(t[3])
    return apps
