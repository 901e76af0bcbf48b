"""Fact snapshots of the test guests: ``facts/<name>/`` (recorded from the phony images by the
collectors) and ``facts/synthetic/<name>/`` (recorded from in-memory guests by the fake
collector of ``tests/rules/fakefs.py``, see ``tests/snapshots/synthetic.py``).

    python -m tests.snapshots [--check] [NAME...]    # record (or compare) image snapshots
    python -m tests.snapshots --synthetic [--check]  # the synthetic ones

Recording takes the code path of ``guestinspect facts -a IMG -o DIR``: the public API
(``Inspector(...).write_facts``: the shipped rules, the real driver loop and
``ImageCollector``). A relation without facts gets no file (the loaders read a missing file as
an empty relation), so no empty ``.facts`` file is committed.

Values the image builders leave to chance (UUIDs that mkfs, cryptsetup, LVM and mdadm make
up, GPT GUIDs and MBR disk signatures the builder does not set) differ from one build of an
image to the next; :func:`normalise` masks them, and only them, when a snapshot is compared.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.oracles import ROOT

FACTS = ROOT / "facts"
SYNTHETIC = FACTS / "synthetic"
#: The image builders' sources: the test guests' and the package's (the sample guest's).
IMAGES_SRC = (ROOT / "tests" / "images", ROOT / "guestinspect" / "phony")

#: The keys upstream's tests give (inspector/test-virt-inspector-*.sh).
FEDORA_LUKS_ON_LVM_KEYS = (
    "/dev/Volume-Group/Root:key:FEDORA-Root",
    "/dev/Volume-Group/Logical-Volume-1:key:FEDORA-LV1",
    "/dev/Volume-Group/Logical-Volume-2:key:FEDORA-LV2",
    "/dev/Volume-Group/Logical-Volume-3:key:FEDORA-LV3",
)


@dataclass(frozen=True)
class Snapshot:
    """How to record ``facts/<name>/``: the image guest (tests/images), format and keys."""

    name: str
    guest: str
    format: str = "raw"
    keys: tuple[str, ...] = ()

    @property
    def directory(self) -> Path:
        return FACTS / self.name


_ALL = [
    # the guests of upstream's oracles
    Snapshot("debian", "debian"),
    Snapshot("ubuntu", "ubuntu"),
    Snapshot("fedora", "fedora"),
    Snapshot("fedora-lvm-on-luks", "fedora-lvm-on-luks", keys=("all:key:FEDORA",)),
    Snapshot("fedora-luks-on-lvm", "fedora-luks-on-lvm", keys=FEDORA_LUKS_ON_LVM_KEYS),
    Snapshot("archlinux", "archlinux"),
    Snapshot("coreos", "coreos"),
    Snapshot("windows", "windows"),
    # the other phony guests
    Snapshot("alpine", "alpine"),
    Snapshot("fedora-btrfs", "fedora-btrfs"),
    Snapshot("fedora-md", "fedora-md"),
    Snapshot("windows-gpt", "windows-gpt"),
    Snapshot("multiboot", "multiboot"),
    Snapshot("split-usr-by-uuid", "split-usr-by-uuid"),
    Snapshot("blank-disk", "blank-disk"),
    Snapshot("blank-part", "blank-part"),
    Snapshot("blank-fs", "blank-fs"),
    # guests as their distributions lay them out (issue 16)
    Snapshot("freebsd-ufs2", "freebsd-ufs2"),
    Snapshot("freebsd-ufs1", "freebsd-ufs1"),
    Snapshot("opensuse-tumbleweed", "opensuse-tumbleweed"),
    Snapshot("openbsd", "openbsd"),
    # guests with the files of the extra fields (issue 13, tests/images/linux_extras.py)
    Snapshot("ubuntu-server", "ubuntu-server"),
    Snapshot("rhel-server", "rhel-server"),
    Snapshot("debian-sysv", "debian-sysv"),
    # Debian 12 on LVM with an xfs /var and a dpkg database (issue 11, tests/images/direct.py)
    Snapshot("debian12-lvm", "debian12-lvm"),
]

SNAPSHOTS: dict[str, Snapshot] = {s.name: s for s in _ALL}


def record(snapshot: Snapshot, directory: Path) -> list[str]:
    """Record the snapshot's facts into ``directory`` (replaced); return the warnings."""
    from guestinspect.api import Inspector
    from tests.images import images

    with Inspector(images(snapshot.guest), format=snapshot.format, keys=snapshot.keys,
                   progress=True, timeout=None) as inspector:
        db = inspector.database()
        if directory.exists():
            shutil.rmtree(directory)
        inspector.write_facts(directory)
        stats = inspector.stats()
        warnings = list(stats.warnings) if stats is not None else []
    unanswered = replay_wants(directory) - asked_wants(db)
    if unanswered:
        raise RuntimeError(f"{directory}: replaying the snapshot wants what the live run never "
                           f"asked (incomplete recording): {sorted(unanswered)[:5]}")
    return warnings


def asked_wants(db: Any) -> set[tuple[str, tuple[object, ...]]]:
    from guestinspect.collectors.base import WANT_RELATIONS

    return {(name, t) for name in WANT_RELATIONS for t in db.tuples(name)}


