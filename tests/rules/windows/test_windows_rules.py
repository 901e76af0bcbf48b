"""The Windows and DOS rules (rules/windows/), run as shipped by the driver loop over fake
guests whose registry hives are real hive files (built with hivexregedit or taken from real
Windows installations)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from guestinspect.datalog import Program
from tests.oracles import SHARED
from tests.rules.windows import hives
from tests.rules.windows.fakereg import FakeDisk, FakeFs, FakeGuest
from tests.rules.windows.guests import (
    AMD64,
    ARM64,
    MiB,
    applications,
    drives,
    extra,
    one,
    phony_guest,
    run,
    values,
    windows_fs,
)

MakeHive = Callable[[str, str, hives.RegKeys], Path]
CURRENT_VERSION = "Microsoft\\Windows NT\\CurrentVersion"
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
ORACLE = SHARED / "oracles" / "libguestfs" / "expected-windows.img.xml"


# ---- libguestfs's phony Windows guest --------------------------------------------------------


def test_phony_windows_fields(program: Program, phony_software: Path, phony_system: Path) -> None:
    db = run(program, phony_guest(phony_software, phony_system))
    root = "/dev/sda2"
    assert db.tuples("Root") == {(root,)}
    assert one(db, "OsType", root) == "windows"
    assert one(db, "OsDistro", root) == "windows"
    assert one(db, "Arch", root) == "i386"
    assert one(db, "ProductName", root) == "Microsoft Windows 7 Phony Edition"
    assert one(db, "ProductVariant", root) == "Client"
    assert (one(db, "MajorVersion", root), one(db, "MinorVersion", root)) == (6, 1)
    assert one(db, "WindowsSystemroot", root) == "/Windows"
    assert one(db, "WindowsCurrentControlSet", root) == "ControlSet001"
    assert one(db, "Hostname", root) == "windows.invalid"
    assert one(db, "Osinfo", root) == "win7"
    assert one(db, "BuildId", root) is None
    assert db.tuples("WindowsGroupPolicy") == set()
    assert db.tuples("Mountpoint") == {(root, "/", root)}
    assert db.tuples("RootFilesystem") == {(root, root)}
    assert drives(db, root) == {"C": root}
    assert db.tuples("Warning") == set()
    assert applications(db, root) == {
        "test1": {"display_name": "Test1 is not real software", "version": "1.2.3",
                  "url": "http://libguestfs.org/"},
        "test2": {"display_name": "Test2 is not real software", "version": "1.2.4",
                  "url": "http://libguestfs.org/",
                  "description": "Longer description about phony test2 software"},
        "test3": {"display_name": "Test3 is not real software", "version": "1.2.5",
                  "install_path": "C:\\Program Files\\Red Hat\\test3",
                  "publisher": "Red Hat Inc."},
        "test4": {"display_name": "Test4 is not real software", "version": "1.2.6",
                  "publisher": "Red Hat Inc.",
                  "description": "WOW6432node is where 32 bit emulated apps are installed on "
                                 "64 bit Windows"},
    }


def _without_uuid(xml: str) -> str:
    return re.sub(r"<uuid>[0-9A-F]{16}</uuid>", "<uuid/>", xml).strip()


def test_phony_windows_gives_upstream_xml(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    """The whole virt-inspector document, as upstream's test compares it (NTFS uuid aside)."""
    from guestinspect.inspection.results import build_inspections
    from guestinspect.reporting.xml import to_xml

    db = run(program, phony_guest(phony_software, phony_system, uuid="0123456789ABCDEF"))
    assert _without_uuid(to_xml(build_inspections(db))) == _without_uuid(ORACLE.read_text())


