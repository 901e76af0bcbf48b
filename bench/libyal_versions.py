"""The libyal Python bindings from PyPI against Debian 12's, on the test guests' filesystems.

    mkdir /tmp/deb && cd /tmp/deb && apt-get download python3-libfsext python3-libfsntfs \\
        python3-libvslvm python3-libqcow libfsext1 libfsntfs1 libvslvm1 libqcow1 libbfio1 \\
        && for d in *.deb; do dpkg -x "$d" root; done     # nothing installed system-wide
    python bench/libyal_versions.py --debian-root /tmp/deb/root [--guests debian,windows] [-n 3]

For each guest, each repetition and each library set in turn (the wheels in this
interpreter's environment, and Debian's extracted packages), a fresh ``python3 -S`` process
(the same interpreter for both, nothing but the standard library and the one set of modules
on its path) opens the guest's disk (raw, or qcow2 through pyqcow: ``--qcow2`` converts a copy
first), its LVM volume group through pyvslvm, and each filesystem of the guest's fact
snapshot (``facts/<guest>/``: the appliance's facts) through pyfsext or pyfsntfs; it walks
the whole tree (every entry lstat'ed, every regular file of at most 1 MiB read in full) and
answers the snapshot's ``Entry`` (kind), ``FileSize``, ``Symlink`` and ``Content`` facts.
The parent compares those answers with the snapshot and prints, per set, the versions, the
mismatches and the median seconds of the import and the walk.

``--tree DIR`` adds two larger cases: an ext4 image made by ``mke2fs -d DIR`` and an xfs one
by ``mkfs.xfs -p`` (a host directory, e.g. /usr/lib/python3.11), walked the same way and
compared with the host's own walk of DIR (kinds, sizes, link targets, contents).
``--mutate N`` then opens and walks N damaged copies of each of them and of the windows
guest's NTFS C: with each set, and counts crashes, hangs, clean errors and walks that end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from guestinspect.datalog.factfiles import read_facts  # noqa: E402

#: The worker: run as ``python3 -S -c WORKER`` with the request as JSON on stdin.
WORKER = r'''
import json, stat, sys, time
t0 = time.monotonic()
import pyfsext, pyfsntfs, pyfsxfs, pyqcow, pyvslvm
imported = time.monotonic() - t0
req = json.load(sys.stdin)

class Slice:
    """A window of a file-like object, as libyal's file-object IO wants it."""
    def __init__(self, f, start, size):
        self.f, self.start, self.size, self.pos = f, start, size, 0
    def read(self, n=-1):
        n = self.size - self.pos if n < 0 else min(n, self.size - self.pos)
        self.f.seek(self.start + self.pos)
        data = self.f.read(max(n, 0))
        self.pos += len(data)
        return data
    def seek(self, off, whence=0):
        self.pos = off if whence == 0 else self.pos + off if whence == 1 else self.size + off
        return self.pos
    def tell(self):
        return self.pos
    def get_offset(self):
        return self.pos
    def get_size(self):
        return self.size

class Mutated:
    """The disk with some bytes replaced (``--mutate``)."""
    def __init__(self, f, patch):
        self.f, self.patch = f, sorted(patch)
    def read(self, n=-1):
        pos = self.f.tell()
        data = bytearray(self.f.read(n))
        for off, value in self.patch:
            if pos <= off < pos + len(data):
                data[off - pos] = value
        return bytes(data)
    def seek(self, off, whence=0):
        return self.f.seek(off, whence)
    def tell(self):
        return self.f.tell()

t1 = time.monotonic()
raw = open(req["disk"], "rb")
if req.get("patch"):
    raw = Mutated(raw, req["patch"])
if req["qcow2"]:
    disk = pyqcow.file()
    disk.open_file_object(raw)
else:
    disk = raw
disk.seek(0, 2)
disk_size = disk.tell()
devices = {"/dev/sda": Slice(disk, 0, disk_size)}
for name, start, size in req["partitions"]:
    devices[name] = Slice(disk, start, size)
if req["pvs"]:
    lvm = pyvslvm.handle()
    lvm.open_file_object(devices[req["pvs"][0]])
    lvm.open_physical_volume_files_as_file_objects([devices[pv] for pv in req["pvs"]])
    vg = lvm.get_volume_group()
    for lv in vg.logical_volumes:
        devices[f"/dev/{vg.name}/{lv.name}"] = lv
opened = time.monotonic() - t1

