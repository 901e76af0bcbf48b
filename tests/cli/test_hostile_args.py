"""Hostile command lines (issue 10, class 9): one line saying what is wrong, within seconds.

Each case runs ``python -m guestinspect.cli`` as a subprocess with a timeout: a FIFO where a
file is expected must not block, ``/dev/zero`` must not be read forever, an impossible output
directory must be refused before any work, and no case may print a traceback.
"""

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "facts" / "debian"
#: Seconds a case may take (an interpreter start and the rules' loading included).
TIMEOUT = 20

PROGRAM = ".decl A(x: number)\n.input A\n.decl B(x: number)\n.output B\nB(x) :- A(x).\n"


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    #: exit status expected (None: any but 0)
    status: int | None
    #: a regular expression the one line of stderr must match
    message: str
    stdin: str = ""
    #: a regular expression stdout must match (for the cases with a correct result)
    stdout: str = ""
    #: block the import of lxml in the child
    no_lxml: bool = False


ERR = r"^guestinspect: error: "

CASES = [
    # a FIFO where a rule program or a rule file is expected: refused, not read
    Case("datalog-fifo-program", ("datalog", "{fifo}", "-F", "{facts}", "-D", "-"), 1,
         r"fifo\.dl:1:1: cannot read file: not a regular file"),
    Case("datalog-directory-program", ("datalog", "{rulesdir}", "-F", "{facts}", "-D", "-"), 1,
         r"rulesdir:1:1: cannot read file: directory, not a file"),
    Case("datalog-symlink-loop", ("datalog", "{loop}", "-F", "{facts}", "-D", "-"), 1,
         r"loop1:1:1: cannot read file: Too many levels of symbolic links"),
    Case("rules-dir-with-fifo", ("--facts", "{snapshot}", "--rules", "{rulesdir}"), 1,
         ERR + r".*x\.dl:1:1: cannot read file: not a regular file"),
    Case("rules-symlink-loop", ("--facts", "{snapshot}", "--rules", "{loop}"), 1,
         ERR + r"--rules .*loop1: Too many levels of symbolic links$"),
    # key files: a FIFO would block, /dev/zero would never end
    Case("key-file-fifo", ("--key", "all:file:{fifo}", "-a", "{regular}"), 1,
         ERR + r"--key all:file: cannot read .*fifo\.dl: not a regular file$"),
    Case("key-file-dev-zero", ("--key", "all:file:/dev/zero", "-a", "{regular}"), 1,
         ERR + r"--key all:file: cannot read /dev/zero: not a regular file$"),
    Case("key-file-directory", ("--key", "all:file:{rulesdir}", "-a", "{regular}"), 1,
         ERR + r"--key all:file: cannot read .*rulesdir: directory, not a file$"),
    Case("keys-from-stdin-endless", ("--keys-from-stdin", "-a", "{regular}"), 1,
         ERR + r"--keys-from-stdin: more than \d+ characters on standard input$",
         stdin="x" * (3 << 20)),
    # disks that are not disks
    Case("disk-fifo", ("-a", "{fifo}"), 1,
         ERR + r".*fifo\.dl: not a regular file or a block device, not a disk image$"),
    Case("disk-dev-zero", ("-a", "/dev/zero"), 1,
         ERR + r"/dev/zero: not a regular file or a block device, not a disk image$"),
    Case("disk-symlink-loop", ("-a", "{loop}"), 1,
         ERR + r".*loop1: too many levels of symbolic links$"),
    # fact files and output directories
    Case("datalog-unreadable-facts", ("datalog", "{program}", "-F", "{memfacts}", "-D", "-"),
         1, r"^(guestinspect: error: |.*A\.facts:1:1: cannot read the fact file: )"
         r"Input/output error$"),
    Case("snapshot-unreadable-facts", ("--facts", "{memsnapshot}"), 1,
         ERR + r".*Input/output error"),
    Case("datalog-output-regular-file", ("datalog", "{program}", "-F", "{facts}", "-D",
                                         "{regular}"), 2,
         ERR + r"Invalid value for -D: .*regular: exists and is not a directory$"),
    Case("datalog-output-unwritable", ("datalog", "{program}", "-F", "{facts}", "-D",
                                       "/proc/guestinspect-test/out"), 2,
         ERR + r"Invalid value for -D: /proc/guestinspect-test/out: cannot create the "
         r"directory: "),
    Case("datalog-output-under-a-file", ("datalog", "{program}", "-F", "{facts}", "-D",
                                         "/dev/null/out"), 2,
         ERR + r"Invalid value for -D: /dev/null/out: cannot create the directory: "
         r"Not a directory$"),
    Case("facts-out-impossible", ("--facts", "{snapshot}", "--facts-out", "/dev/null/out"), 1,
         ERR + r"--facts-out /dev/null/out: cannot create the directory: Not a directory$"),
    Case("facts-command-output-impossible", ("facts", "-a", "{regular}", "-o", "/dev/null/out"),
         2, ERR + r"Invalid value for -o: /dev/null/out: cannot create the directory: "
         r"Not a directory$"),
    Case("facts-out-regular-file", ("--facts", "{snapshot}", "--facts-out", "{regular}"), 2,
         ERR + r"Invalid value for '--facts-out': Directory '.*regular' is a file\.$"),
    # --explain: a broken tuple, a broken field
    Case("datalog-explain-unclosed", ("datalog", "{program}", "-F", "{facts}", "-D", "-",
                                      "--explain", "B("), 2,
         ERR + r"Invalid value: expected a value at 'end of file' in 'B\('$"),
    Case("datalog-explain-bad-number", ("datalog", "{program}", "-F", "{facts}", "-D", "-",
                                        "--explain", "B(x)"), 2,
         ERR + r"Invalid value: 'x' is not a number in 'B\(x\)'$"),
    Case("datalog-explain-trailing", ("datalog", "{program}", "-F", "{facts}", "-D", "-",
                                      "--explain", "B(1))"), 2,
         ERR + r"Invalid value: unexpected '\)' after '\)' in 'B\(1\)\)'$"),
    Case("datalog-explain-derived", ("datalog", "{program}", "-F", "{facts}", "-D", "-",
                                     "--explain", "B(2)"), 0, r"^$",
         stdout=r"B\(2\)"),
    Case("inspect-explain-unclosed", ("--facts", "{snapshot}", "--explain", "B("), 1,
         ERR + r"--explain B\(: unknown field"),
    # --xpath: lxml missing, then present
    Case("xpath-without-lxml", ("--xpath", "/a"), 1,
         ERR + r"--xpath needs the lxml module, which is not installed", stdin="<a/>",
         no_lxml=True),
    Case("xpath-without-lxml-before-inspecting", ("--xpath", "/a", "-a", "{regular}"), 1,
         ERR + r"--xpath needs the lxml module, which is not installed", no_lxml=True),
    Case("xpath-with-lxml", ("--xpath", "string(/a/b)"), 0, r"^$", stdin="<a><b>x</b></a>",
         stdout=r"^x\n$"),
    Case("xpath-bad-expression", ("--xpath", "/a[", ), 1, ERR + r"--xpath '/a\[': ",
         stdin="<a/>"),
    # rules check on what is not a rule file
    Case("rules-check-directory", ("rules", "check", "--alone", "{okdir}"), 0, r"^$",
         stdout=r"^1 file\(s\) checked: no errors$"),
    Case("rules-check-directory-with-fifo", ("rules", "check", "{rulesdir}"), 1,
         r"x\.dl:1:1: cannot read file: not a regular file$"),
    Case("rules-check-fifo", ("rules", "check", "{fifo}"), 1,
         r"fifo\.dl:1:1: cannot read file: not a regular file$"),
    Case("rules-check-symlink-loop", ("rules", "check", "{loop}"), 1,
         ERR + r".*loop1: Too many levels of symbolic links$"),
    Case("rules-check-missing", ("rules", "check", "{tmp}/nope.dl"), 1,
         ERR + r".*nope\.dl: No such file or directory$"),
    Case("rules-check-empty-directory", ("rules", "check", "{emptydir}"), 1,
         ERR + r".*emptydir: no \.dl files to check$"),
    # guestinspect mount / umount: refused before any launch
    Case("mount-on-a-fifo", ("mount", "-a", "{regular}", "{fifo}"), 1,
         ERR + r".*fifo\.dl: not a directory$"),
    Case("mount-on-a-symlink-loop", ("mount", "-a", "{regular}", "{loop}"), 1,
         ERR + r".*loop1: Too many levels of symbolic links$"),
    Case("mount-pid-file-fifo", ("mount", "-a", "{regular}", "--pid-file", "{fifo}",
                                 "{emptydir}"), 1,
         ERR + r"--pid-file .*fifo\.dl: not a regular file$"),
    Case("mount-pid-file-impossible", ("mount", "-a", "{regular}", "--pid-file",
                                       "/dev/null/pid", "{emptydir}"), 1,
         ERR + r"--pid-file /dev/null/pid: Not a directory$"),
    Case("mount-option-newline", ("mount", "-a", "{regular}", "-o", "a\nb", "{emptydir}"), 1,
         ERR + r"-o a\\nb: control characters in an option$"),
    Case("umount-fifo", ("umount", "{fifo}"), 3, ERR + r".*fifo\.dl: not mounted$"),
    Case("umount-proc", ("umount", "/proc"), 1, ERR + r"/proc: not a FUSE mount \(proc\)"),
    # the deadline option
    Case("timeout-negative", ("--timeout", "-1", "-a", "{regular}"), 2,
         ERR + r"Invalid value for '--timeout'"),
]


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("hostile")
    os.mkfifo(tmp / "fifo.dl")
    (tmp / "rulesdir").mkdir()
    os.mkfifo(tmp / "rulesdir" / "x.dl")
    (tmp / "okdir").mkdir()
    (tmp / "okdir" / "prog.dl").write_text(PROGRAM)
    (tmp / "emptydir").mkdir()
    (tmp / "program.dl").write_text(PROGRAM)
    (tmp / "facts").mkdir()
    (tmp / "facts" / "A.facts").write_text("1\n2\n")
    (tmp / "memfacts").mkdir()  # a regular file whose read fails (EIO), even for root
    (tmp / "memfacts" / "A.facts").symlink_to("/proc/self/mem")
    (tmp / "memsnapshot").mkdir()
    for f in SNAPSHOT.glob("*.facts"):
        (tmp / "memsnapshot" / f.name).symlink_to(f)
    (tmp / "memsnapshot" / "Filesystem.facts").unlink(missing_ok=True)
    (tmp / "memsnapshot" / "Filesystem.facts").symlink_to("/proc/self/mem")
    (tmp / "regular").write_bytes(b"not a directory\n")
    (tmp / "loop1").symlink_to(tmp / "loop2")
    (tmp / "loop2").symlink_to(tmp / "loop1")
    (tmp / "nolxml" / "lxml").mkdir(parents=True)
    (tmp / "nolxml" / "lxml" / "__init__.py").write_text("raise ImportError('no lxml')\n")
    return {
        "tmp": str(tmp), "fifo": str(tmp / "fifo.dl"), "rulesdir": str(tmp / "rulesdir"),
        "okdir": str(tmp / "okdir"), "emptydir": str(tmp / "emptydir"),
        "program": str(tmp / "program.dl"), "facts": str(tmp / "facts"),
        "memfacts": str(tmp / "memfacts"), "memsnapshot": str(tmp / "memsnapshot"),
        "regular": str(tmp / "regular"), "loop": str(tmp / "loop1"),
        "snapshot": str(SNAPSHOT), "nolxml": str(tmp / "nolxml"),
    }


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_argument(case: Case, places: dict[str, str]) -> None:
    args = [a.format(**places) for a in case.args]
    env = dict(os.environ)
    env.pop("GUESTINSPECT_DEBUG", None)
    if case.no_lxml:
        env["PYTHONPATH"] = os.pathsep.join([places["nolxml"], str(ROOT)])
    proc = subprocess.run(
        [sys.executable, "-m", "guestinspect.cli", *args],
        input=case.stdin.encode(), capture_output=True, timeout=TIMEOUT, cwd=places["tmp"],
        env=env, check=False,
    )
    out, err = proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    if case.status is None:
        assert proc.returncode != 0, err
    else:
        assert proc.returncode == case.status, err
    if case.message == r"^$":
        assert lines == []
    else:
        assert len(lines) == 1, err
        assert re.search(case.message, lines[0]), lines[0]
    if case.stdout:
        assert re.search(case.stdout, out, re.M), out


def test_cases_cover_the_issue() -> None:
    """Every hostile input named in issue 10's class 9 has a case."""
    ids = {c.id for c in CASES}
    assert {"datalog-fifo-program", "rules-dir-with-fifo", "key-file-fifo", "key-file-dev-zero",
            "datalog-unreadable-facts", "datalog-output-regular-file",
            "datalog-output-unwritable", "facts-out-impossible", "datalog-explain-unclosed",
            "xpath-without-lxml", "rules-check-directory", "rules-check-fifo",
            "rules-check-symlink-loop"} <= ids
