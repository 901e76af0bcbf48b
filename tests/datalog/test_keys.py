"""``.key``: a rank (or any key) given twice with different outcomes is refused when the
program loads, naming both places; the shipped rules declare their ranked choices with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from guestinspect.datalog import DatalogError, Program
from guestinspect.inspection.driver import load_program, rules_dir

CANDIDATES = """\
.decl Mounted(fs: symbol)
.decl Marker(fs: symbol, path: symbol)
.decl Candidate(fs: symbol, rank: number, role: symbol)
.key Candidate(rank)
Candidate(fs, 1, "other") :- Marker(fs, "/grub/grub.conf").
Candidate(fs, 1, "other") :- Marker(fs, "/grub2/grub.cfg").
Candidate(fs, 2, "root") :- Marker(fs, "/etc/fstab").
.decl Role(fs: symbol, role: symbol)
Role(fs, role) :- Candidate(fs, k, role), k = min j : Candidate(fs, j, _).
"""


def errors(text: str) -> list[str]:
    with pytest.raises(DatalogError) as info:
        Program.from_text(text, filename="t.dl")
    return info.value.errors


def test_one_outcome_per_rank_loads() -> None:
    """Rank 1 twice with the same outcome is one candidate written twice, not a collision."""
    Program.from_text(CANDIDATES, filename="t.dl")


def test_two_outcomes_of_one_rank_are_refused() -> None:
    assert errors(CANDIDATES + 'Candidate(fs, 2, "usr") :- Marker(fs, "/local").\n') == [
        't.dl:10:1: .key Candidate(rank): 2 is given twice: Candidate(_, 2, "usr") here and '
        'Candidate(_, 2, "root") at t.dl:7:1']


def test_a_value_read_from_the_guest_collides_with_any_other() -> None:
    """Two sources of one rank: a value only the guest knows may differ from the other's."""
    text = CANDIDATES + 'Candidate(fs, 2, p) :- Marker(fs, p).\n'
    assert errors(text) == [
        't.dl:10:1: .key Candidate(rank): 2 is given twice: Candidate(_, 2, _) here and '
        'Candidate(_, 2, "root") at t.dl:7:1']


SOURCES = """\
.decl Root(r: symbol, os: symbol)
.decl File(os: symbol, rank: number, path: symbol)
.decl Marker(os: symbol, rank: number, path: symbol)
.decl Rule(os: symbol, rank: number, source: symbol)
.decl Default(os: symbol)
.key File(os, rank), Marker(os, rank), Rule(os, rank)
File("linux", 10, "/etc/os-release"). File("linux", 30, "/etc/redhat-release").
Marker("linux", 60, "/etc/redhat-release").
Default("freebsd"). Default("netbsd").
Rule(os, 1000, "default") :- Default(os).
Rule("linux", 1000, "coreos").
"""


def test_ranks_of_several_tables_share_one_space() -> None:
    Program.from_text(SOURCES, filename="t.dl")
    assert errors(SOURCES + 'Marker("linux", 30, "/etc/arch-release").\n') == [
        't.dl:12:1: .key File(os, rank), Marker(os, rank), Rule(os, rank): "linux", 30 is '
        'given twice: Marker("linux", 30, "/etc/arch-release") here and '
        'File("linux", 30, "/etc/redhat-release") at t.dl:7:39']


def test_a_rule_copying_keys_out_of_a_table_is_checked_fact_by_fact() -> None:
    """``Rule(os, 1000, ...) :- Default(os)`` writes one tuple per Default fact; the error
    names the fact that makes the second one."""
    assert errors(SOURCES + 'Default("linux").\n') == [
        't.dl:11:1: .key File(os, rank), Marker(os, rank), Rule(os, rank): "linux", 1000 is '
        'given twice: Rule("linux", 1000, "coreos") here and Rule("linux", 1000, "default") '
        'at t.dl:12:1']


def test_a_key_not_known_statically_is_not_checked() -> None:
    """A rank computed, or read from a derived relation, is the evaluation's business."""
    Program.from_text(SOURCES + '.decl Seen(os: symbol, rank: number)\n'
                      'Rule(os, k + 1, "computed") :- Seen(os, k).\n'
                      'Rule(os, k, "derived") :- Seen(os, k).\n', filename="t.dl")


def test_malformed_keys() -> None:
    assert errors(SOURCES + ".key Nope(rank)\n.key File(rank, zz)\n.key File(os), Rule(os, rank)\n"
                  ) == [
        "t.dl:12:6: undeclared relation 'Nope' in .key",
        "t.dl:13:6: relation 'File' has no column 'zz' (.key)",
        "t.dl:14:16: .key names 1 columns of each relation, 2 here"]
    assert errors(".decl A(x: number)\n.key A x\n") == [
        "t.dl:2:8: syntax error: expected '(', found 'x'"]


def test_the_shipped_rules_declare_their_ranks() -> None:
    """Every ranked choice of the shipped rules has a key (the rules load, so none collide)."""
    keyed = {p.relation for k in load_program().module.keys for p in k.parts}
    assert {"FsRoleCandidate", "ReleaseFile", "ReleaseMarker", "OsReleaseFile", "ReleaseRule",
            "HostnameFile", "HostnameKey", "ArchBinary", "BootloaderCandidate", "InitCandidate",
            "TimezoneCandidate", "LocaleFile", "KeyboardFileRank", "IconFile",
            "DistroPackageManager", "WinHostnameKey", "WinServerYear", "WinIfSource",
            "WinDomainValue", "WinDosCandidate", "WinSystemrootName", "WinIconBitmap"} <= keyed


def test_a_release_file_ranked_like_a_marker_is_refused(tmp_path: Path) -> None:
    """A user's distro row (docs/writing-rules.md) with a rank the shipped tables already
    use: refused when the rules load, with both places."""
    user = tmp_path / "phony.dl"
    user.write_text('ReleaseFile("linux", 60, "/etc/phony-release", "phonyos", "").\n')
    with pytest.raises(DatalogError) as info:
        load_program([user])
    marker = rules_dir() / "unix" / "distros.dl"
    line = next(n for n, text in enumerate(marker.read_text().splitlines(), 1)
                if 'ReleaseMarker("linux", 60,' in text)
    assert info.value.errors == [
        f"{user}:1:1: .key OsReleaseFile(os, rank), ReleaseRule(os, rank), ReleaseFile(os, "
        f'rank), ReleaseMarker(os, rank): "linux", 60 is given twice: ReleaseFile("linux", 60, '
        f'"/etc/phony-release", "phonyos", "") here and ReleaseMarker("linux", 60, '
        f'"/etc/redhat-release", "redhat-based") at {marker}:{line}:1']