def kind(e, ntfs):
    if ntfs:
        if e.has_directory_entries_index():
            return "dir"
        return "symlink" if e.file_attribute_flags & 0x400 and e.symbolic_link_target else "file"
    m = stat.S_IFMT(e.file_mode)
    return {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFLNK: "symlink"}.get(m, "other")

out = {"import": imported, "open": opened, "fs": {}}
for fs, vfs in req["filesystems"]:
    t2 = time.monotonic()
    ntfs = vfs == "ntfs"
    vol = pyfsntfs.volume() if ntfs else pyfsxfs.volume() if vfs == "xfs" else pyfsext.volume()
    vol.open_file_object(devices[fs])
    tree, entries, read_bytes = {}, 0, 0
    stack = [("", vol.get_root_directory())]
    while stack:
        path, e = stack.pop()
        for child in e.sub_file_entries:
            name = child.name
            if ntfs and (name.startswith("$") or name == "."):
                continue
            p = f"{path}/{name}"
            k = kind(child, ntfs)
            entries += 1
            rec = [k, None, None, None]
            if k == "dir":
                stack.append((p, child))
            elif k == "symlink":
                rec[2] = child.symbolic_link_target
            elif k == "file":
                rec[1] = child.size
                if child.size <= req.get("read_limit", 1 << 20):
                    data = child.read(child.size)
                    read_bytes += len(data)
                    rec[3] = data.decode("utf-8", "replace")
            if not req.get("patch"):  # a damaged copy: only how the walk ends matters
                tree[p.lower() if ntfs else p] = rec
            if entries > 100000:
                raise SystemExit("walk: more than 100,000 entries")
    out["fs"][fs] = {"seconds": time.monotonic() - t2, "entries": entries,
                     "bytes": read_bytes, "tree": tree}
out["versions"] = {m.__name__: m.get_version()
                   for m in (pyqcow, pyvslvm, pyfsext, pyfsxfs, pyfsntfs)}
