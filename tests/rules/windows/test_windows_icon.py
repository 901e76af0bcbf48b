"""Windows icons: rules/windows/icon.dl over fake guests, and the bitmap decoder
(guestinspect/functors/images.py) against netpbm, which virt-inspector uses."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.datalog import Program
from guestinspect.functors.images import decode_dib, dib_png
from guestinspect.inspection.results import build_inspections
from guestinspect.reporting.xml import to_xml
from tests.collectors.scratch import png
from tests.images.content import RT_BITMAP, bitmap, pe_with_resources
from tests.rules.windows import hives
from tests.rules.windows.fakereg import FakeDisk, FakeFs, FakeGuest
from tests.rules.windows.guests import PHONY_PARTS, PHONY_SIG, one, run, windows_fs
from tests.rules.windows.icons import bmptopnm, libguestfs_icon, ppm

MakeHive = Callable[[str, str, hives.RegKeys], Path]
ROOT = "/dev/sda2"
WIN7_STRIP = bitmap(48, 110)          # Windows 7's bitmap 6801: a strip, the icon on top
WIN7_OTHER = bitmap(40, 80, 32)
XP_BITMAP = bitmap(48, 48, 8)
LIVE = "/ProgramData/Microsoft/Windows Live/WLive48x48.png"


def explorer(**bitmaps: bytes) -> bytes:
    """explorer.exe with bitmaps named ``b143=...``, ``b6801=...``."""
    return pe_with_resources({(RT_BITMAP, int(k[1:])): v for k, v in bitmaps.items()})


def guest(software: Path, system: Path, files: dict[str, bytes]) -> FakeGuest:
    disk = FakeDisk("/dev/sda", "msdos", PHONY_SIG, PHONY_PARTS)
    fs = windows_fs(software, system, more=files)
    return FakeGuest([disk], {"/dev/sda1": FakeFs(), ROOT: fs})


def version(make_hive: MakeHive, text: str) -> Path:
    keys: hives.RegKeys = {"Microsoft\\Windows NT\\CurrentVersion": {
        "ProductName": f"Windows {text}", "CurrentVersion": text}}
    return make_hive(f"icon-{text}", "software", keys)


def icon(program: Program, guest: FakeGuest) -> str | None:
    db = run(program, guest)
    (os_,) = build_inspections(db)
    assert one(db, "Icon", ROOT) == os_.get("icon")
    return os_.get("icon")


# ---- the decoder against netpbm ---------------------------------------------------------------

DIBS = {
    "24-bit": bitmap(48, 110), "32-bit": bitmap(20, 20, 32), "16-bit": bitmap(20, 21, 16),
    "8-bit": bitmap(16, 20, 8), "4-bit odd width": bitmap(17, 9, 4), "1-bit": bitmap(33, 7, 1),
    "top-down": bitmap(10, 12, top_down=True),
}


@pytest.mark.parametrize("rows", [0, 5])
@pytest.mark.parametrize("case", sorted(DIBS))
def test_same_pixels_as_netpbm(case: str, rows: int) -> None:
    exe = pe_with_resources({(RT_BITMAP, 1): DIBS[case]})
    (ours,) = dib_png(base64.b64encode(DIBS[case]).decode(), rows)
    assert ppm(ours[0]) == libguestfs_icon(exe, 1, rows)


@pytest.mark.parametrize("bits, palette", [(8, 256), (4, 16), (24, 0)])
def test_os2_bitmaps_as_netpbm_reads_them(bits: int, palette: int) -> None:
    dib = bitmap(13, 9, bits, core=True)
    (ours,) = dib_png(base64.b64encode(dib).decode(), 0)
    assert ppm(ours[0]) == bmptopnm(dib, palette)


@pytest.mark.parametrize("masks", [(0xFF0000, 0xFF00, 0xFF), (0xFF, 0xFF00, 0xFF0000),
                                   (0xFF00, 0xFF0000, 0xFF000000)])
def test_bit_fields(masks: tuple[int, int, int]) -> None:
    # (netpbm's bmptopnm ignores a 40-byte header's masks: the pattern itself is the reference)
    assert decode_dib(bitmap(9, 7, 32, bitfields=masks)) == decode_dib(bitmap(9, 7, 24))


def _patched(dib: bytes, offset: int, value: bytes) -> bytes:
    return dib[:offset] + value + dib[offset + len(value) :]


UNDECODABLE = {
    "empty": b"",
    "short header": b"\x28\0\0\0" + bytes(10),
    "truncated pixels": bitmap(8, 8)[:60],
    "RLE": _patched(bitmap(8, 8, 8), 16, b"\x01"),
    "2 bits a pixel": _patched(bitmap(8, 8, 8), 14, b"\x02"),
    "zero width": _patched(bitmap(8, 8), 4, bytes(4)),
    "huge": _patched(bitmap(8, 8), 4, (1 << 20).to_bytes(4, "little")),
    "unknown header": _patched(bitmap(8, 8), 0, b"\x20"),
}


@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_undecodable_bitmaps_give_nothing(case: str) -> None:
    assert list(dib_png(base64.b64encode(UNDECODABLE[case]).decode(), 0)) == []


def test_not_base64_or_too_few_rows() -> None:
    assert list(dib_png("%%% not base64", 0)) == []
    assert list(dib_png(base64.b64encode(bitmap(8, 8)).decode(), 9)) == []
    assert len(list(dib_png(base64.b64encode(bitmap(8, 8)).decode(), 8))) == 1


# ---- the rules ----------------------------------------------------------------------------------


def test_windows_7_icon_from_syswow64(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    exe = explorer(b6801=WIN7_STRIP)
    files = {"/Windows/SysWOW64/explorer.exe": exe,
             "/Windows/explorer.exe": explorer(b6801=WIN7_OTHER)}
    found = icon(program, guest(version(make_hive, "6.1"), phony_system, files))
    assert found is not None
    assert ppm(found) == libguestfs_icon(exe, 6801, 55)
    assert ppm(found).startswith(b"P6\n48 55\n")


def test_windows_7_icon_from_the_systemroot(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    # The 32-bit explorer.exe lacks the bitmap: libguestfs would give up; the next one has it.
    files = {"/WINDOWS/syswow64/EXPLORER.EXE": explorer(b143=XP_BITMAP),
             "/WINDOWS/Explorer.exe": explorer(b6801=WIN7_OTHER)}
    found = icon(program, guest(version(make_hive, "6.1"), phony_system, files))
    assert found is not None and ppm(found).startswith(b"P6\n40 55\n")


def test_windows_7_strip_too_short(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    files = {"/Windows/explorer.exe": explorer(b6801=bitmap(48, 54))}
    assert icon(program, guest(version(make_hive, "6.1"), phony_system, files)) is None


def test_windows_xp_icon(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    exe = explorer(b143=XP_BITMAP, b6801=WIN7_STRIP)
    g = guest(version(make_hive, "5.1"), phony_system, {"/Windows/explorer.exe": exe})
    found = icon(program, g)
    assert found is not None
    assert ppm(found) == libguestfs_icon(exe, 143, 0)
    assert g.asked["WantPeResource"] == {(ROOT, "/Windows/explorer.exe", RT_BITMAP, 143)}


@pytest.mark.parametrize("size, found", [(0, True), (8192, True), (8193, False)])
def test_windows_8_icon_is_a_png_file(
    program: Program, make_hive: MakeHive, phony_system: Path, size: int, found: bool
) -> None:
    logo = png(48, 48)
    logo += bytes(max(0, size - len(logo)))  # over 8 KiB: not taken
    files = {LIVE.lower(): logo, "/Windows/explorer.exe": explorer(b6801=WIN7_STRIP)}
    got = icon(program, guest(version(make_hive, "6.2"), phony_system, files))
    assert (got is not None and base64.b64decode(got) == logo) == found


@pytest.mark.parametrize("text", ["6.0", "6.3", "5.2"])
def test_other_versions_have_no_icon(
    program: Program, make_hive: MakeHive, phony_system: Path, text: str
) -> None:
    files = {"/Windows/explorer.exe": explorer(b143=XP_BITMAP, b6801=WIN7_STRIP), LIVE: png(48, 48)}
    g = guest(version(make_hive, text), phony_system, files)
    assert icon(program, g) is None
    assert "WantPeResource" not in g.asked and "WantBlob" not in g.asked


@pytest.mark.parametrize("data", [b"", b"MZ garbage", bytes(5000),
                                  explorer(b6801=WIN7_STRIP)[:0x300]])
def test_damaged_explorer_no_icon_no_warning(
    program: Program, make_hive: MakeHive, phony_system: Path, data: bytes
) -> None:
    g = guest(version(make_hive, "6.1"), phony_system, {"/Windows/explorer.exe": data})
    db = run(program, g)
    (os_,) = build_inspections(db)
    assert "icon" not in os_ and os_["product_name"] == "Windows 6.1"
    assert not db.tuples("Warning")


def test_icon_in_the_xml(program: Program, phony_software: Path, phony_system: Path) -> None:
    files = {"/Windows/explorer.exe": explorer(b6801=WIN7_STRIP)}
    (os_,) = build_inspections(run(program, guest(phony_software, phony_system, files)))
    xml = to_xml([os_])
    assert "<icon>" in xml and xml.index("<icon>") > xml.index("</applications>")