def replay_wants(directory: Path) -> set[tuple[str, tuple[object, ...]]]:
    """The requests the rules make when evaluated over the snapshot: all must have been
    asked (and so answered) when it was recorded."""
    from guestinspect.inspection.driver import load_program, run_snapshot

    return asked_wants(run_snapshot(load_program(), directory))


# ---- comparing ---------------------------------------------------------------------------

_UUID_FORMS = [
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",  # blkid, GPT
    r"[0-9A-Za-z]{6}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}"
    r"-[0-9A-Za-z]{4}-[0-9A-Za-z]{6}",  # LVM
    r"[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{8}:[0-9a-f]{8}",  # mdadm
]
_UUID = re.compile(r"(?<![0-9A-Za-z])(?:" + "|".join(_UUID_FORMS) + r")(?![0-9A-Za-z])")


def fixed_uuids() -> set[str]:
    """The UUIDs and GUIDs the image builders set themselves (lowercased), and the MBR disk
    signatures they set (4-byte literals such as ``b"1234"``, as the hex ``MbrSignature``)."""
    found: set[str] = set()
    for path in (p for src in IMAGES_SRC for p in src.glob("*.py")):
        text = path.read_text()
        found.update(m.group(0).lower() for m in _UUID.finditer(text))
        found.update(m.group(1).encode().hex() for m in re.finditer(r'b"([ -~]{4})"', text))
    return found


_MD = re.compile(r"/dev/md[0-9]+")


def normalise(text: str, fixed: set[str]) -> str:
    """Mask every UUID in ``text`` that no builder sets (it changes with each build)."""
    return _UUID.sub(lambda m: m.group(0) if m.group(0).lower() in fixed else "<random-uuid>",
                     text)


def read_dir(directory: Path, fixed: set[str]) -> dict[str, list[str]]:
    """``<Relation>.facts`` -> its normalised lines, sorted (empty files left out)."""
    out: dict[str, list[str]] = {}
    for path in sorted(directory.glob("*.facts")):
        lines = [normalise(line, fixed) for line in path.read_text().splitlines()]
        # The kernel numbers assembled md arrays as it likes (md127, md126, ...).
        lines = [_MD.sub("/dev/md<n>", line) for line in lines]
        if path.name == "MbrSignature.facts":  # parted makes one up unless the builder sets it
            lines = [f"{dev}\t{sig if sig in fixed else '<random-signature>'}"
                     for dev, sig in (line.split("\t", 1) for line in lines)]
        lines.sort()
        if lines:
            out[path.name] = lines
    return out


def differences(expected: Path, actual: Path, limit: int = 20) -> list[str]:
    """What differs between two snapshot directories, after :func:`normalise`."""
    fixed = fixed_uuids()
    a, b = read_dir(expected, fixed), read_dir(actual, fixed)
    out: list[str] = []
    for name in sorted(set(a) | set(b)):
        old, new = a.get(name, []), b.get(name, [])
        if old == new:
            continue
        gone = sorted(set(old) - set(new))
        added = sorted(set(new) - set(old))
        out.append(f"{name}: {len(gone)} lines only in {expected}, {len(added)} only in new")
        out.extend(f"  - {line[:200]}" for line in gone[:limit])
        out.extend(f"  + {line[:200]}" for line in added[:limit])
        if not gone and not added:
            out.append("  (same lines, different counts)")
    return out


def check(snapshot: Snapshot) -> list[str]:
    """Record afresh into a scratch directory and compare with the committed snapshot."""
    if not snapshot.directory.is_dir():
        return [f"{snapshot.directory}: missing"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / snapshot.name
        record(snapshot, fresh)
        return differences(snapshot.directory, fresh)


def size(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def unanswered(directory: Path) -> list[str]:
    """Requests the rules make over the snapshot that it holds no answer to (it is stale:
    recorded before a rule asked for more). ``WantArch``, ``WantBlob`` and ``WantPeResource``
    are left out: an answer may legitimately be nothing."""
    from guestinspect.inspection.driver import load_program, run_snapshot

    db = run_snapshot(load_program(), directory)
    mounted = {t[0] for t in db.tuples("Mounted")}
    entry = {t[:2] for t in db.tuples("Entry")} | db.tuples("Missing")
    listed = db.tuples("Listed") | db.tuples("Missing")
    pkgs = {t[:2] for t in db.tuples("PackageField")} | {t[:2] for t in
                                                          db.tuples("PackageDbError")}
    keys = (db.tuples("RegistryKeyFound") | db.tuples("RegistryKeyMissing"))
    hive_errors = {t[:2] for t in db.tuples("HiveError")}
    out: list[str] = []
    for name, have in (("WantPath", entry), ("WantContent", entry), ("WantDir", listed)):
        out += [f"{name}{t}" for t in db.tuples(name) if t[0] in mounted and t not in have]
    out += [f"WantPackages{t}" for t in db.tuples("WantPackages")
            if t[0] in mounted and t[:2] not in pkgs]
    out += [f"WantRegistryKey{t}" for t in db.tuples("WantRegistryKey")
            if t[0] in mounted and t not in keys and t[:2] not in hive_errors]
    return sorted(out)