json.dump(out, sys.stdout)
'''


def snapshot(guest: str) -> dict[str, list[tuple[Any, ...]]]:
    kinds = {"Partition": ["symbol", "symbol", "number", "number", "number"],
             "Filesystem": ["symbol", "symbol"], "LvmPv": ["symbol", "symbol"],
             "Entry": ["symbol", "symbol", "symbol"], "FileSize": ["symbol", "symbol", "number"],
             "Symlink": ["symbol", "symbol", "symbol"], "Content": ["symbol", "symbol", "symbol"],
             "ContentTruncated": ["symbol", "symbol"]}
    d = ROOT / "facts" / guest
    return {rel: read_facts(d / f"{rel}.facts", k) if (d / f"{rel}.facts").is_file() else []
            for rel, k in kinds.items()}


def request(disk: str, qcow2: bool, facts: dict[str, list[tuple[Any, ...]]]) -> dict[str, Any]:
    readable = {"ext2", "ext3", "ext4", "ntfs"}
    return {"disk": disk, "qcow2": qcow2,
            "partitions": [(dev, start, size) for dev, _, _, start, size in facts["Partition"]],
            "pvs": sorted({row[0] for row in facts["LvmPv"]}),
            "filesystems": [(fs, vfs) for fs, vfs in facts["Filesystem"] if vfs in readable]}


def compare(facts: dict[str, list[tuple[Any, ...]]], answer: dict[str, Any]
            ) -> tuple[int, list[str]]:
    """How many of the snapshot's facts were checked; those the worker's walk contradicts."""
    trees = {fs: a["tree"] for fs, a in answer["fs"].items()}
    ntfs = {fs for fs, vfs in facts["Filesystem"] if vfs == "ntfs"}
    truncated = {(fs, p) for fs, p in facts["ContentTruncated"]}

    def rec(fs: str, path: str) -> list[Any] | None:
        got: list[Any] | None = trees.get(fs, {}).get(path.lower() if fs in ntfs else path)
        return got

    bad: list[str] = []
    checked = sum(1 for rel in ("Entry", "FileSize", "Symlink", "Content")
                  for row in facts[rel] if row[0] in trees)
    for fs, path, kind in facts["Entry"]:
        if fs in trees and (got := rec(fs, path)) is not None and got[0] != kind:
            bad.append(f"{fs} {path}: {got[0]}, snapshot {kind}")
        elif fs in trees and got is None and path != "/":
            bad.append(f"{fs} {path}: not found, snapshot {kind}")
    for fs, path, size in facts["FileSize"]:
        if fs in trees and (got := rec(fs, path)) and got[1] != size:
            bad.append(f"{fs} {path}: size {got[1]}, snapshot {size}")
    for fs, path, target in facts["Symlink"]:
        if fs in trees and (got := rec(fs, path)) and got[2] != target:
            bad.append(f"{fs} {path}: target {got[2]!r}, snapshot {target!r}")
    for fs, path, text in facts["Content"]:
        got = rec(fs, path)
        if fs in trees and got and got[0] == "file" and (fs, path) not in truncated \
                and got[3] != text:
            bad.append(f"{fs} {path}: content differs")
    return checked, bad


def host_tree(top: Path) -> dict[str, list[Any]]:
    """What the worker's walk should find in an image made from ``top``."""
    tree: dict[str, list[Any]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            rel = "/" + str(p.relative_to(top))
            if p.is_symlink():
                tree[rel] = ["symlink", None, os.readlink(p), None]
            elif p.is_dir():
                tree[rel] = ["dir", None, None, None]
            elif p.is_file():
                size = p.stat().st_size
                text = p.read_bytes().decode("utf-8", "replace") if size <= 1 << 20 else None
                tree[rel] = ["file", size, None, text]
            else:
                tree[rel] = ["other", None, None, None]
    return tree


def _protofile(top: Path) -> str:
    """An ``mkfs.xfs -p`` prototype of ``top``: directories, files and symlinks."""
    lines = ["/dev/null", "0 0", "d--755 0 0"]

    def walk(directory: Path) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if entry.is_symlink():
                lines.append(f"{entry.name} l--777 0 0 {os.readlink(entry.path)}")
            elif entry.is_dir():
                lines.append(f"{entry.name} d--755 0 0")
                walk(Path(entry.path))
            elif entry.is_file():
                lines.append(f"{entry.name} ---644 0 0 {entry.path}")
        lines.append("$")

    walk(top)
    return "\n".join(lines) + "\n"


def tree_case(top: Path, vfs: str, tmp: str) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The request for an ext4 or xfs image of ``top``, and the host's walk of it."""
    img = f"{tmp}/tree-{vfs}.img"
    if vfs == "xfs":
        with open(img, "wb") as f:
            f.truncate(400 << 20)
        Path(f"{tmp}/proto").write_text(_protofile(top))
        subprocess.run(["mkfs.xfs", "-q", "-f", "-p", f"{tmp}/proto", img], check=True)
    else:
        subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(top), img, "400M"],
                       check=True)
    return ({"disk": img, "qcow2": False, "partitions": [], "pvs": [],
             "filesystems": [("/dev/sda", vfs)]}, host_tree(top))


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_worker(lib_path: str, ld_path: str | None, req: dict[str, Any],
               timeout: float | None = None) -> dict[str, Any]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": lib_path}
    if ld_path:
        env["LD_LIBRARY_PATH"] = ld_path
    try:
        proc = subprocess.run(["/usr/bin/python3", "-S", "-c", WORKER], input=json.dumps(req),
                              capture_output=True, text=True, env=env, check=False,
                              timeout=timeout, preexec_fn=_limits)
    except subprocess.TimeoutExpired:
        return {"error": "timeout", "outcome": "hang"}
    if proc.returncode < 0:
        return {"error": f"signal {-proc.returncode}", "outcome": "crash"}
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        return {"error": err[-1] if err else f"exit {proc.returncode}", "outcome": "error"}
    answer: dict[str, Any] = json.loads(proc.stdout)
    return answer


def mutate(req: dict[str, Any], fs_start: int, cases: int, sets: dict[str, tuple[str, str | None]],
           timeout: float) -> None:
    """Open and walk ``cases`` copies of the filesystem at ``fs_start`` of the request's disk,
    each with 16 of the non-zero bytes of its first 8 MiB (its metadata) replaced at random
    (seeded), with every set; count how each run ended."""
    with open(req["disk"], "rb") as f:
        f.seek(fs_start)
        head = f.read(8 << 20)
    outcomes: dict[str, dict[str, int]] = {name: {} for name in sets}
    examples: dict[str, str] = {}
    for seed in range(cases):
        rnd = random.Random(seed)
        patch: list[tuple[int, int]] = []
        while len(patch) < 16:
            off = rnd.randrange(len(head))
            if head[off]:  # a byte in use: metadata, mostly
                patch.append((fs_start + off, rnd.randrange(256)))
        case = {**req, "patch": patch, "read_limit": 1 << 16}
        for name, (lib_path, ld_path) in sets.items():
            a = run_worker(lib_path, ld_path, case, timeout)
            outcome = a.get("outcome", "ok")
            outcomes[name][outcome] = outcomes[name].get(outcome, 0) + 1
            if outcome in ("crash", "hang"):
                examples.setdefault(f"{name} {outcome}", f"seed {seed}: {a['error']}")
    for name, counts in outcomes.items():
        print(f"  {name:<6} " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for key, text in sorted(examples.items()):
        print(f"    first {key}: {text}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--debian-root", type=Path, required=True,
                    help="the directory Debian's .deb files were extracted into (dpkg -x)")
    ap.add_argument("--guests", default="debian,archlinux,windows")
    ap.add_argument("--qcow2", action="store_true", help="read a qcow2 copy of each disk")
    ap.add_argument("-n", "--repeats", type=int, default=3)
    ap.add_argument("--tree", type=Path, help="also an ext4 image made from this directory")
    ap.add_argument("--mutate", type=int, default=0, metavar="CASES",
                    help="then open and walk CASES damaged copies of the --tree images and of "
                    "the windows guest's C: (NTFS) with each set")
    ap.add_argument("--case-timeout", type=float, default=20.0)
    args = ap.parse_args()
    import pyfsext  # the wheels of this environment

    sets = {"pypi": (str(Path(pyfsext.__file__).parent), None),
            "debian": (str(args.debian_root / "usr/lib/python3/dist-packages"),
                       str(args.debian_root / "usr/lib/x86_64-linux-gnu"))}
    from tests.images import image

    with tempfile.TemporaryDirectory() as tmp:
        cases: list[tuple[str, dict[str, Any], Any]] = []
        for guest in filter(None, args.guests.split(",")):
            facts = snapshot(guest)
            disk = str(image(guest))
            if args.qcow2:
                copy = f"{tmp}/{guest}.qcow2"
                subprocess.run(["qemu-img", "convert", "-O", "qcow2", disk, copy], check=True)
                disk = copy
            cases.append((guest, request(disk, args.qcow2, facts), facts))
        if args.tree:
            cases += [(f"{vfs} {args.tree.name}", *tree_case(args.tree, vfs, tmp))
                      for vfs in ("ext4", "xfs")]
        for guest, req, expect in cases:
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sets}
            for _ in range(args.repeats):  # the sets alternate, so both see the same load
                for name, (lib_path, ld_path) in sets.items():
                    runs[name].append(run_worker(lib_path, ld_path, req))
            for name, answers in runs.items():
                if "error" in answers[0]:
                    print(f"{guest:<13} {name:<6} error: {answers[0]['error']}")
                    continue
                a = answers[0]
                if isinstance(expect, dict) and "Entry" in expect:
                    checked, bad = compare(expect, a)
                else:
                    got = a["fs"]["/dev/sda"]["tree"]
                    checked = len(expect)
                    bad = [f"{p}: {got.get(p)!r:.80} != {v!r:.80}"
                           for p, v in sorted(expect.items()) if got.get(p) != v]
                    bad += [f"{p}: not in {args.tree}" for p in sorted(set(got) - set(expect))
                            if p != "/lost+found"]
                walk = statistics.median(sum(f["seconds"] for f in x["fs"].values())
                                         for x in answers)
                imp = statistics.median(x["import"] for x in answers)
                opened = statistics.median(x["open"] for x in answers)
                entries = sum(f["entries"] for f in a["fs"].values())
                mib = sum(f["bytes"] for f in a["fs"].values()) / (1 << 20)
                versions = " ".join(f"{m}={v}" for m, v in a["versions"].items())
                print(f"{guest:<13} {name:<6} import {imp * 1000:5.1f} ms, open "
                      f"{opened * 1000:5.1f} ms, walk {walk * 1000:7.1f} ms ({entries} entries, "
                      f"{mib:.1f} MiB read), {len(bad)} of {checked} differ; {versions}",
                      flush=True)
                for line in bad[:10]:
                    print(f"    {line}")
        if args.mutate:
            mutants = []
            if args.tree:
                mutants += [(title, req, 0) for title, req, _ in cases[-2:]]
            win = snapshot("windows")
            req = request(str(image("windows")), False, win)
            req["filesystems"] = [fs for fs in req["filesystems"] if fs[0] == "/dev/sda2"]
            start = next(p[3] for p in win["Partition"] if p[0] == "/dev/sda2")
            mutants.append(("ntfs windows C:", req, start))
            for title, req, start in mutants:
                print(f"{title}: {args.mutate} damaged copies")
                mutate(req, start, args.mutate, sets, args.case_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
