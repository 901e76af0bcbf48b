"""Registry hives read through the isolated reader (collectors/isolate.py), as the collector
reads them: mutated real hives (../shared/testdata/real-hives: Windows 7 and 10 SYSTEM, a
corrupt SYSTEM, a user's NTUSER.DAT) and the phony guests' small hives.

The reader must never raise: a hive hivex refuses, a child that crashes in hivex (SIGSEGV), runs
out of time or memory, all come back as a ``HiveError`` fact, so a crash of the child is the
reader's error, not a finding. With ``FUZZ_REGISTRY_LOG=FILE`` each case's outcome (``ok``,
``hive-error``, ``crash``, ``limit``) is appended to FILE, to count the contained crashes,
and each input that crashed the child is kept beside it.
"""

from __future__ import annotations

import functools
import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from fuzz.targets import target
from guestinspect.collectors.backends import wire
from guestinspect.collectors.isolate import RELATIONS, Limits, read_keys_isolated

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("GUESTINSPECT_SHARED", ROOT.parent / "shared")) / "testdata"
FS, HIVE = "/dev/sda2", "/Windows/System32/config/SYSTEM"
#: The keys the shipped rules ask of SYSTEM, SOFTWARE and SAM hives, and a user hive's.
KEYS = [
    "",
    "Select",
    "ControlSet001\\Control\\ComputerName\\ComputerName",
    "ControlSet001\\Services\\Tcpip\\Parameters",
    "MountedDevices",
    "Microsoft\\Windows NT\\CurrentVersion",
    "Microsoft\\Windows\\CurrentVersion\\Uninstall",
    "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer",
    "ControlSet001\\Control\\TimeZoneInformation",
    "ControlSet001\\Services",
    "ControlSet001\\Services\\Tcpip\\Parameters\\Interfaces",
    "Microsoft\\Windows NT\\CurrentVersion\\ProfileList",
    "SAM\\Domains\\Account\\Users",
]
#: Tighter than the collector's: a case must stay within the runner's per-case timeout.
LIMITS = Limits(seconds=4.0, cpu_seconds=3, memory=256 << 20)


def _phony_hives() -> list[bytes]:
    """Small SYSTEM and SOFTWARE hives made as the phony Windows guest's (hivexregedit)."""
    phony = SHARED / "libguestfs-phony"
    if shutil.which("hivexregedit") is None or not (phony / "minimal-hive").is_file():
        return []
    out = []
    with tempfile.TemporaryDirectory() as d:
        for reg, prefix in (("windows-system.reg", "HKEY_LOCAL_MACHINE\\SYSTEM"),
                            ("windows-software.reg", "HKEY_LOCAL_MACHINE\\SOFTWARE")):
            hive = Path(d) / reg
            shutil.copyfile(phony / "minimal-hive", hive)
            hive.chmod(0o644)
            subprocess.run(["hivexregedit", "--merge", "--prefix", prefix, str(hive),
                            str(phony / reg)], check=True, capture_output=True)
            out.append(hive.read_bytes())
    return out


def _build_seeds() -> list[bytes]:
    real = SHARED / "real-hives"
    hives = [lzma.decompress((real / f"{n}.xz").read_bytes())
             for n in ("NTUSER.DAT", "corrupted_system_hive", "SYSTEM", "SYSTEM_WIN_10_1709")]
    phony = _phony_hives()
    minimal = SHARED / "libguestfs-phony" / "minimal-hive"
    return phony + ([minimal.read_bytes()] if minimal.is_file() else []) + hives


@functools.cache
def seeds() -> list[bytes]:
    """The seeds, kept decompressed in the temporary directory: made once (3 s: xz and
    hivexregedit), then read in milliseconds by each worker of a short run."""
    cache = Path(tempfile.gettempdir()) / f"guestinspect-fuzz-hives-{os.getuid()}"
    names = sorted(cache.glob("seed-*")) if cache.is_dir() else []
    if names and (cache / "complete").is_file():
        return [n.read_bytes() for n in names]
    built = _build_seeds()
    work = Path(tempfile.mkdtemp(prefix="guestinspect-fuzz-hives-"))
    for i, data in enumerate(built):
        (work / f"seed-{i:02d}").write_bytes(data)
    (work / "complete").touch()
    try:
        work.rename(cache)
    except OSError:  # another worker was first
        shutil.rmtree(work, ignore_errors=True)
    return built


def _outcome(facts: dict[str, set[tuple[str | int, ...]]]) -> str:
    errors = [str(t[2]) for t in facts.get("HiveError", ())]
    if any("crashed" in e for e in errors):
        return "crash"
    if any("killed" in e or "out of memory" in e for e in errors):
        return "limit"
    return "hive-error" if errors else "ok"


@target("registry.hive", seeds, max_len=16 << 20, cost=20)
def run(data: bytes) -> None:
    with tempfile.NamedTemporaryFile(prefix="fuzz-hive-") as f:
        f.write(data)
        f.flush()
        facts = read_keys_isolated(Path(f.name), FS, HIVE, KEYS, limits=LIMITS)
    for rel, tuples in facts.items():
        assert rel in RELATIONS, rel
        for t in tuples:
            assert len(t) == len(wire.schema()[rel]) and t[:2] == (FS, HIVE), t
            assert all(isinstance(c, str) for c in t), t
    assert facts, "no fact at all: neither keys nor an error"
    log = os.environ.get("FUZZ_REGISTRY_LOG")
    if log:
        outcome = _outcome(facts)
        digest = hashlib.sha256(data).hexdigest()[:16]
        with open(log, "a") as out:
            out.write(f"{outcome} {digest}\n")
        if outcome == "crash":  # kept to study (and to make tests of)
            Path(f"{log}.crash-{digest}.hive").write_bytes(data)
