"""The image collector: base facts from disk images read (read-only) with libguestfs.

Every mountable filesystem is mounted read-only at once under its own directory of the
appliance (``/fs/0``, ``/fs/1`` …). Guest paths are resolved here, not by the appliance's
kernel: an absolute symlink inside a guest filesystem means that filesystem's root.
"""

import base64
import os
import posixpath
import shutil
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guestinspect.collectors import binaries, isolate, packages, partitions, resources, ufs
from guestinspect.collectors.appliance import (
    CountingHandle,
    DeadlineWatchdog,
    call_or,
    first_line,
    launch,
)
from guestinspect.collectors.base import CollectorStats, Fact, FactSet, merge
from guestinspect.collectors.console import stall_seconds
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.progress import Progress
from guestinspect.collectors.remote import probe, recheck
from guestinspect.collectors.uri import RemoteDisk, parse_disk, redact
from guestinspect.errors import CollectorError, ImageError, UsageError

#: At most this much of a file is read for Content.
CONTENT_LIMIT = 1024 * 1024
#: The requests about one path of a filesystem, answered together.
_PATH_WANTS = ("WantPath", "WantContent", "WantArch", "WantBlob", "WantPeResource")

#: Files larger than this give no Blob.
BLOB_LIMIT = 1024 * 1024
#: Package databases and hives larger than this are not downloaded.
DOWNLOAD_LIMIT = 1024 * 1024 * 1024
#: Symlinks followed while resolving one path before giving up (a loop).
MAX_SYMLINKS = 40
#: Filesystem types that are not mounted.
NOT_MOUNTABLE = {"swap", "unknown", "crypto_LUKS", "LVM2_member", "linux_raid_member", ""}

#: GPT partition types libguestfs never looks into: Windows LDM metadata and data, Microsoft
#: reserved, Windows snapshot.
NO_FS_GPT = {
    "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3",
    "AF9B60A0-1431-4F62-BC68-3311714A69AD",
    "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
    "CADDEBF1-4400-4DE8-B103-12117DCF3CCF",
}

#: Tests only: the phase (``registry``, ``packages``, …) in which the collector makes a
#: libguestfs call that never returns, to test the deadline (docs/security.md, "Deadlines").
_STALL = os.environ.get("GUESTINSPECT_TEST_STALL_PHASE")

#: The phases as the spinner names them (``reading …``).
_PHASE_WORDS = {
    "mount": "filesystems (mounting)", "dirs": "directories", "paths": "files",
    "registry": "the registry", "packages": "package databases",
}

_KINDS = {0o100000: "file", 0o040000: "dir", 0o120000: "symlink"}
_READDIR_KINDS = {"r": "file", "d": "dir", "l": "symlink"}


@dataclass(frozen=True)
class Stat:
    kind: str  # file, dir, symlink, other
    size: int


MISSING = Stat("missing", 0)


def _kind(mode: int) -> str:
    return _KINDS.get(mode & 0o170000, "other")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _utf8(name: bytes) -> bool:
    try:
        name.decode()
        return True
    except UnicodeDecodeError:
        return False


def _norm(path: str) -> str:
    """An absolute normalized path (``..`` in it is kept for the resolver to follow)."""
    parts = [p for p in path.split("/") if p and p != "."]
    return "/" + "/".join(parts)


def _join(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory != "/" else "/" + name


def _hex(uuid: str) -> str:
    """A UUID's hex digits only, lower case (md_detail's ``a:b:c:d`` is blkid's ``a-b-…``)."""
    return "".join(c for c in uuid.lower() if c in "0123456789abcdef")


def _lvm_uuid(uuid: str) -> str:
    """An LVM UUID in LVM's own printed form (``xxxxxx-xxxx-xxxx-xxxx-xxxx-xxxx-xxxxxx``)."""
    u = uuid.replace("-", "")
    if len(u) != 32:
        return uuid
    return "-".join(u[a:b] for a, b in ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22),
                                         (22, 26), (26, 32)))