def test_reads_only_what_it_needs(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    guest = phony_guest(phony_software, phony_system)
    run(program, guest)
    listed = {t for t in guest.asked["WantDir"]}
    assert listed == {("/dev/sda1", "/"), ("/dev/sda2", "/"), ("/dev/sda2", "/Windows"),
                      ("/dev/sda2", "/Windows/System32"),
                      ("/dev/sda2", "/Windows/System32/Config")}
    assert guest.asked["WantArch"] == {("/dev/sda2", "/Windows/System32/cmd.exe")}
    assert all(t[0] == "/dev/sda2" for t in guest.asked["WantRegistryKey"])


# ---- the systemroot --------------------------------------------------------------------------


def test_systemroot_any_case_reports_real_spelling(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    guest = phony_guest(phony_software, phony_system, systemroot="/WINNT", system32="SYSTEM32",
                        config="CONFIG", names=("software", "System", "CMD.EXE"))
    db = run(program, guest)
    assert one(db, "WindowsSystemroot", "/dev/sda2") == "/WINNT"
    assert one(db, "ProductName", "/dev/sda2") == "Microsoft Windows 7 Phony Edition"
    assert one(db, "Hostname", "/dev/sda2") == "windows.invalid"
    assert one(db, "Arch", "/dev/sda2") == "i386"
    assert ("/dev/sda2", "/WINNT/SYSTEM32/CONFIG/software", "Microsoft\\Windows NT\\"
            "CurrentVersion") in guest.asked["WantRegistryKey"]


def test_first_real_systemroot_wins(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    """/Windows without cmd.exe is not a systemroot (RHBZ#674130's kind); /winnt is."""
    fs = windows_fs(phony_software, phony_system, systemroot="/winnt")
    fs.dirs |= {"/Windows/System32/config"}
    db = run(program, FakeGuest([], {"/dev/sda1": fs}))
    assert one(db, "WindowsSystemroot", "/dev/sda1") == "/winnt"


def test_both_usual_names_take_the_first(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    fs = windows_fs(phony_software, phony_system, systemroot="/reactos")
    second = windows_fs(phony_software, phony_system, systemroot="/Win")
    fs.files |= second.files
    fs.dirs |= second.dirs
    fs.hives |= second.hives
    db = run(program, FakeGuest([], {"/dev/sda1": fs}))
    assert db.tuples("WindowsSystemroot") == {("/dev/sda1", "/Win")}


BOOT_INI = """\
[boot loader]
timeout=30
default=multi(0)disk(0)rdisk(0)partition(1)\\WINSYS
[operating systems]
multi(0)disk(0)rdisk(0)partition(1)\\NOSUCH="Gone"
multi(0)disk(0)rdisk(0)partition(1)\\WINSYS="Microsoft Windows XP Professional" /fastdetect
"""


def test_systemroot_from_boot_ini(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    fs = windows_fs(phony_software, phony_system, systemroot="/WinSys")
    fs.files["/BOOT.INI"] = BOOT_INI.replace("\n", "\r\n").encode()
    db = run(program, FakeGuest([], {"/dev/sda1": fs}))
    assert one(db, "WindowsSystemroot", "/dev/sda1") == "/WinSys"
    assert one(db, "OsType", "/dev/sda1") == "windows"


def test_no_systemroot_no_windows(program: Program, phony_software: Path) -> None:
    """A data volume with Program Files, or a /Windows without System32/config, is no root."""
    data = FakeFs(dirs={"/Program Files/App", "/System Volume Information"})
    half = FakeFs(files={"/Windows/System32/cmd.exe": AMD64}, hives={})
    db = run(program, FakeGuest([], {"/dev/sdb1": data, "/dev/sdc1": half}))
    assert db.tuples("Root") == set()
    assert db.tuples("WindowsSystemroot") == set()


# ---- product identity ------------------------------------------------------------------------


def _identity(name: str, variant: str, build: str, extra_values: dict[str, hives.RegValue]
              ) -> hives.RegKeys:
    values: dict[str, hives.RegValue] = {
        "ProductName": name, "InstallationType": variant, "CurrentVersion": "6.3",
        "CurrentMajorVersionNumber": 10, "CurrentMinorVersionNumber": 0,
        "CurrentBuildNumber": build, "CurrentBuild": build,
    }
    return {CURRENT_VERSION: values | extra_values}


Identity = tuple[str, str, str, dict[str, hives.RegValue], str, str, dict[str, str]]
IDENTITIES: dict[str, Identity] = {
    # name: (registry ProductName, InstallationType, build, extra values,
    #        expected product name, osinfo, expected extras)
    "win10": ("Windows 10 Pro", "Client", "19045",
              {"EditionID": "Professional", "DisplayVersion": "22H2", "ReleaseId": "2009",
               "UBR": 3803},
              "Windows 10 Pro", "win10",
              {"edition_id": "Professional", "display_version": "22H2", "release_id": "2009",
               "ubr": "3803"}),
    "win11": ("Windows 10 Enterprise", "Client", "22631",
              {"EditionID": "Enterprise", "DisplayVersion": "23H2", "UBR": 2861},
              "Windows 11 Enterprise", "win11",
              {"edition_id": "Enterprise", "display_version": "23H2", "ubr": "2861"}),
    "win2k19": ("Windows Server 2019 Datacenter", "Server", "17763",
                {"EditionID": "ServerDatacenter", "ReleaseId": "1809", "UBR": 5458},
                "Windows Server 2019 Datacenter", "win2k19",
                {"edition_id": "ServerDatacenter", "display_version": "1809",
                 "release_id": "1809", "ubr": "5458"}),
    "win2k22": ("Windows Server 2022 Standard", "Server Core", "20348",
                {"EditionID": "ServerStandard", "DisplayVersion": "21H2"},
                "Windows Server 2022 Standard", "win2k22",
                {"edition_id": "ServerStandard", "display_version": "21H2"}),
    # Server 2025 has Windows 11's build number (26100): the installation type tells it apart.
    "win2k25": ("Windows Server 2025 Datacenter", "Server", "26100",
                {"EditionID": "ServerDatacenter", "DisplayVersion": "24H2"},
                "Windows Server 2025 Datacenter", "win2k25",
                {"edition_id": "ServerDatacenter", "display_version": "24H2"}),
    "win2k16": ("Windows Server 2016 Standard", "Server", "14393", {},
                "Windows Server 2016 Standard", "win2k16", {}),
}


@pytest.mark.parametrize("case", sorted(IDENTITIES))
def test_modern_identities(
    program: Program, make_hive: MakeHive, phony_system: Path, case: str
) -> None:
    name, variant, build, more, want_name, osinfo, want_extra = IDENTITIES[case]
    software = make_hive(f"id-{case}", "software", _identity(name, variant, build, more))
    db = run(program, phony_guest(software, phony_system, cmd=AMD64))
    root = "/dev/sda2"
    assert one(db, "ProductName", root) == want_name
    assert one(db, "ProductVariant", root) == variant
    assert (one(db, "MajorVersion", root), one(db, "MinorVersion", root)) == (10, 0)
    assert one(db, "BuildId", root) == build
    assert one(db, "Osinfo", root) == osinfo
    assert one(db, "Arch", root) == "x86_64"
    assert extra(db, root) == want_extra


OLD_IDENTITIES = [
    # (ProductName, InstallationType or None, CurrentVersion, osinfo)
    ("Microsoft Windows XP", None, "5.1", "winxp"),
    ("Microsoft Windows XP", None, "5.2", "winxp"),
    ("Microsoft Windows Server 2003 R2", None, "5.2", "win2k3r2"),
    ("Microsoft Windows Server 2003", None, "5.2", "win2k3"),
    ("Windows Vista (TM) Ultimate", "Client", "6.0", "winvista"),
    ("Windows Server (R) 2008 Standard", "Server", "6.0", "win2k8"),
    ("Windows Server 2008 R2 Standard", "Server", "6.1", "win2k8r2"),
    ("Windows 8 Pro", "Client", "6.2", "win8"),
    ("Windows Server 2012 Standard", "Server", "6.2", "win2k12"),
    ("Windows 8.1 Pro", "Client", "6.3", "win8.1"),
    ("Windows Server 2012 R2 Datacenter", "Server", "6.3", "win2k12r2"),
]


@pytest.mark.parametrize("i", range(len(OLD_IDENTITIES)))
def test_older_osinfo(program: Program, make_hive: MakeHive, phony_system: Path, i: int) -> None:
    name, variant, version, osinfo = OLD_IDENTITIES[i]
    values: dict[str, hives.RegValue] = {"ProductName": name, "CurrentVersion": version}
    if variant is not None:
        values["InstallationType"] = variant
    software = make_hive(f"old-{i}", "software", {CURRENT_VERSION: values})
    db = run(program, phony_guest(software, phony_system))
    assert one(db, "Osinfo", "/dev/sda2") == osinfo
    assert one(db, "ProductName", "/dev/sda2") == name
    assert one(db, "ProductVariant", "/dev/sda2") == variant


def test_hive_without_current_version(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    software = make_hive("no-cv", "software", {
        f"{UNINSTALL}\\app": {"DisplayName": "An application", "DisplayVersion": "2.0"}})
    db = run(program, phony_guest(software, phony_system))
    root = "/dev/sda2"
    assert db.tuples("Root") == {(root,)}
    for rel in ("ProductName", "ProductVariant", "MajorVersion", "MinorVersion", "BuildId",
                "Osinfo"):
        assert one(db, rel, root) is None, rel
    assert one(db, "OsType", root) == "windows"
    assert one(db, "Hostname", root) == "windows.invalid"
    assert drives(db, root) == {"C": root}
    assert applications(db, root) == {
        "app": {"display_name": "An application", "version": "2.0"}}


def test_missing_values_leave_the_others(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    """No ProductName, no minor version number: the rest still comes through; the version
    falls back on CurrentVersion only when the numbers are both missing."""
    software = make_hive("partial", "software", {CURRENT_VERSION: {
        "InstallationType": "Client", "CurrentMajorVersionNumber": 10, "CurrentVersion": "6.3",
        "CurrentBuildNumber": "19044", "EditionID": "Enterprise"}})
    db = run(program, phony_guest(software, phony_system))
    root = "/dev/sda2"
    assert one(db, "ProductName", root) is None
    assert one(db, "ProductVariant", root) == "Client"
    assert (one(db, "MajorVersion", root), one(db, "MinorVersion", root)) == (6, 3)
    assert one(db, "BuildId", root) == "19044"
    assert one(db, "Osinfo", root) == "win8.1"
    assert extra(db, root) == {"edition_id": "Enterprise"}


def test_windows_11_without_installation_type_stays_as_named(
    program: Program, make_hive: MakeHive, phony_system: Path
) -> None:
    software = make_hive("w11-novariant", "software", {CURRENT_VERSION: {
        "ProductName": "Windows 10 Pro", "CurrentMajorVersionNumber": 10,
        "CurrentMinorVersionNumber": 0, "CurrentBuildNumber": "22621"}})
    db = run(program, phony_guest(software, phony_system))
    assert one(db, "ProductName", "/dev/sda2") == "Windows 10 Pro"
    assert one(db, "Osinfo", "/dev/sda2") == "win11"


# ---- SYSTEM: control set, hostname, drive letters --------------------------------------------


def test_hostname_falls_back_on_computer_name(
    program: Program, make_hive: MakeHive, phony_software: Path
) -> None:
    system = make_hive("computername", "system", {
        "Select": {"Current": 2},
        "ControlSet001\\Services\\Tcpip\\Parameters": {"Hostname": "old-name"},
        "ControlSet002\\Services\\Tcpip\\Parameters": {"Domain": "example.org"},
        "ControlSet002\\Control\\ComputerName\\ComputerName": {"ComputerName": "NETBIOS1"},
    })
    db = run(program, phony_guest(phony_software, system))
    assert one(db, "WindowsCurrentControlSet", "/dev/sda2") == "ControlSet002"
    assert one(db, "Hostname", "/dev/sda2") == "NETBIOS1"


def test_control_set_numbers_are_padded(
    program: Program, make_hive: MakeHive, phony_software: Path
) -> None:
    system = make_hive("cs12", "system", {
        "Select": {"Current": 12},
        "ControlSet012\\Services\\Tcpip\\Parameters": {"Hostname": "twelve"}})
    db = run(program, phony_guest(phony_software, system))
    assert one(db, "WindowsCurrentControlSet", "/dev/sda2") == "ControlSet012"
    assert one(db, "Hostname", "/dev/sda2") == "twelve"


GPT_C = "5C3E7E4F-1D2B-4A6C-9E8F-0123456789AB"
GPT_D = "0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0"


def test_gpt_drive_letters(program: Program, make_hive: MakeHive, phony_software: Path) -> None:
    system = make_hive("gpt", "system", {
        "Select": {"Current": 1},
        "MountedDevices": {"\\DosDevices\\C:": hives.gpt_blob(GPT_C),
                           "\\DosDevices\\D:": hives.gpt_blob(GPT_D),
                           "\\??\\Volume{5c3e7e4f-1d2b-4a6c-9e8f-0123456789ab}":
                               hives.gpt_blob(GPT_C)}})
    disk = FakeDisk("/dev/sda", "gpt", None,
                    [(1, MiB, 100 * MiB), (2, 101 * MiB, 16 * MiB), (3, 117 * MiB, 900 * MiB)],
                    {1: "11111111-2222-3333-4444-555555555555", 3: GPT_C})
    data = FakeDisk("/dev/sdb", "gpt", None, [(1, MiB, 900 * MiB)], {1: GPT_D})
    guest = FakeGuest([disk, data], {
        "/dev/sda1": FakeFs(vfs="vfat", dirs={"/EFI/Microsoft/Boot"}),
        "/dev/sda3": windows_fs(phony_software, system, cmd=AMD64),
        "/dev/sdb1": FakeFs(dirs={"/Data"}),
    })
    db = run(program, guest)
    assert db.tuples("Root") == {("/dev/sda3",)}
    assert drives(db, "/dev/sda3") == {"C": "/dev/sda3", "D": "/dev/sdb1"}


def test_mbr_drive_letters_across_two_disks(
    program: Program, make_hive: MakeHive, phony_software: Path
) -> None:
    """C: on the first disk's second partition, D: on the second disk; a CD-ROM, a volume
    GUID and a letter of a disk that is not there are ignored."""
    cdrom = "\\??\\IDE#CdRomQEMU".encode("utf-16-le")
    system = make_hive("two-disks", "system", {
        "Select": {"Current": 1},
        "MountedDevices": {
            "\\DosDevices\\C:": hives.mbr_blob(b"\x11\x22\x33\x44", 500 * MiB),
            "\\DosDevices\\D:": hives.mbr_blob(b"\xaa\xbb\xcc\xdd", MiB),
            "\\DosDevices\\E:": cdrom,
            "\\DosDevices\\F:": hives.mbr_blob(b"\x99\x99\x99\x99", MiB),
            "\\DosDevices\\G:": hives.mbr_blob(b"\xaa\xbb\xcc\xdd", 3 * MiB),
            "\\??\\Volume{01234567-89ab-cdef-0123-456789abcdef}":
                hives.mbr_blob(b"\xaa\xbb\xcc\xdd", MiB)}})
    sda = FakeDisk("/dev/sda", "msdos", b"\x11\x22\x33\x44",
                   [(1, MiB, 499 * MiB), (2, 500 * MiB, 500 * MiB)])
    sdb = FakeDisk("/dev/sdb", "msdos", b"\xaa\xbb\xcc\xdd", [(1, MiB, 900 * MiB)])
    guest = FakeGuest([sda, sdb], {
        "/dev/sda1": FakeFs(dirs={"/Boot"}),
        "/dev/sda2": windows_fs(phony_software, system),
        "/dev/sdb1": FakeFs(dirs={"/Program Files/App", "/System Volume Information"}),
    })
    db = run(program, guest)
    assert db.tuples("Root") == {("/dev/sda2",)}
    assert drives(db, "/dev/sda2") == {"C": "/dev/sda2", "D": "/dev/sdb1"}


def test_real_windows_7_system_hive(
    program: Program, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    """Select\\Current, Tcpip's hostname and C: (signature 3ea0be5c, 1 MiB) of a real hive."""
    disk = FakeDisk("/dev/sda", "msdos", bytes.fromhex("3ea0be5c"), [(1, MiB, 4096 * MiB)])
    guest = FakeGuest([disk], {"/dev/sda1": windows_fs(phony_software, real_hive("SYSTEM"))})
    db = run(program, guest)
    root = "/dev/sda1"
    assert one(db, "WindowsCurrentControlSet", root) == "ControlSet001"
    assert one(db, "Hostname", root) == "WKS-WIN732BITA"
    assert drives(db, root) == {"C": root}
    assert db.tuples("Warning") == set()


def test_real_windows_10_system_hive(
    program: Program, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    """C: and E: on one disk (signature ae4645df at 0x1f500000 and 1 MiB), F: elsewhere."""
    disk = FakeDisk("/dev/sda", "msdos", bytes.fromhex("ae4645df"),
                    [(1, MiB, 500 * MiB), (2, 0x1F500000, 20000 * MiB)])
    guest = FakeGuest([disk], {
        "/dev/sda1": FakeFs(dirs={"/Recovery"}),
        "/dev/sda2": windows_fs(phony_software, real_hive("SYSTEM_WIN_10_1709"), cmd=AMD64)})
    db = run(program, guest)
    root = "/dev/sda2"
    assert one(db, "WindowsCurrentControlSet", root) == "ControlSet001"
    assert one(db, "Hostname", root) == "DESKTOP-2KGM189"
    assert drives(db, root) == {"C": root, "E": "/dev/sda1"}


def test_corrupt_system_hive_warns_and_keeps_the_rest(
    program: Program, phony_software: Path, real_hive: Callable[[str], Path]
) -> None:
    hive = real_hive("corrupted_system_hive")
    db = run(program, phony_guest(phony_software, hive))
    root = "/dev/sda2"
    warnings = sorted(str(t[1]) for t in db.tuples("Warning") if t[0] == root)
    hive = "/Windows/System32/Config/SYSTEM: "
    assert [w for w in warnings if w.startswith(hive + "damaged hive")] == [
        hive + "damaged hive (Operation not supported); read what could be recovered"]
    # Each key that cannot be read is named (the extra fields read many more keys).
    keys = [w for w in warnings if "damaged hive" not in w]
    assert len(keys) == 13
    assert all(re.match(r"(bad value in|cannot (list|look up)) .*ControlSet001\\"
                        r".*: Bad address$", w.removeprefix(hive)) for w in keys), keys
    assert one(db, "ProductName", root) == "Microsoft Windows 7 Phony Edition"
    assert one(db, "Osinfo", root) == "win7"
    assert len(applications(db, root)) == 4
    # What hivex could still read of the damaged hive.
    assert one(db, "WindowsCurrentControlSet", root) == "ControlSet001"
    assert one(db, "Hostname", root) == "ginevra"


def test_unreadable_hive(program: Program, phony_system: Path, tmp_path: Path) -> None:
    junk = tmp_path / "SOFTWARE"
    junk.write_bytes(b"regf" + b"\xff" * 8000)
    db = run(program, phony_guest(junk, phony_system))
    root = "/dev/sda2"
    assert any(t[0] == root and "SOFTWARE" in str(t[1]) for t in db.tuples("Warning"))
    assert one(db, "ProductName", root) is None
    assert one(db, "Hostname", root) == "windows.invalid"
    assert one(db, "OsType", root) == "windows"


# ---- architecture, group policy, applications ------------------------------------------------


@pytest.mark.parametrize(("cmd", "arch"), [(AMD64, "x86_64"), (ARM64, "aarch64")])
def test_arch_from_cmd_exe(
    program: Program, phony_software: Path, phony_system: Path, cmd: bytes, arch: str
) -> None:
    db = run(program, phony_guest(phony_software, phony_system, cmd=cmd))
    assert one(db, "Arch", "/dev/sda2") == arch


def test_group_policy(program: Program, make_hive: MakeHive, phony_system: Path) -> None:
    history = "Microsoft\\Windows\\CurrentVersion\\Group Policy\\History"
    with_gpo = make_hive("gpo", "software", {
        f"{history}\\{{35378EAC-683F-11D2-A89A-00C04FBBCFA2}}\\0": {"DisplayName": "Local"}})
    without = make_hive("no-gpo", "software", {f"{history}\\Unrelated": {"x": "y"}})
    assert run(program, phony_guest(with_gpo, phony_system)).tuples("WindowsGroupPolicy") == {
        ("/dev/sda2",)}
    assert run(program, phony_guest(without, phony_system)).tuples("WindowsGroupPolicy") == set()


def test_32_bit_applications(program: Program, make_hive: MakeHive, phony_system: Path) -> None:
    wow = f"WOW6432Node\\{UNINSTALL}"
    software = make_hive("wow", "software", {
        f"{UNINSTALL}\\{{11111111-AAAA-BBBB-CCCC-000000000001}}": {
            "DisplayName": "Native Tool (x64)", "DisplayVersion": "5.1", "Publisher": "ACME",
            "InstallLocation": "C:\\Program Files\\ACME\\", "URLInfoAbout": "https://acme.test/"},
        f"{UNINSTALL}\\Shared": {"DisplayName": "Shared 64", "DisplayVersion": "64"},
        f"{UNINSTALL}\\KB123456": {"ParentKeyName": "OperatingSystem"},
        f"{wow}\\Legacy App": {"DisplayName": "Legacy App (32-bit)", "DisplayVersion": "1.0",
                               "Publisher": "Old Corp", "Comments": ""},
        f"{wow}\\Shared": {"DisplayName": "Shared 32", "DisplayVersion": "32"},
    })
    db = run(program, phony_guest(software, phony_system))
    assert applications(db, "/dev/sda2") == {
        "{11111111-AAAA-BBBB-CCCC-000000000001}": {
            "display_name": "Native Tool (x64)", "version": "5.1", "publisher": "ACME",
            "install_path": "C:\\Program Files\\ACME\\", "url": "https://acme.test/"},
        "Shared": {"display_name": "Shared 64", "version": "64"},
        "Legacy App": {"display_name": "Legacy App (32-bit)", "version": "1.0",
                       "publisher": "Old Corp"},
    }


# ---- DOS, multi-boot -------------------------------------------------------------------------


def test_dos_roots(program: Program) -> None:
    guest = FakeGuest([], {
        "/dev/sda1": FakeFs(vfs="vfat", files={"/DOS/COMMAND.COM": b"\xe9", "/CONFIG.SYS": b""}),
        "/dev/sdb1": FakeFs(vfs="vfat", files={"/fdos/freedos.bss": b"", "/KERNEL.SYS": b""}),
        "/dev/sdc1": FakeFs(vfs="vfat", files={"/DOS/COMMAND.COM": b"", "/FDOS/FREEDOS.BSS": b""}),
        "/dev/sdd1": FakeFs(vfs="vfat", files={"/DOS/README.TXT": b""}),
    })
    db = run(program, guest)
    assert db.tuples("Root") == {("/dev/sda1",), ("/dev/sdb1",), ("/dev/sdc1",)}
    assert values(db, "OsType", "/dev/sda1") == {"dos"}
    assert one(db, "OsDistro", "/dev/sda1") == "msdos"
    assert one(db, "Osinfo", "/dev/sda1") == "msdos6.22"
    assert one(db, "Arch", "/dev/sda1") == "i386"
    assert db.tuples("Mountpoint") >= {("/dev/sda1", "/", "/dev/sda1")}
    assert one(db, "OsDistro", "/dev/sdb1") == "freedos"
    assert one(db, "Osinfo", "/dev/sdb1") is None
    assert one(db, "OsDistro", "/dev/sdc1") == "freedos"


def test_windows_root_with_a_dos_directory_is_windows(
    program: Program, phony_software: Path, phony_system: Path
) -> None:
    fs = windows_fs(phony_software, phony_system)
    fs.files["/DOS/COMMAND.COM"] = b""
    db = run(program, FakeGuest([], {"/dev/sda1": fs}))
    assert values(db, "OsType", "/dev/sda1") == {"windows"}
    assert values(db, "OsDistro", "/dev/sda1") == {"windows"}


def test_multiboot_linux_and_windows(
    program: Program, make_hive: MakeHive, phony_software: Path
) -> None:
    """Windows on sda1, Linux on sda2 of one MBR disk: one Windows root, C: is sda1, and
    nothing Windows about the Linux filesystem."""
    system = make_hive("multiboot", "system", {
        "Select": {"Current": 1},
        "ControlSet001\\Services\\Tcpip\\Parameters": {"Hostname": "dual"},
        "MountedDevices": {"\\DosDevices\\C:": hives.mbr_blob(b"MBT1", 64 * 512)}})
    disk = FakeDisk("/dev/sda", "msdos", b"MBT1",
                    [(1, 64 * 512, 256 * MiB), (2, 257 * MiB, 255 * MiB)])
    linux = FakeFs(vfs="ext4", files={
        "/etc/fstab": b"UUID=01234567-0123-0123-0123-0123456789b2 / ext4 defaults 0 1\n",
        "/etc/os-release": b'ID=debian\nVERSION_ID="12"\n', "/etc/debian_version": b"12.5\n",
        "/etc/hostname": b"multiboot.invalid\n"}, dirs={"/bin", "/usr/bin", "/home"})
    guest = FakeGuest([disk], {"/dev/sda1": windows_fs(phony_software, system),
                               "/dev/sda2": linux})
    db = run(program, guest)
    assert db.tuples("Root") == {("/dev/sda1",), ("/dev/sda2",)}
    assert one(db, "OsType", "/dev/sda1") == "windows"
    assert (one(db, "OsType", "/dev/sda2"), one(db, "OsDistro", "/dev/sda2")) == (
        "linux", "debian")
    assert one(db, "Hostname", "/dev/sda2") == "multiboot.invalid"
    assert one(db, "Hostname", "/dev/sda1") == "dual"
    assert drives(db, "/dev/sda1") == {"C": "/dev/sda1"}
    assert "windows" not in values(db, "OsType", "/dev/sda2")
    assert one(db, "WindowsSystemroot", "/dev/sda2") is None
    assert not any(t[0] == "/dev/sda2" for t in guest.asked.get("WantRegistryKey", set()))
