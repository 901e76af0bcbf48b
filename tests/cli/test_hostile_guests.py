"""Hostile guests (issue 10, classes 1-7) inspected end to end through the CLI.

Each guest of tests/images/hostile.py is a complete guest with one damaged part. The real
``guestinspect -a IMAGE`` runs on it once a session (``--facts-out`` keeps its facts, from
which ``--json`` is made without a second appliance launch): it must exit 0 with XML that
lxml, xmllint and the schema accept, JSON that parses, a warning naming the damaged part,
and every other field of the guest as the guest was built. (The run is the ``inspected``
fixture of tests/cli/conftest.py, which test_direct_backend.py shares.)
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from guestinspect.collectors import packages, resources
from tests.cli.hostile_runs import GUESTINSPECT, Run
from tests.images import hostile
from tests.images.guests import WINDOWS_GPT_EXPLORER
from tests.oracles import ORACLES, SCHEMA


def _schema() -> etree.RelaxNG:
    return etree.RelaxNG(etree.parse(str(SCHEMA)))


# ---- every hostile guest: exit 0, well-formed and valid output, no traceback -------------------


@pytest.mark.appliance
@pytest.mark.parametrize("name", [g.name for g in hostile.HOSTILE])
def test_exit_0_and_valid_xml_and_json(name: str, inspected: Callable[[str], Run]) -> None:
    run = inspected(name)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    doc = etree.fromstring(run.xml.encode())  # lxml: well-formed XML 1.0
    schema = _schema()
    assert schema.validate(doc), schema.error_log
    if shutil.which("xmllint"):
        lint = subprocess.run(["xmllint", "--noout", "-"], input=run.xml.encode(),
                              capture_output=True, check=False)
        assert lint.returncode == 0, lint.stderr.decode(errors="replace")[:2000]
    assert len(doc.findall("operatingsystem")) == 1
    assert [o["root"] for o in _json(run)] == [run.os()["root"]]


def _json(run: Run) -> list[dict[str, Any]]:
    """``guestinspect --facts DIR --json`` on the run's facts, parsed strictly (no raw control
    characters in strings)."""
    as_json = subprocess.run([str(GUESTINSPECT), "--facts", str(run.facts), "--json"],
                             capture_output=True, text=True, timeout=300, check=False)
    assert as_json.returncode == 0, as_json.stderr[-2000:]
    oses: list[dict[str, Any]] = json.loads(as_json.stdout)
    return oses


# ---- class 1: a hive hivex refuses -----------------------------------------------------------

WINDOWS_MOUNTPOINTS = [("/dev/sda1", "/")]


def _windows_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """What the SYSTEM hive and the filesystem give a Windows guest."""
    keys = ("root", "name", "arch", "distro", "windows_systemroot",
            "windows_current_control_set", "hostname", "mountpoints", "drive_mappings")
    return {k: fields.get(k) for k in keys}


WINDOWS_FROM_SYSTEM_HIVE = {
    "root": "/dev/sda1",
    "name": "windows",
    "arch": "i386",
    "distro": "windows",
    "windows_systemroot": "/Windows",
    "windows_current_control_set": "ControlSet001",
    "hostname": "windows.invalid",
    "mountpoints": WINDOWS_MOUNTPOINTS,
    "drive_mappings": [("C", "/dev/sda1")],
}


@pytest.mark.appliance
def test_damaged_software_hive_costs_that_hive(inspected: Callable[[str], Run]) -> None:
    run = inspected("hostile-hive")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert _windows_fields(fields) == WINDOWS_FROM_SYSTEM_HIVE
    # What only the SOFTWARE hive says is gone, and a warning names that hive.
    assert fields.get("product_name") is None
    assert fields["applications"] == []
    assert any("SOFTWARE" in w and "SYSTEM" not in w for w in run.warnings), run.stderr


@pytest.mark.appliance
def test_hive_that_kills_hivex_costs_that_hive(inspected: Callable[[str], Run]) -> None:
    """hivex dies of SIGSEGV on this SYSTEM hive (tests/collectors/test_registry.py shows it
    in a process of its own): the inspection goes on with what SOFTWARE and the files say."""
    run = inspected("hostile-hive-crash")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "distro", "product_name",
                                       "product_variant", "major_version", "minor_version",
                                       "windows_systemroot", "osinfo", "mountpoints")} == {
        "root": "/dev/sda1", "name": "windows", "arch": "i386", "distro": "windows",
        "product_name": "Microsoft Windows 7 Phony Edition", "product_variant": "Client",
        "major_version": "6", "minor_version": "1", "windows_systemroot": "/Windows",
        "osinfo": "win7", "mountpoints": WINDOWS_MOUNTPOINTS,
    }
    assert fields["applications"] == ["test1", "test2", "test3", "test4"]
    # what only SYSTEM says is gone, and the warning names that hive and the crash
    assert fields.get("hostname") is None and fields["drive_mappings"] == []
    assert run.warnings == ["/dev/sda1: /Windows/System32/Config/SYSTEM: the hive reader "
                            "crashed (SIGSEGV); nothing read from this hive"]


# ---- class 2: a damaged rpmdb.sqlite ---------------------------------------------------------


def _oracle_applications(guest: str) -> list[str]:
    doc = etree.parse(str(ORACLES / f"expected-{guest}.img.xml"))
    return sorted(a.findtext("name") or "" for a in doc.iter("application"))


@pytest.mark.appliance
def test_damaged_rpm_rows_cost_those_rows(inspected: Callable[[str], Run]) -> None:
    run = inspected("hostile-rpmdb")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "distro", "product_name",
                                       "major_version", "minor_version", "hostname",
                                       "package_format", "mountpoints")} == {
        "root": "/dev/sda2",
        "name": "linux",
        "arch": "x86_64",
        "distro": "fedora",
        "product_name": "Fedora release 14 (Phony)",
        "major_version": "14",
        "minor_version": "0",
        "hostname": "fedora.invalid",
        "package_format": "rpm",
        "mountpoints": [("/dev/sda1", "/boot"), ("/dev/sda2", "/")],
    }
    # Every good header is still read (Fedora's 172 packages), the damaged rows are not.
    assert fields["applications"] == _oracle_applications("fedora")
    assert any("rpm" in w and "/var/lib/rpm" in w for w in run.warnings), run.stderr


# ---- class 3: a truncated explorer.exe -------------------------------------------------------


def _png_size(b64: str) -> tuple[int, int]:
    png = base64.b64decode(b64)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.appliance
def test_truncated_explorer_costs_that_file(inspected: Callable[[str], Run]) -> None:
    run = inspected("hostile-pe")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert _windows_fields(fields) == WINDOWS_FROM_SYSTEM_HIVE
    assert fields["product_name"] == "Microsoft Windows 7 Phony Edition"
    assert (fields["major_version"], fields["minor_version"]) == ("6", "1")
    # The icon comes from the good /Windows/explorer.exe: bitmap 6801 (48x110), 55 rows.
    assert fields["icon"] is not None
    assert _png_size(fields["icon"]) == (48, 55)
    assert any("explorer.exe" in w.lower() and "syswow64" in w.lower() for w in run.warnings), (
        run.stderr)


# ---- class 4: a version of 5,000 digits ------------------------------------------------------


@pytest.mark.appliance
def test_huge_version_id_costs_that_value(inspected: Callable[[str], Run]) -> None:
    run = inspected("hostile-osrelease")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "distro", "hostname",
                                       "package_format", "package_management", "mountpoints",
                                       "applications")} == {
        "root": "/dev/sda1",
        "name": "linux",
        "arch": "x86_64",
        "distro": "alpinelinux",
        "hostname": "osrelease.invalid",
        "package_format": "apk",
        "package_management": "apk",
        "mountpoints": [("/dev/sda1", "/")],
        "applications": ["busybox", "musl"],
    }
    # alpine-release still gives the version
    assert (fields.get("major_version"), fields.get("minor_version")) == ("3", "19")
    assert any(hostile.HUGE_VERSION_ID[:20] in w for w in run.warnings), run.stderr[-3000:]


# ---- class 5: a release line that makes backtracking regexes explode -------------------------


@pytest.mark.appliance
def test_backtracking_release_line_is_quick(inspected: Callable[[str], Run]) -> None:
    """The run takes no more than a minute longer than inspecting hostile-hostname, a guest
    of the same layout (a backtracking engine takes hours over this line)."""
    baseline = inspected("hostile-hostname").seconds
    run = inspected("hostile-regex")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.seconds < baseline + 60, (run.seconds, baseline)
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "hostname", "package_format",
                                       "mountpoints")} == {
        "root": "/dev/sda1",
        "name": "linux",
        "arch": "x86_64",
        "hostname": "regex.invalid",
        "package_format": "rpm",
        "mountpoints": [("/dev/sda1", "/")],
    }
    assert fields["distro"] in ("centos", "redhat-based")
    assert fields["applications"] == _oracle_applications("fedora")


# ---- class 6: control characters in the hostname ---------------------------------------------


@pytest.mark.appliance
def test_control_characters_in_hostname(inspected: Callable[[str], Run]) -> None:
    run = inspected("hostile-hostname")
    assert run.returncode == 0, run.stderr[-2000:]
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "distro", "product_name",
                                       "major_version", "minor_version", "package_format",
                                       "mountpoints", "applications")} == {
        "root": "/dev/sda1",
        "name": "linux",
        "arch": "x86_64",
        "distro": "debian",
        "product_name": "12.5",  # debian_version says more than os-release
        "major_version": "12",
        "minor_version": "5",
        "package_format": "deb",
        "mountpoints": [("/dev/sda1", "/")],
        "applications": ["test1", "test2", "test3"],
    }
    # The hostname is still there, its control characters made valid XML somehow.
    hostname = fields["hostname"]
    assert hostname is not None
    assert hostname.startswith("bad") and hostname.endswith("name.invalid"), hostname
    assert "host" in hostname and "\x01" not in hostname and "\x0b" not in hostname
    # JSON can carry the name as it is (escaped), or as the XML has it.
    (as_json,) = _json(run)
    assert as_json["hostname"] in (hostile.HOSTILE_HOSTNAME.decode().strip(), hostname)


# ---- class 7: a huge, partly damaged dpkg status ---------------------------------------------


@pytest.mark.appliance
def test_huge_dpkg_status_is_linear(inspected: Callable[[str], Run]) -> None:
    """A minute and a half longer than hostile-hostname at most (a quadratic parser takes
    minutes a record); every good record is listed."""
    baseline = inspected("hostile-hostname").seconds
    run = inspected("hostile-dpkg")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.seconds < baseline + 90, (run.seconds, baseline)
    fields = run.os()
    assert {k: fields.get(k) for k in ("root", "name", "arch", "distro", "major_version",
                                       "minor_version", "hostname", "package_format",
                                       "mountpoints")} == {
        "root": "/dev/sda1",
        "name": "linux",
        "arch": "x86_64",
        "distro": "debian",
        "major_version": "12",
        "minor_version": "5",
        "hostname": "dpkg.invalid",
        "package_format": "deb",
        "mountpoints": [("/dev/sda1", "/")],
    }
    good = sorted(["test1", "test2", "test3", *hostile.HUGE_PACKAGES])
    names = fields["applications"]
    assert [n for n in names if "broken" not in n] == good


# ---- the damaged parts are what they claim to be (no appliance) ------------------------------


def test_software_hive_is_refused_by_hivex(tmp_path: Path) -> None:
    hivex = pytest.importorskip("hivex")
    hive = hostile.damaged_software_hive(tmp_path)
    with pytest.raises(RuntimeError):
        hivex.libhivexmod.open(str(hive), 0)
    hivex.libhivexmod.open(str(hive), 8)  # the unsafe mode opens it


def test_damaged_rpmdb_has_its_good_and_bad_rows(tmp_path: Path) -> None:
    import sqlite3

    con = sqlite3.connect(str(hostile.damaged_rpmdb(tmp_path)))
    try:
        rows = dict(con.execute("SELECT hnum, typeof(blob) FROM Packages").fetchall())
    finally:
        con.close()
    bad = {hnum: rows.pop(hnum) for hnum in hostile.BAD_RPM_ROWS}
    assert bad == {100001: "null", 100002: "integer", 100003: "integer", 100004: "real",
                   100005: "text", 100006: "blob", 100007: "blob", 100008: "blob"}
    assert len(rows) == len(_oracle_applications("fedora")) and set(rows.values()) == {"blob"}


def test_truncated_explorer_is_a_damaged_pe_file() -> None:
    def reader(data: bytes) -> Callable[[int, int], bytes]:
        return lambda offset, size: data[offset : offset + size]

    good = resources.pe_resource(reader(WINDOWS_GPT_EXPLORER), 2, 6801)
    assert good is not None and good[:4] == struct.pack("<I", 40)  # a BITMAPINFOHEADER
    with pytest.raises(resources.PeError):
        resources.pe_resource(reader(hostile.TRUNCATED_EXPLORER), 2, 6801)


def test_huge_version_id_is_beyond_python_ints() -> None:
    minor = hostile.HUGE_VERSION_ID.split(".")[1]
    assert len(minor) == 5000
    with pytest.raises(ValueError):
        int(minor)


def test_backtracking_line_is_64_kib_without_update() -> None:
    assert len(hostile.BACKTRACKING_LINE) == 64 * 1024
    assert "\n" not in hostile.BACKTRACKING_LINE and "Update" not in hostile.BACKTRACKING_LINE
    assert hostile.BACKTRACKING_LINE.count("CentOS release 1 ") > 3800


def test_dpkg_status_is_big_and_damaged(tmp_path: Path) -> None:
    data = hostile.hostile_dpkg_status(tmp_path).read_bytes()
    assert len(data) > 9_000_000
    assert data.count(hostile.DAMAGED_DPKG) == 1 + len(hostile.HUGE_PACKAGES)
    records = {r.get("package"): r for r in packages.parse_dpkg_status(data)}
    for name in hostile.HUGE_PACKAGES:
        description = records[name]["description"]
        assert description.count("\n") == hostile.HUGE_CONTINUATION_LINES
