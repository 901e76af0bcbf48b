"""--explain: derivation trees made readable, and the no-OS diagnosis (engine, no VM)."""

import pytest

from guestinspect.datalog import Database, Program
from guestinspect.errors import UsageError
from guestinspect.reporting.explain import explain_field, relevant_line, shorten

PROGRAM = """
.decl Mounted(fs: symbol)
.decl Filesystem(fs: symbol, vfs: symbol)
.decl Content(fs: symbol, path: symbol, text: symbol)
.decl Entry(fs: symbol, path: symbol, kind: symbol)
.decl Missing(fs: symbol, path: symbol)
.decl Listed(fs: symbol, path: symbol)
.decl WantPath(fs: symbol, path: symbol)
.decl WantContent(fs: symbol, path: symbol)
.decl WantDir(fs: symbol, path: symbol)
.decl WantArch(fs: symbol, path: symbol)
.decl Extra(root: symbol, field: symbol, value: symbol)
.decl LinuxRootCandidate(fs: symbol)
.decl Root(root: symbol)
.decl OsDistro(root: symbol, distro: symbol)
.decl Hostname(root: symbol, name: symbol)
WantPath(fs, "/etc/debian_version") :- Mounted(fs).
LinuxRootCandidate(fs) :- Mounted(fs), Entry(fs, "/etc/debian_version", "file").
Root(fs) :- LinuxRootCandidate(fs), Content(fs, "/etc/hostname", _).
OsDistro(fs, "debian") :- Root(fs).
Hostname(fs, h) :- Root(fs), Content(fs, "/etc/hostname", t), h = t.
"""


def database(found: bool) -> Database:
    db = Database(Program.from_text(PROGRAM, filename="rules/test.dl"))
    db.add_facts("Mounted", [("/dev/sda1",)])
    db.add_facts("Filesystem", [("/dev/sda1", "ext4")])
    if found:
        db.add_facts("Entry", [("/dev/sda1", "/etc/debian_version", "file")])
        db.add_facts("Content", [("/dev/sda1", "/etc/hostname", "debian.invalid")])
    else:
        db.add_facts("Missing", [("/dev/sda1", "/etc/debian_version")])
    db.run()
    return db


def test_tree_shows_rules_and_disk_facts() -> None:
    text = explain_field(database(True), "distro")
    lines = text.splitlines()
    assert lines[0] == "/dev/sda1: distro = debian"
    assert "rules/test.dl:19" in text  # the OsDistro rule, by file:line
    assert "by OsDistro(fs, \"debian\") :- Root(fs)." in text
    assert "file /dev/sda1:/etc/debian_version exists" in text
    assert "file /dev/sda1:/etc/hostname: debian.invalid" in text
    assert "filesystem /dev/sda1 mounted" in text


def test_unknown_field() -> None:
    with pytest.raises(UsageError, match="unknown field"):
        explain_field(database(True), "colour")


def test_field_without_value() -> None:
    assert "no value" in explain_field(database(True), "arch")


def test_no_os_diagnosis() -> None:
    text = explain_field(database(False), "distro")
    assert text.startswith("No operating system was found.")
    assert "/dev/sda1 (ext4): mounted" in text
    assert "no root-candidate fact derived (LinuxRootCandidate)" in text
    assert "/etc/debian_version: missing" in text


def test_relevant_line_and_shorten() -> None:
    text = "# comment\nNAME=Debian\nVERSION_ID=\"12\"\n"
    assert relevant_line(text, {"12", "Debian"}) == "NAME=Debian"
    assert relevant_line(text, set()) == "# comment"
    assert len(shorten("x" * 200)) == 80


def test_explain_windows_icon_names_its_source() -> None:
    """On the recorded windows-gpt guest: the icon's tree names the rule, explorer.exe's
    resource it was decoded from, and the Windows version that chose it."""
    from guestinspect.api import Inspector
    from tests.oracles import ROOT

    with Inspector.from_facts(ROOT / "facts" / "windows-gpt") as insp:
        text = insp.explain("icon")
    assert text.startswith("/dev/sda3: icon = iVBORw0KGgo")  # a PNG
    assert "rules/windows/icon.dl:" in text
    assert "resource type 2 name 6801 of /dev/sda3:/Windows/SysWOW64/explorer.exe (15880 bytes)" \
        in text
    assert "WinVersion(/dev/sda3, 6, 1)" in text
