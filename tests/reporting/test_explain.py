"""--explain: the short, evidence-first form, the trees, "why not", and the no-OS diagnosis
(the engine and recorded snapshots, no VM). The texts are compared whole."""

import functools
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.api import Inspector
from guestinspect.cli import cli
from guestinspect.datalog import Database, Program
from guestinspect.errors import UsageError
from guestinspect.reporting.explain import explain_field, relevant_line, shorten
from guestinspect.reporting.fact_text import FACT_TEXT
from tests.oracles import ROOT

FACTS = ROOT / "facts"

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


def test_short_form_of_a_small_program() -> None:
    assert explain_field(database(True), "distro") == """\
/dev/sda1: distro = debian
  rule: rules/test.dl:20  OsDistro(fs, "debian") :- Root(fs).
  facts:
    file /dev/sda1:/etc/hostname line 1: debian.invalid
    file /dev/sda1:/etc/debian_version exists
"""


def test_tree_shows_rules_and_disk_facts() -> None:
    text = explain_field(database(True), "distro", full=True)
    lines = text.splitlines()
    assert lines[0] == "/dev/sda1: distro = debian"
    assert "rules/test.dl:19" in text  # the Root rule, by file:line
    assert "by OsDistro(fs, \"debian\") :- Root(fs)." in text
    assert "file /dev/sda1:/etc/debian_version exists" in text
    assert "file /dev/sda1:/etc/hostname: debian.invalid" in text
    assert "filesystem /dev/sda1 mounted" in text


def test_unknown_field() -> None:
    with pytest.raises(UsageError, match="unknown field"):
        explain_field(database(True), "colour")


def test_field_that_no_rule_derives() -> None:
    assert explain_field(database(True), "arch") == """\
/dev/sda1: arch: no value
  no rule derives Arch
"""


def test_depth_cuts_the_tree() -> None:
    assert explain_field(database(True), "distro", depth=1) == """\
/dev/sda1: distro = debian
OsDistro(/dev/sda1, debian)  [rules/test.dl:20]
    by OsDistro(fs, "debian") :- Root(fs).
  …
"""
    with pytest.raises(UsageError, match="at least 1"):
        explain_field(database(True), "distro", depth=0)


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
    assert "CurrentVersion\\currentversion = 6.1 (sz), read as version 6.1" in text


# ---- recorded snapshots: the whole text --------------------------------------------------


@functools.cache
def snapshot(guest: str) -> Inspector:
    """One evaluation of a recorded snapshot for all the tests (no appliance to close)."""
    return Inspector.from_facts(FACTS / guest)


def explain(guest: str, field: str, **kwargs: object) -> str:
    return snapshot(guest).explain(field, **kwargs)  # type: ignore[arg-type]


def expected(name: str) -> str:
    return (ROOT / "tests" / "expected" / "explain" / f"{name}.txt").read_text()


def test_drive_mappings_on_the_multiboot_guest() -> None:
    """C: is /dev/sda1 because MountedDevices \\DosDevices\\C: holds an MBR signature and an
    offset, and /dev/sda1 is the partition at that offset of the disk with that signature;
    the Linux root has no drive letter: its closest rule found no Windows directory."""
    text = explain("multiboot", "drive_mappings")
    assert text == expected("multiboot-drive_mappings")
    assert "read as MBR signature 4d425431, offset 32768" in text
    assert "partition /dev/sda1 is number 1 of /dev/sda, at offset 32768" in text
    assert "disk /dev/sda has MBR signature 4d425431" in text


def test_drive_mappings_on_the_windows_guest() -> None:
    assert explain("windows", "drive_mappings") == expected("windows-drive_mappings")


def test_hostname_from_the_registry_and_from_a_file() -> None:
    assert explain("multiboot", "hostname") == expected("multiboot-hostname")


def test_distro_and_product_name_from_a_release_file() -> None:
    assert explain("debian", "distro") == expected("debian-distro")
    assert explain("fedora", "product_name") == expected("fedora-product_name")


def test_why_not_follows_down_to_the_missing_file() -> None:
    assert explain("fedora", "icon") == expected("fedora-icon")


