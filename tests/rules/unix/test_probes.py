"""Every marker file that rules/unix/roles.dl tests is probed by rules/unix/files.dl.

roles.dl classifies a filesystem by the markers on it (``FsFile(fs, "/etc/fstab")``,
``FsDir(fs, "/bin")``); the collector only stats what ``files.dl`` asks for (``UnixProbe``,
``UnixRead``). A marker nobody asks for is never seen, and its candidate silently never
fires. Checked on the program the engine loads (its parser and IR), not on the text."""

from __future__ import annotations

import shutil
from pathlib import Path

from guestinspect.datalog import Program
from guestinspect.datalog.ir import AggregateLit, AtomLit, NormRule
from guestinspect.datalog.syntax import Const
from guestinspect.functors import FUNCTORS, RELATIONS
from guestinspect.inspection.driver import load_program, rules_dir

#: The relations through which roles.dl looks at a path of the filesystem (column 1).
MARKER_RELATIONS = ("FsFile", "FsDir", "Symlink", "Entry")
#: What files.dl asks about every mounted filesystem: stat (UnixProbe), read (UnixRead).
PROBE_RELATIONS = ("UnixProbe", "UnixRead")


def _in(rule: NormRule, name: str) -> bool:
    return Path(rule.source.loc.file).parts[-2:] == ("unix", name)


def _atoms(rule: NormRule) -> list[AtomLit]:
    """The body's atoms, negated ones and those inside aggregates included."""
    out: list[AtomLit] = []
    stack = list(rule.body)
    while stack:
        lit = stack.pop()
        if isinstance(lit, AtomLit):
            out.append(lit)
        elif isinstance(lit, AggregateLit):
            stack.extend(lit.body)
    return out


def unprobed(program: Program) -> list[str]:
    """``file:line:col: marker '<path>' is not probed by files.dl`` for each use of a
    constant path in roles.dl that no UnixProbe or UnixRead fact of files.dl asks for."""
    probed = {r.head_args[0].value for r in program.rules
              if r.head in PROBE_RELATIONS and _in(r, "files.dl") and not r.body
              and isinstance(r.head_args[0], Const)}
    out: list[str] = []
    for rule in program.rules:
        if not _in(rule, "roles.dl"):
            continue
        for atom in _atoms(rule):
            if atom.relation in MARKER_RELATIONS and isinstance(atom.args[1], Const) and \
                    atom.args[1].value not in probed:
                out.append(f"{atom.loc}: marker '{atom.args[1].value}' is not probed by "
                           "files.dl")
    return sorted(set(out))


def test_every_marker_of_roles_dl_is_probed() -> None:
    program = load_program()
    markers = {a.args[1].value for r in program.rules if _in(r, "roles.dl")
               for a in _atoms(r) if a.relation in MARKER_RELATIONS
               and isinstance(a.args[1], Const)}
    assert len(markers) >= 25  # the check sees roles.dl's markers (not an empty set)
    assert unprobed(program) == []


def test_a_marker_left_out_of_files_dl_is_found(tmp_path: Path) -> None:
    """A copy of the rules whose files.dl forgot CoreOS's /share/coreos: the check names
    the place in roles.dl that tests it."""
    copy = tmp_path / "rules"
    shutil.copytree(rules_dir(), copy)
    files = copy / "unix" / "files.dl"
    text = files.read_text()
    assert text.count('UnixProbe("/share/coreos").') == 1
    files.write_text(text.replace('UnixProbe("/share/coreos").', ""))
    program = Program.from_files([copy / "inspect.dl"], functors=FUNCTORS, relations=RELATIONS)
    roles = copy / "unix" / "roles.dl"
    line, col = next((n, t.index('FsDir(fs, "/share/coreos")') + 1)
                     for n, t in enumerate(roles.read_text().splitlines(), 1)
                     if 'FsDir(fs, "/share/coreos")' in t)
    assert unprobed(program) == [
        f"{roles}:{line}:{col}: marker '/share/coreos' is not probed by files.dl"]