class ImageCollector:
    """Base facts of one guest's disk images (docs/facts.md), opened read-only."""

    def __init__(
        self,
        disks: Sequence[Path | str | RemoteDisk],
        format: str | None = None,
        keys: KeySpec | None = None,
        progress: bool = True,
        launch_timeout: float = 600.0,
        deadline: Deadline = NO_DEADLINE,
        stall_timeout: float | None = None,
    ) -> None:
        if not disks:
            raise ImageError("no disk image given")
        try:
            #: Seconds of a silent appliance console before a launch is retried under TCG
            #: (None: $GUESTINSPECT_STALL_TIMEOUT or 20; 0: never; collectors/console.py).
            self._stall = stall_seconds(stall_timeout)
        except ValueError as e:
            raise UsageError(str(e)) from e
        # a str may be a URI (a remote disk, collectors/uri.py); a Path is a local file
        self._disks = [(d, probe(d, format)) for d in map(parse_disk, disks)]
        self._keys = keys if keys is not None else KeySpec()
        #: The spinner on stderr while the collector works (a terminal only).
        self._progress = Progress(progress)
        self._timeout = launch_timeout
        self._deadline = deadline
        self._g: CountingHandle | None = None
        self._watchdog: DeadlineWatchdog | None = None
        self._stats = CollectorStats()
        self._mounts: dict[str, str] = {}  # fs -> mount directory in the appliance
        self._stat: dict[tuple[str, str], Stat] = {}  # (fs, resolved guest path) -> lstat
        self._tmp = Path(tempfile.mkdtemp(prefix="guestinspect-"))
        self._hives: dict[tuple[str, str], Path | str] = {}  # local copy, or an error message
        self._warned_unmounted: set[str] = set()
        self._holders: set[str] = set()  # devices that are PVs, md members or empty
        self._mapped: list[str] = []  # opened LUKS containers (their filesystems are probed)
        self._devices: list[str] = []
        self._parts: list[str] = []
        self._mds: list[str] = []
        self._lvs: list[str] | None = None
        self._has_lvm = False
        self._blkid: dict[str, dict[str, str]] = {}
        self._part_info: dict[str, partitions.Part] = {}
        self._fs_types: dict[str, str] = {}  # filesystem -> type, once initial_facts() ran

    # ---- Collector protocol ----

    def stats(self) -> CollectorStats:
        if self._g is not None:
            self._stats.guestfs_calls = self._g.calls
            self._stats.phase_calls = dict(self._g.phase_calls)
        return self._stats

    def close(self) -> None:
        self._progress.stop()
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        if self._g is not None:
            try:
                self._g.shutdown()  # the drives are read-only: nothing to unmount first
            except RuntimeError:
                pass
            self._g.close()
            self._g = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "ImageCollector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def warn(self, message: str) -> None:
        self._stats.warnings.append(message)

    def initial_facts(self) -> FactSet:
        t0 = time.monotonic()
        try:
            if self._g is None:
                try:
                    started = launch(self._disks, self._timeout, self._deadline,
                                     self._progress, self._stall)
                except CollectorError as e:  # a remote disk's password never in a message
                    gone = recheck(self._disks)  # a server gone since the probe says why
                    error = gone or e
                    error.args = (redact(str(error), [d for d, _ in self._disks]),)
                    if gone is None:
                        raise
                    raise gone from e
                self._g, self._stats.launch_seconds = started.handle, started.seconds
                disks = [d for d, _ in self._disks]  # (the retry's warning quotes qemu)
                self._stats.warnings.extend(redact(w, disks) for w in started.warnings)
                self._watchdog = DeadlineWatchdog(self._g)
                self._stats.phase_seconds["launch"] = self._stats.launch_seconds
            facts: FactSet = defaultdict(set)
            with self._phase("devices"):
                self._disk_facts(facts)
                self._md_facts(facts)
            with self._phase("filesystems"):
                fs_types = self._luks_facts(facts)
                self._lvm_facts(facts)
                self._fs_facts(fs_types, facts)
            self._fs_types = fs_types
            with self._phase("mount"):
                self._mount_all(fs_types, facts)
        finally:
            self._progress.stop()
        self._stats.seconds += time.monotonic() - t0
        return dict(facts)

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        """Count the libguestfs calls and seconds of what runs inside under ``name``."""
        g = self.g
        before, t0 = g.phase, time.monotonic()
        g.phase = name
        self._progress.show(f"reading {_PHASE_WORDS.get(name, name)}")
        if _STALL == name:  # tests only: a libguestfs call that never returns
            g.debug("sh", ["sleep 3600"])
        try:
            yield
        finally:
            g.phase = before
            secs = self._stats.phase_seconds
            secs[name] = secs.get(name, 0.0) + time.monotonic() - t0

    def answer(self, wants: FactSet) -> FactSet:
        try:
            return self._answer(wants)
        finally:
            self._progress.stop()

    def _answer(self, wants: FactSet) -> FactSet:
        t0 = time.monotonic()
        facts: FactSet = defaultdict(set)
        for name in ("WantDir", *_PATH_WANTS):
            self._check_mounted(wants.get(name, ()))
        if wants.get("WantDir"):
            with self._phase("dirs"):
                self._answer_dirs(wants["WantDir"], facts)
        if any(wants.get(n) for n in _PATH_WANTS):
            with self._phase("paths"):
                self._answer_paths(wants, facts)
        if wants.get("WantRegistryKey"):
            with self._phase("registry"):
                self._answer_registry(wants["WantRegistryKey"], facts)
        if wants.get("WantPackages"):
            with self._phase("packages"):
                self._answer_packages(wants["WantPackages"], facts)
        self._stats.seconds += time.monotonic() - t0
        return dict(facts)

    @property
    def g(self) -> Any:
        if self._g is None:
            raise RuntimeError("initial_facts() was not called")
        return self._g

    # ---- block devices ----

    def _partitions_of(self, dev: str) -> dict[int, str]:
        """The kernel's partitions of ``dev``: number -> partition device."""
        out: dict[int, str] = {}
        for part in self._parts:
            rest = part[len(dev):] if part.startswith(dev) else ""
            rest = rest[1:] if rest.startswith("p") and dev[-1:].isdigit() else rest
            if rest.isdigit():
                out[int(rest)] = part
        return out

    def _disk_facts(self, facts: FactSet) -> None:
        g = self.g
        self._parts = list(g.list_partitions())
        for index, dev in enumerate(g.list_devices()):
            self._devices.append(dev)
            size = g.blockdev_getsize64(dev)
            facts["Disk"].add((dev, index, size))
            if size < 512:
                continue
            head = g.pread_device(dev, min(size, partitions.HEAD_BYTES), 0)
            facts["MbrSignature"].add((dev, head[0x1B8:0x1BC].hex()))
            kernel = self._partitions_of(dev)

            def read(n: int, off: int, dev: str = dev) -> bytes:
                return bytes(g.pread_device(dev, n, off))

            try:
                table = partitions.read_table(head, read)
            except partitions.PartitionTableError as e:
                self.warn(f"{dev}: damaged partition table ({e}): parted decides")
                table = None
            except RuntimeError:
                table = None
            if table is None and not kernel:
                continue
            if table is None or {p.num for p in table.parts} != set(kernel):
                table = self._parted_table(dev)  # let parted decide
                if table is None:
                    continue
            facts["PartitionTable"].add((dev, table.type))
            self._partition_facts(dev, table, kernel, facts)

    def _partition_facts(self, dev: str, table: partitions.Table, kernel: dict[int, str],
                         facts: FactSet) -> None:
        """The facts of each partition of ``table`` that the kernel lists too."""
        for p in table.parts:
            part = kernel.get(p.num)
            if part is None:
                continue
            self._part_info[part] = p
            facts["Partition"].add((part, dev, p.num, p.start, p.size))
            if table.type == "msdos":
                if p.mbr_type is not None:
                    facts["PartitionMbrType"].add((part, p.mbr_type))
                if p.letter:
                    facts["PartitionDisklabel"].add((part, p.slice, p.letter, p.duid))
                continue
            for rel, value in (("PartitionGptType", p.gpt_type),
                               ("PartitionGptGuid", p.gpt_guid),
                               ("PartitionName", p.name)):
                if value:
                    facts[rel].add((part, value))

    def _parted_table(self, dev: str) -> partitions.Table | None:
        """The partition table as parted reads it (one call per partition and field)."""
        g = self.g
        ptype = call_or(None, g.part_get_parttype, dev)
        if ptype not in ("msdos", "gpt"):
            return None
        parts = []
        for p in call_or([], g.part_list, dev):
            num = p["part_num"]
            if ptype == "msdos":
                parts.append(partitions.Part(num, p["part_start"], p["part_size"],
                                             call_or(None, g.part_get_mbr_id, dev, num)))
                continue
            gpt_type, guid, name = (call_or("", fn, dev, num) for fn in (
                g.part_get_gpt_type, g.part_get_gpt_guid, g.part_get_name))
            parts.append(partitions.Part(num, p["part_start"], p["part_size"],
                                         gpt_type=gpt_type.upper(), gpt_guid=guid.upper(),
                                         name=name))
        return partitions.Table(ptype, tuple(parts))

    def _md_facts(self, facts: FactSet) -> None:
        g = self.g
        self._mds = list(g.list_md_devices())
        if not self._mds:
            return
        # The members by their blkid UUID (the array's): md_stat names them as the appliance's
        # kernel does, which is not always libguestfs's name (seen: /dev/sdc1 for /dev/sdb1).
        by_uuid: dict[str, list[str]] = defaultdict(list)
        for dev in [*self._devices, *self._parts]:
            tags = self._probe(dev)
            if tags.get("TYPE") == "linux_raid_member" and tags.get("UUID"):
                by_uuid[_hex(tags["UUID"])].append(dev)
        for md in self._mds:
            uuid = call_or({}, g.md_detail, md).get("uuid", "")
            facts["MdArray"].add((md, uuid))
            members = by_uuid.get(_hex(uuid)) or [
                dev if dev.startswith("/") else "/dev/" + dev
                for dev in (m["mdstat_device"] for m in call_or([], g.md_stat, md))
            ]
            facts["MdMember"].update((md, dev) for dev in members)

    def _probe(self, dev: str) -> dict[str, str]:
        """blkid's tags for a device (TYPE, UUID, LABEL, VERSION …), asked once."""
        if dev not in self._blkid:
            self._blkid[dev] = call_or({}, self.g.blkid, dev)
            if self._blkid[dev].get("TYPE") == "LVM2_member":
                self._has_lvm = True
        return self._blkid[dev]

    def _block_devices(self) -> list[str]:
        return [*self._devices, *self._parts, *self._mds]

    def _lv_list(self) -> list[str]:
        if self._lvs is None:
            self._lvs = list(call_or([], self.g.lvs)) if self._has_lvm else []
        return self._lvs

    def _can_hold_fs(self, dev: str) -> bool:
        """What libguestfs would look at for a filesystem: not a partitioned device, not an
        extended partition, not an LDM/Microsoft reserved/snapshot partition; nor a BSD slice
        whose disklabel was decoded (its first partition starts where it does: the same
        filesystem would be seen twice)."""
        if dev in self._part_info:
            p = self._part_info[dev]
            return (p.mbr_type not in partitions.MBR_EXTENDED and p.gpt_type not in NO_FS_GPT
                    and not p.disklabel)
        if dev in self._parts:
            return True
        return not self._partitions_of(dev)

    def _luks_facts(self, facts: FactSet) -> dict[str, str]:
        """Probe every device that may hold a filesystem (blkid, once each), open what LUKS
        containers the keys open; return the filesystems seen after that."""
        g = self.g
        seen: set[str] = set()
        while True:
            fs_types: dict[str, str] = {}
            # LVs last: whether there are any is known once the PVs have been probed.
            # Opened LUKS containers too: a filesystem right inside one (LUKS on LVM).
            for group in (self._block_devices, self._lv_list, lambda: list(self._mapped)):
                for dev in group():
                    if dev in fs_types or dev in seen or not self._can_hold_fs(dev):
                        continue  # (an opened LUKS container is not listed again)
                    vfs = self._probe(dev).get("TYPE", "")
                    if vfs.endswith("_member"):
                        self._holders.add(dev)
                    else:
                        fs_types[dev] = vfs or "unknown"
            todo = [d for d, t in fs_types.items() if t == "crypto_LUKS" and d not in seen]
            if not todo:
                return fs_types
            opened = False
            for dev in todo:
                seen.add(dev)
                uuid = call_or("", g.luks_uuid, dev)
                facts["LuksContainer"].add((dev, uuid))
                mapname = f"luks-{uuid}" if uuid else f"luks{len(seen)}"
                tried = False
                for key in self._keys.candidates(dev, uuid):
                    tried = True
                    try:
                        g.cryptsetup_open(dev, key, mapname, readonly=True)
                    except RuntimeError:
                        continue
                    facts["LuksOpened"].add((dev, f"/dev/mapper/{mapname}"))
                    self._mapped.append(f"/dev/mapper/{mapname}")
                    opened = True
                    break
                else:
                    reason = "wrong key" if tried else "no key"
                    facts["LuksLocked"].add((dev, reason))
                    self.warn(f"{dev}: LUKS container left closed ({reason})")
            if not opened:
                return fs_types
            g.lvm_scan(True)  # LVM inside what was opened: rescan and activate
            self._has_lvm, self._lvs = True, None

    def _lvm_facts(self, facts: FactSet) -> None:
        g = self.g
        if not self._has_lvm:
            return
        vgs = g.vgs_full()
        if not vgs:
            return
        pvs = {_lvm_uuid(p["pv_uuid"]): p["pv_name"] for p in g.pvs_full()}
        # LVM's own PV names are not always the appliance's (seen: /dev/sdb2 for /dev/sda2);
        # the device whose blkid says it is that PV is.
        pvs.update(
            (_lvm_uuid(b["UUID"]), dev)
            for dev, b in self._blkid.items()
            if b.get("TYPE") == "LVM2_member" and b.get("UUID")
        )
        lvs = {_lvm_uuid(lv["lv_uuid"]): lv["lv_name"] for lv in g.lvs_full()}
        visible = set(self._lv_list())
        by_name: dict[str, list[str]] = defaultdict(list)
        for uuid, name in lvs.items():
            by_name[name].append(uuid)
        for vg in vgs:
            name = vg["vg_name"]
            facts["LvmVg"].add((name, _lvm_uuid(vg["vg_uuid"])))
            for uuid in map(_lvm_uuid, g.vgpvuuids(name)):
                if uuid in pvs:
                    facts["LvmPv"].add((pvs[uuid], name))
            mine = [lv for lv in visible if lv.startswith(f"/dev/{name}/")]
            if all(len(by_name[lv.rsplit("/", 1)[1]]) == 1 for lv in mine):
                uuids = [by_name[lv.rsplit("/", 1)[1]][0] for lv in mine]
            else:  # an LV name used in two VGs: ask which UUIDs are this VG's
                uuids = list(map(_lvm_uuid, g.vglvuuids(name)))
            for uuid in uuids:
                lv = f"/dev/{name}/{lvs.get(uuid, '')}"
                if lv in visible:
                    facts["LvmLv"].add((lv, name, lvs[uuid], uuid))

    # ---- filesystems ----

    def _fs_facts(self, fs_types: dict[str, str], facts: FactSet) -> None:
        g = self.g
        ids: dict[str, dict[str, str]] = {}
        for fs, vfs in list(fs_types.items()):
            facts["Filesystem"].add((fs, vfs))
            if vfs == "unknown":
                continue
            ids[fs] = self._probe(fs)
            if vfs == "btrfs":
                default = call_or(-1, g.btrfs_subvolume_get_default, fs)
                for sub in call_or([], g.btrfs_subvolume_list, fs):
                    mountable = f"btrfsvol:{fs}/{sub['btrfssubvolume_path']}"
                    facts["BtrfsSubvolume"].add(
                        (mountable, fs, sub["btrfssubvolume_path"], sub["btrfssubvolume_id"])
                    )
                    ids[mountable] = ids[fs]
                    if sub["btrfssubvolume_id"] != default:
                        fs_types[mountable] = "btrfs"
                        facts["Filesystem"].add((mountable, "btrfs"))
        for fs, info in ids.items():
            for rel, tag in (("FsUuid", "UUID"), ("FsLabel", "LABEL"), ("FsVersion", "VERSION")):
                if info.get(tag):
                    facts[rel].add((fs, info[tag]))

    def _mount_all(self, fs_types: dict[str, str], facts: FactSet) -> None:
        g = self.g
        mountable = sorted(fs for fs, vfs in fs_types.items() if vfs not in NOT_MOUNTABLE)
        if not mountable:
            return
        g.mkmountpoint("/fs")
        dirs = {fs: f"/fs/{i}" for i, fs in enumerate(mountable)}
        for d in dirs.values():
            g.mkmountpoint(d)
        for fs, d in dirs.items():
            error = self._mount(fs, fs_types[fs], d)
            if error is None:
                self._mounts[fs] = d
                facts["Mounted"].add((fs,))
            else:
                facts["MountFailed"].add((fs, error))
                self.warn(f"{fs}: cannot mount: {error}")

    def mount_guest(self, mounts: Sequence[tuple[str, str]]) -> list[str]:
        """Mount the guest's filesystems read-only as the guest mounts them, for
        ``guestinspect mount``: ``(guest path, filesystem)`` pairs, parents first.

        The inspection's own mounts (``/fs/N``) are unmounted first, and its deadline no longer
        applies; no request can be answered afterwards. Returns one warning per filesystem not
        mounted (the rest are mounted) or mounted with fallback options; ImageError if
        ``/`` (the first) cannot be mounted.
        """
        g = self.g
        if self._watchdog is not None:
            self._watchdog.stop()
            self._watchdog = None
        g.deadline = NO_DEADLINE
        g.umount_all()
        self._mounts.clear()
        before = len(self._stats.warnings)
        for path, fs in mounts:
            vfs = self._fs_types.get(fs, "")
            error = "not a filesystem" if vfs in NOT_MOUNTABLE else self._mount(fs, vfs, path)
            if error is not None and path == "/":
                raise ImageError(f"{fs}: cannot mount the guest's /: {error}")
            if error is not None:
                self.warn(f"{fs}: cannot mount on {path}: {error}")
        return self._stats.warnings[before:]

    def _mount(self, fs: str, vfs: str, directory: str) -> str | None:
        if vfs == "ufs":
            return self._mount_ufs(fs, directory)
        try:
            self.g.mount_ro(fs, directory)
            return None
        except RuntimeError as e:
            error = first_line(e)
        # A dirty journal cannot be replayed on a read-only device: mount without it.
        fallback = {"xfs": "ro,norecovery", "ext3": "ro,noload", "ext4": "ro,noload"}.get(vfs)
        if fallback:
            try:
                self.g.mount_options(fallback, fs, directory)
                self.warn(f"{fs}: mounted with {fallback} (unclean filesystem)")
                return None
            except RuntimeError:
                pass
        return error

    def _mount_ufs(self, fs: str, directory: str) -> str | None:
        """Mount a UFS with the `ufstype` its superblock names (Linux cannot guess it)."""

        def read(offset: int, size: int) -> bytes:
            return bytes(call_or(b"", self.g.pread_device, fs, size, offset))

        types = ufs.mount_types(read)
        error = ""
        for ufstype in types:
            try:
                self.g.mount_options(f"ro,ufstype={ufstype}", fs, directory)
                return None
            except RuntimeError as e:
                error = error or first_line(e)  # the likeliest type's error says the most
        return f"{error} (tried ufstype={','.join(types)})"

    # ---- paths ----

    def _check_mounted(self, wants: Iterable[Fact]) -> None:
        for t in wants:
            fs = str(t[0])
            if fs not in self._mounts and fs not in self._warned_unmounted:
                self._warned_unmounted.add(fs)
                self.warn(f"{fs}: requested but not mounted")

    def _real_dir(self, fs: str, path: str) -> bool:
        """Whether ``path`` and all its ancestors are known directories (no symlink on the
        way), so that the appliance resolves it as the guest would."""
        while path != "/":
            st = self._stat.get((fs, path))
            if st is None or st.kind != "dir":
                return False
            path = posixpath.dirname(path)
        return True

    def _lstat_many(self, fs: str, paths: Iterable[str]) -> None:
        """lstat guest paths into the cache: ancestors first, level by level, one
        ``lstatnslist`` per directory of a level.

        The appliance resolves symlinks with its own root, so a path is only asked for
        directly under a directory known to be real; a path below a symlink is resolved by
        ``_resolve`` (rare)."""
        self._stat.setdefault((fs, "/"), Stat("dir", 0))
        todo = {p for p in paths if (fs, p) not in self._stat}
        levels: dict[int, set[str]] = defaultdict(set)
        for p in todo:
            while p != "/":
                levels[p.count("/")].add(p)
                p = posixpath.dirname(p)
        for depth in sorted(levels):
            by_dir: dict[str, list[str]] = defaultdict(list)
            for p in levels[depth]:
                if (fs, p) in self._stat:
                    continue
                parent = posixpath.dirname(p)
                pst = self._stat.get((fs, parent))
                if pst is MISSING or (pst is not None and pst.kind in ("file", "other")):
                    self._stat[(fs, p)] = MISSING  # nothing below a missing path or a file
                elif self._real_dir(fs, parent):
                    by_dir[parent].append(posixpath.basename(p))
            for d, names in sorted(by_dir.items()):
                names.sort()
                try:
                    results = self.g.lstatnslist(self._mounts[fs] + d, names)
                except RuntimeError:
                    results = [{"st_ino": -1}] * len(names)
                for name, st in zip(names, results, strict=True):
                    self._stat[(fs, _join(d, name))] = (
                        MISSING if st["st_ino"] == -1
                        else Stat(_kind(st["st_mode"]), st["st_size"])
                    )
        for path in sorted(todo):
            if (fs, path) in self._stat:
                continue
            # Below a symlink: follow it inside the guest filesystem.
            real = self._resolve(fs, posixpath.dirname(path))
            if real is None or self._get(fs, real).kind != "dir":
                self._stat[(fs, path)] = MISSING
            else:
                self._stat[(fs, path)] = self._get(fs, _join(real, posixpath.basename(path)))

    def _get(self, fs: str, path: str) -> Stat:
        """The lstat of a path whose ancestors are resolved (no symlinks in them)."""
        if path == "/":
            return self._stat.setdefault((fs, "/"), Stat("dir", 0))
        if (fs, path) not in self._stat:
            d, name = posixpath.dirname(path), posixpath.basename(path)
            try:
                (st,) = self.g.lstatnslist(self._mounts[fs] + d, [name])
                s = MISSING if st["st_ino"] == -1 else Stat(_kind(st["st_mode"]), st["st_size"])
            except (RuntimeError, ValueError):
                s = MISSING
            self._stat[(fs, path)] = s
        return self._stat[(fs, path)]

    def _readlink(self, fs: str, path: str) -> str | None:
        try:
            return str(self.g.readlink(self._mounts[fs] + path))
        except (RuntimeError, UnicodeDecodeError):
            return None

    def _resolve(self, fs: str, path: str, follow_last: bool = True) -> str | None:
        """The path inside ``fs`` that ``path`` names, symlinks followed within ``fs``
        (``..`` stops at its root); None if it does not exist or loops."""
        todo = [p for p in path.split("/") if p and p != "."]
        todo.reverse()
        cur, hops = "/", 0
        while todo:
            comp = todo.pop()
            if comp == "..":
                cur = posixpath.dirname(cur)
                continue
            cand = _join(cur, comp)
            st = self._get(fs, cand)
            if st is MISSING:
                return None
            if st.kind == "symlink" and (todo or follow_last):
                hops += 1
                target = self._readlink(fs, cand)
                if target is None or hops > MAX_SYMLINKS:
                    return None
                if target.startswith("/"):
                    cur = "/"
                todo.extend(reversed([p for p in target.split("/") if p and p != "."]))
                continue
            if todo and st.kind != "dir":
                return None
            cur = cand
        return cur

    def _entry_facts(self, fs: str, path: str, st: Stat, facts: FactSet) -> None:
        if st is MISSING:
            facts["Missing"].add((fs, path))
            return
        facts["Entry"].add((fs, path, st.kind))
        if st.kind == "file":
            facts["FileSize"].add((fs, path, st.size))

    def _answer_paths(self, wants: FactSet, facts: FactSet) -> None:
        by_fs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for name in _PATH_WANTS:
            for t in wants.get(name, ()):
                fs, path = str(t[0]), str(t[1])
                if fs in self._mounts:
                    by_fs[fs][name].add(_norm(path))
        for fs, asked in by_fs.items():
            every = set().union(*asked.values())
            self._lstat_many(fs, every)
            links = []
            for path in every:
                st = self._stat[(fs, path)]
                self._entry_facts(fs, path, st, facts)
                if st.kind == "symlink":
                    links.append(path)
            self._symlink_facts(fs, links, facts)
            for path in asked.get("WantContent", ()):
                self._content(fs, path, facts)
            for path in asked.get("WantArch", ()):
                self._arch(fs, path, facts)
            for path in asked.get("WantBlob", ()):
                self._blob(fs, path, facts)
        for t in wants.get("WantPeResource", ()):
            if str(t[0]) in self._mounts:
                self._pe_resource(str(t[0]), str(t[1]), int(t[2]), int(t[3]), facts)

    def _symlink_facts(self, fs: str, links: Iterable[str], facts: FactSet) -> None:
        by_dir: dict[str, list[str]] = defaultdict(list)
        for p in links:
            by_dir[posixpath.dirname(p)].append(posixpath.basename(p))
        for d, names in by_dir.items():
            real = self._resolve(fs, d)
            if real is None:
                continue
            try:
                targets = self.g.readlinklist(self._mounts[fs] + real, names)
            except (RuntimeError, UnicodeDecodeError):
                targets = [self._readlink(fs, _join(real, n)) or "" for n in names]
            for name, target in zip(names, targets, strict=True):
                if target:
                    facts["Symlink"].add((fs, _join(d, name), target))

    def _target(self, fs: str, path: str) -> tuple[str, Stat] | None:
        """The resolved path and lstat of what ``path`` leads to, symlinks followed."""
        real = self._resolve(fs, path)
        return None if real is None else (real, self._get(fs, real))

    def _content(self, fs: str, path: str, facts: FactSet) -> None:
        found = self._target(fs, path)
        if found is None or found[1].kind != "file":
            return
        real, st = found
        data = b""
        if st.size > 0:
            try:
                data = self.g.pread(self._mounts[fs] + real, min(st.size, CONTENT_LIMIT), 0)
            except RuntimeError as e:
                self.warn(f"{fs}:{path}: cannot read: {first_line(e)}")
                return
        facts["Content"].add((fs, path, _text(data)))
        if st.size > CONTENT_LIMIT:
            facts["ContentTruncated"].add((fs, path))

    def _blob(self, fs: str, path: str, facts: FactSet) -> None:
        found = self._target(fs, path)
        if found is None or found[1].kind != "file" or found[1].size > BLOB_LIMIT:
            return
        data = b""
        if found[1].size > 0:
            try:
                data = self.g.pread(self._mounts[fs] + found[0], found[1].size, 0)
            except RuntimeError as e:
                self.warn(f"{fs}:{path}: cannot read: {first_line(e)}")
                return
        facts["Blob"].add((fs, path, base64.b64encode(data).decode("ascii")))

    def _pe_resource(self, fs: str, path: str, kind: int, name: int, facts: FactSet) -> None:
        found = self._target(fs, path)
        if found is None or found[1].kind != "file":
            return
        guest_path, size = self._mounts[fs] + found[0], found[1].size

        def read(offset: int, count: int) -> bytes:
            count = min(count, size - offset)
            return self.g.pread(guest_path, count, offset) if count > 0 else b""

        try:
            data = resources.pe_resource(read, kind, name)
        except resources.PeError as e:  # not a PE file, or a damaged one: no such resource
            self.warn(f"{fs}:{path}: no resource {kind}/{name}: {e}")
            return
        except RuntimeError as e:
            self.warn(f"{fs}:{path}: cannot read: {first_line(e)}")
            return
        if data is not None:
            b64 = base64.b64encode(data).decode("ascii")
            facts["PeResource"].add((fs, path, kind, name, b64))

    def _arch(self, fs: str, path: str, facts: FactSet) -> None:
        found = self._target(fs, path)
        if found is None or found[1].kind != "file":
            facts["Missing"].add((fs, path))
            return
        try:
            header = self.g.pread(self._mounts[fs] + found[0], binaries.HEADER_BYTES, 0)
            arch = binaries.binary_arch(header) or self.g.file_architecture(
                self._mounts[fs] + found[0]
            )
        except RuntimeError as e:
            self.warn(f"{fs}:{path}: no architecture: {first_line(e)}")
            return
        facts["BinaryArch"].add((fs, path, arch))

    # ---- directories ----

    def _answer_dirs(self, wants: Iterable[Fact], facts: FactSet) -> None:
        for t in sorted(wants):
            fs, path = str(t[0]), _norm(str(t[1]))
            if fs not in self._mounts:
                continue
            real = self._resolve(fs, path)
            if real is None or self._get(fs, real).kind != "dir":
                facts["Missing"].add((fs, path))
                continue
            children = self._list(fs, real)
            files = [n for n, k in children.items() if k == "file"]
            links = [n for n, k in children.items() if k == "symlink"]
            sizes = self.g.lstatnslist(self._mounts[fs] + real, files) if files else []
            for name, st in zip(files, sizes, strict=True):
                self._stat[(fs, _join(real, name))] = Stat("file", st["st_size"])
            for name, kind in children.items():
                child = _join(path, name)
                st = self._stat.get((fs, _join(real, name)), Stat(kind, 0))
                self._stat.setdefault((fs, child), st)
                self._entry_facts(fs, child, st, facts)
            self._symlink_facts(fs, [_join(path, n) for n in links], facts)
            facts["Listed"].add((fs, path))

    def _list(self, fs: str, real: str) -> dict[str, str]:
        """name -> kind for each child of a resolved directory."""
        try:
            return {
                e["name"]: _READDIR_KINDS.get(e["ftyp"], "other")
                for e in self.g.readdir(self._mounts[fs] + real)
                if e["name"] not in (".", "..")
            }
        except UnicodeDecodeError:
            pass  # a name that is not UTF-8: list the raw names, stat the readable ones
        local = self._tmp / "ls0"
        self.g.ls0(self._mounts[fs] + real, str(local))
        raw = [n for n in local.read_bytes().split(b"\0") if n and n not in (b".", b"..")]
        good = [n.decode() for n in raw if _utf8(n)]
        stats = self.g.lstatnslist(self._mounts[fs] + real, good) if good else []
        kinds = {n: _kind(st["st_mode"]) for n, st in zip(good, stats, strict=True)}
        for n in raw:
            if not _utf8(n):
                kinds[_text(n)] = "other"
                self.warn(f"{fs}:{real}: file name is not UTF-8: {_text(n)!r}")
        return kinds

    # ---- registry ----

    def _hive(self, fs: str, hive: str) -> Path | str:
        """A local copy of a hive (downloaded once), or why there is none."""
        if (fs, hive) not in self._hives:
            self._hives[(fs, hive)] = self._download_hive(fs, hive)
        return self._hives[(fs, hive)]

    def _download_hive(self, fs: str, hive: str) -> Path | str:
        if fs not in self._mounts:
            return "filesystem not mounted"
        mnt = self._mounts[fs]
        try:
            # Windows paths are case-insensitive; find the name as stored.
            real = self.g.case_sensitive_path(mnt + _norm(hive))
        except RuntimeError:
            return "hive not found"
        found = self._target(fs, real[len(mnt) :])
        if found is None:
            return "hive not found"
        if found[1].kind != "file" or found[1].size > DOWNLOAD_LIMIT:
            return "hive is not a regular file of a sensible size"
        local = self._tmp / f"hive{len(self._hives)}"
        try:
            self.g.download(mnt + found[0], str(local))
        except RuntimeError as e:
            return f"cannot download hive: {first_line(e)}"
        return local

    def _answer_registry(self, wants: Iterable[Fact], facts: FactSet) -> None:
        by_hive: dict[tuple[str, str], list[str]] = defaultdict(list)
        for t in wants:
            by_hive[(str(t[0]), str(t[1]))].append(str(t[2]))
        for (fs, hive), keys in sorted(by_hive.items()):
            local = self._hive(fs, hive)
            if isinstance(local, str):
                facts["HiveError"].add((fs, hive, local))
                continue
            # In a child process: hivex may crash on a damaged hive (collectors/isolate.py).
            read = isolate.read_keys_isolated(
                local, fs, hive, keys, timeout=self._deadline.remaining()
            )
            merge(facts, read)

    # ---- packages ----

    def _answer_packages(self, wants: Iterable[Fact], facts: FactSet) -> None:
        for t in sorted(wants):
            fs, kind, path = (str(c) for c in t[:3])
            try:
                records = self._package_records(fs, kind, path)
            except (RuntimeError, ValueError, OSError, tarfile.TarError) as e:
                # A damaged or capped database: a warning, and the records it still gave.
                records = e.records if isinstance(e, packages.PackageDbError) else []
                message = first_line(e)
                facts["PackageDbError"].add((fs, kind, path, message))
                self.warn(f"{fs}:{path}: {kind} database: {message}")
            merge(facts, packages.records_to_facts(fs, kind, records))

    def _fetch(self, fs: str, path: str, local: Path, partial: bool = False) -> int | None:
        """Download a regular file of the guest, at most packages.DB_LIMIT bytes of it (with
        ``partial``; without, a larger file is a PackageDbError); its size, or None if there
        is no such file."""
        found = self._target(fs, path)
        if found is None or found[1].kind != "file":
            return None
        size, limit = found[1].size, packages.DB_LIMIT
        if size > limit and not partial:
            raise packages.PackageDbError(f"{path} is larger than {limit} bytes ({size})")
        if size > limit:
            self.g.download_offset(self._mounts[fs] + found[0], str(local), 0, limit)
        else:
            self.g.download(self._mounts[fs] + found[0], str(local))
        return size

    def _capped_tar_out(self, directory: str, tar: Path, excludes: list[str]) -> bool:
        """``tar_out`` of a guest directory, cancelled once the tar passes packages.DB_LIMIT
        bytes (checked every 50 ms); False if it was cut."""
        stop, cut = threading.Event(), threading.Event()

        def watch() -> None:
            while not stop.wait(0.05):
                if tar.exists() and tar.stat().st_size > packages.DB_LIMIT:
                    cut.set()
                    self.g.user_cancel()
                    return

        watcher = threading.Thread(target=watch, name="tar-out-cap", daemon=True)
        watcher.start()
        try:
            self.g.tar_out(directory, str(tar), excludes=excludes)
        except RuntimeError:
            if not cut.is_set():
                raise
        finally:
            stop.set()
            watcher.join()
        return not cut.is_set()

    def _package_records(self, fs: str, kind: str, path: str) -> list[packages.Record]:
        if fs not in self._mounts:
            raise ValueError("filesystem not mounted")
        work = Path(tempfile.mkdtemp(dir=self._tmp))
        if kind in ("dpkg", "apk"):
            size = self._fetch(fs, path, work / "db", partial=True)
            if size is None:
                raise ValueError(f"{path} not found")
            with (work / "db").open("rb") as f:
                data = f.read(packages.DB_LIMIT)
            if kind == "dpkg":
                return packages.parse_dpkg_status(data, size)
            return packages.parse_apk_installed(data, size)
        if kind == "rpm":
            if self._fetch(fs, _join(path, "rpmdb.sqlite"), work / "rpmdb.sqlite") is not None:
                # The WAL, not the guest's -shm (an index sqlite would trust; it rebuilds it).
                self._fetch(fs, _join(path, "rpmdb.sqlite-wal"), work / "rpmdb.sqlite-wal")
                return packages.read_rpm_sqlite(work / "rpmdb.sqlite")
            if self._fetch(fs, _join(path, "Packages"), work / "Packages") is not None:
                with (work / "Packages").open("rb") as f:
                    return packages.read_rpm_bdb(f.read(packages.DB_LIMIT))
            raise ValueError(f"no rpmdb.sqlite or Packages in {path}")
        if kind == "pacman":
            real = self._resolve(fs, path)
            if real is None or self._get(fs, real).kind != "dir":
                raise ValueError(f"{path} not found")
            tar = work / "local.tar"
            complete = self._capped_tar_out(self._mounts[fs] + real, tar, ["files", "mtree"])
            return packages.read_pacman_tar(tar, complete)
        raise ValueError(f"unknown package database kind {kind!r}")