def test_depth_folds_plumbing_and_full_keeps_every_step() -> None:
    assert explain("debian", "distro", depth=3) == expected("debian-distro-depth3")
    short = explain("multiboot", "drive_mappings")
    deep = explain("multiboot", "drive_mappings", depth=50)
    full = explain("multiboot", "drive_mappings", full=True)
    for helper in ("WinPaths.Want", "PathSplit", "WinPaths.Path", "WinChild"):
        step = re.compile(rf"^ *{re.escape(helper)}\(", re.M)
        assert not step.search(deep) and step.search(full)
    assert "WinSystemrootAt(/dev/sda1, /windows, 1)  [rules/windows/systemroot.dl:31]" in deep
    assert "      WinRootOf(/dev/sda1, /windows)  [rules/windows/systemroot.dl:40]" in full
    # the tree, every step, as before: a step per line, facts as what they are on the disk
    # a step of a component's instance: at the rule inside the component
    assert "            WinPaths.Want(/dev/sda1, /windows/system32)  [rules/windows/paths.dl:32]" \
        in full
    assert "    by Want(fs, lparent) :- Want(fs, lpath), PathSplit(lpath, lparent, _).\n" in full
    assert "              dir /dev/sda1:/Windows/System32 exists" in full
    assert len(short.splitlines()) < 20 < 80 < len(full.splitlines())


def test_guest_text_is_made_safe_for_a_terminal() -> None:
    """A file's line with an escape sequence, a bidirectional override and a carriage
    return is shown escaped, and cut."""
    db = database(True)
    evil = "\x1b]0;owned\x07\u202eeno\r" + "x" * 300
    db.add_facts("Mounted", [("/dev/sdb1",)])
    db.add_facts("Entry", [("/dev/sdb1", "/etc/debian_version", "file")])
    db.add_facts("Content", [("/dev/sdb1", "/etc/hostname", evil)])
    db.run()
    text = explain_field(db, "hostname")
    assert text.isprintable() is False  # newlines only
    assert all(line.isprintable() for line in text.splitlines())
    line = next(line for line in text.splitlines() if "/dev/sdb1: hostname" in line)
    assert line.startswith("/dev/sdb1: hostname = \\x1b]0;owned\\x07\\u202eeno\\rxxx")
    assert line.endswith("x…") and len(line) == len("/dev/sdb1: hostname = ") + 80
    assert shorten("a\x00b\x9bc\U000e0001") == "a\\x00b\\x9bc\\U000e0001"


def test_every_base_relation_has_a_description() -> None:
    """The table beside the fact schema covers every .input relation of rules/facts.dl, with
    the schema's column names."""
    program = Program.from_files([ROOT / "rules" / "facts.dl"])
    inputs = set(program.input_relations())
    assert set(FACT_TEXT) == inputs

    for name, spec in FACT_TEXT.items():
        columns = {c for c, _ in program.declarations[name]}
        used = set(re.findall(r"\{([a-z_]+)(?::bytes)?\}", spec.template))
        assert used <= columns, name
        assert spec.subject is None or set(filter(None, spec.subject)) <= columns, name


def test_cli_explain_options() -> None:
    runner = CliRunner()
    snap = str(FACTS / "debian")
    result = runner.invoke(cli, ["--facts", snap, "--explain", "distro", "--explain-depth", "3"])
    assert result.exit_code == 0 and result.stdout == explain("debian", "distro", depth=3)
    result = runner.invoke(cli, ["--facts", snap, "--explain", "distro", "--explain-full"])
    assert result.exit_code == 0 and result.stdout == explain("debian", "distro", full=True)
    for args, message in (
        (["--explain-full"], "--explain-depth and --explain-full need --explain FIELD"),
        (["--explain", "distro", "--explain-full", "--explain-depth", "2"],
         "--explain-depth and --explain-full cannot be used together"),
    ):
        result = runner.invoke(cli, ["--facts", snap, *args])
        assert result.exit_code == 1
        assert result.stderr == f"guestinspect: error: {message}\n"
    result = runner.invoke(cli, ["--facts", snap, "--explain", "distro", "--explain-depth", "0"])
    assert result.exit_code == 2


@pytest.mark.parametrize("doc", ["README.md", "docs/cli.md"])
def test_the_docs_examples_are_what_it_prints(doc: str) -> None:
    text = (ROOT / doc).read_text()
    example = r"^\$ guestinspect --facts facts/(\S+) --explain (\S+)\n(.*?)(?=^\$|^```)"
    examples = re.findall(example, text, re.M | re.S)
    assert examples
    for guest, field, shown in examples:
        assert shown == explain(guest, field), (doc, guest, field)


def test_rules_check_rejects_a_plumbing_mark_on_an_undeclared_relation(tmp_path: Path) -> None:
    rules = tmp_path / "mine.dl"
    rules.write_text(".decl A(x: number)\n.plumbing A, Nope\n")
    result = CliRunner().invoke(cli, ["rules", "check", str(rules)])
    assert result.exit_code == 1
    assert f"{rules}:2:14: undeclared relation 'Nope' in .plumbing" in result.output
