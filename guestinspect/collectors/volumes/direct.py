"""The direct volume layer: a guest's disks read in-process (no VM, nothing mounted on the
host), giving the start facts the appliance gives, named as the appliance names devices.

    with open_volumes(disks, format, keys, warn) as volumes:   # a DirectVolumes
        volumes.facts, volumes.devices, volumes.unreadable, volumes.warnings

:func:`open_volumes` returns a :class:`DirectVolumes`: what it opened (image files, libyal
handles) stays open for the block devices in ``devices`` to read, until ``close()`` (or the
end of the ``with``).

How each start fact is found, in the appliance's terms (``ImageCollector``, collectors/image.py):

- ``/dev/sda``, ``/dev/sdb`` … are the disks in the order given (``Disk``), each opened
  read-only by :mod:`.images` (raw, qcow2 and its backing chain, vmdk, vhd, vhdx);
- the partition table is decoded by :func:`partitions.read_table` (the appliance's decoder),
  and each partition is a slice of its disk (``/dev/sda1`` …);
- each device that can hold a filesystem (not a partitioned disk, not an extended partition,
  not an LDM/MSR/snapshot GPT partition, not a decoded BSD slice) is probed by :mod:`.probe`,
  which gives blkid's ``TYPE``, ``UUID``, ``LABEL`` and ``VERSION``;
- LVM2 physical volumes are read by pyvslvm (:mod:`.lvm`: ``/dev/VG/LV``), LUKS containers
  are opened with the ``--key`` options by :mod:`.luks` (``/dev/mapper/luks-<UUID>``), and
  what they hold is probed in turn (LVM inside LUKS, LUKS inside LVM), as the appliance
  rescans after opening a container.

What the appliance reads and this layer does not go into ``unreadable`` (device -> reason):
md RAID members (the arrays are assembled by the appliance's kernel), btrfs (its subvolumes),
and every filesystem type without a direct reader (ufs …); their ``Filesystem``, ``FsUuid`` …
facts are still given where the probe sees them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from guestinspect.collectors import partitions
from guestinspect.collectors.base import FactSet
from guestinspect.collectors.volumes import luks, lvm
from guestinspect.collectors.volumes.base import (
    NOT_MOUNTABLE,
    BlockDevice,
    Volumes,
    leave_locked,
    luks_map_name,
    partition_may_hold_fs,
)
from guestinspect.collectors.volumes.images import Slice, open_image
from guestinspect.collectors.volumes.probe import ProbeError, Tags, probe
from guestinspect.errors import ImageError

if TYPE_CHECKING:
    from guestinspect.collectors.keys import KeySpec

Warn = Callable[[str], None]

#: The filesystem types the direct backend reads (backends/direct_fs.READABLE_TYPES).
DIRECT_TYPES = frozenset({"ext2", "ext3", "ext4", "xfs", "ntfs", "vfat"})
#: Rounds of opening containers inside containers at most (LUKS in LVM in LUKS …).
MAX_ROUNDS = 8


@dataclass
class DirectVolumes(Volumes):
    """Volumes whose block devices read from images opened in-process: ``close()`` them."""

    #: disk name -> its image format as read (raw, qcow2, vmdk, vhd, vhdx).
    formats: dict[str, str] = field(default_factory=dict)
    stack: ExitStack = field(default_factory=ExitStack)

    def close(self) -> None:
        self.devices.clear()
        self.stack.close()

    def __enter__(self) -> DirectVolumes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def disk_name(index: int) -> str:
    """The appliance's name of the disk added ``index``-th: sda … sdz, sdaa …"""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return f"/dev/sd{letters}"


class _Scan:
    """One pass over a guest's disks, filling a DirectVolumes."""

    def __init__(self, vols: DirectVolumes, keys: KeySpec, warn: Warn) -> None:
        self.vols, self.keys, self._warn = vols, keys, warn
        self.facts: FactSet = defaultdict(set)
        self.devs: dict[str, BlockDevice] = {}  # every block device by its name
        self.block: list[str] = []  # disks and partitions, in the appliance's order
        self.partitioned: set[str] = set()
        self.part_info: dict[str, partitions.Part] = {}
        self.tags: dict[str, Tags] = {}
        self.lvm = lvm.LvmScan(vols.stack, self.warn)
        self.mapped: list[str] = []

    def warn(self, message: str) -> None:
        self.vols.warnings.append(message)
        self._warn(message)

    # ---- disks and partitions ----

    def add_disk(self, index: int, path: Path, format: str | None) -> None:
        try:
            self._add_disk(index, path, format)
        except OSError as e:  # an image library's read error (a damaged image)
            lines = str(e).strip().splitlines()
            raise ImageError(f"{path}: cannot read: {lines[0] if lines else e}") from e

    def _add_disk(self, index: int, path: Path, format: str | None) -> None:
        name = disk_name(index)
        fmt, dev = open_image(path, format, self.vols.stack)
        self.vols.formats[name] = fmt
        self.devs[name] = dev
        self.block.append(name)
        size = dev.get_size()
        self.facts["Disk"].add((name, index, size))
        if size < 512:
            return
        head = dev.pread(0, min(size, partitions.HEAD_BYTES))
        self.facts["MbrSignature"].add((name, head[0x1B8:0x1BC].hex()))
        try:
            table = partitions.read_table(head, lambda n, off: dev.pread(off, n))
        except partitions.PartitionTableError as e:  # the appliance asks parted
            self.warn(f"{name}: damaged partition table ({e}): left to the appliance")
            self.vols.unreadable[name] = f"damaged partition table ({e})"
            self.partitioned.add(name)  # not a filesystem either: what it holds is unknown
            return
        if table is None or not table.parts:
            if table is not None:
                self.facts["PartitionTable"].add((name, table.type))
            return
        self.facts["PartitionTable"].add((name, table.type))
        self.partitioned.add(name)
        for p in table.parts:
            self._add_partition(name, dev, table.type, p)

    def _add_partition(self, disk: str, dev: BlockDevice, ptype: str,
                       p: partitions.Part) -> None:
        part = f"{disk}{p.num}"
        self.part_info[part] = p
        self.devs[part] = Slice(dev, p.start, p.size)
        self.block.append(part)
        self.facts["Partition"].add((part, disk, p.num, p.start, p.size))
        if ptype == "msdos":
            if p.mbr_type is not None:
                self.facts["PartitionMbrType"].add((part, p.mbr_type))
            if p.letter:
                self.facts["PartitionDisklabel"].add((part, p.slice, p.letter, p.duid))
            return
        for rel, value in (("PartitionGptType", p.gpt_type), ("PartitionGptGuid", p.gpt_guid),
                           ("PartitionName", p.name)):
            if value:
                self.facts[rel].add((part, value))

    def can_hold_fs(self, dev: str) -> bool:
        """As the appliance's ``_can_hold_fs``."""
        if dev in self.part_info:
            return partition_may_hold_fs(self.part_info[dev])
        return dev not in self.partitioned

    # ---- probing ----

    def probe(self, dev: str) -> Tags:
        """blkid's tags for a device, probed once."""
        if dev not in self.tags:
            block = self.devs[dev]
            try:
                self.tags[dev] = probe(block.pread, block.get_size())
            except ProbeError as e:
                self.warn(f"{dev}: cannot probe: {e}")
                self.tags[dev] = {}
        return self.tags[dev]

    def _lvs(self) -> list[str]:
        """The LVs of the VGs whose PVs are all known (every device probed for them)."""
        members: dict[str, str] = {}
        for dev in [*self.block, *self.lvm.lv_names(), *self.mapped]:
            if self.can_hold_fs(dev):
                tags = self.probe(dev)
                if tags.get("TYPE") == "LVM2_member" and tags.get("UUID"):
                    members[tags["UUID"]] = dev
        self.devs.update(self.lvm.scan(members, self.devs))
        return self.lvm.lv_names()

    # ---- the rounds ----

    def filesystems(self) -> dict[str, str]:
        """Probe, open LUKS containers and VGs, again while that opens anything; the
        filesystems seen then (as the appliance's ``_luks_facts``)."""
        seen: set[str] = set()
        fs_types: dict[str, str] = {}
        for _ in range(MAX_ROUNDS):
            fs_types = {}
            groups: tuple[Callable[[], list[str]], ...] = (
                lambda: list(self.block), self._lvs, lambda: list(self.mapped))
            for group in groups:
                for dev in group():
                    if dev in fs_types or dev in seen or not self.can_hold_fs(dev):
                        continue
                    vfs = self.probe(dev).get("TYPE", "")
                    if vfs == "linux_raid_member":
                        self.vols.unreadable[dev] = "md RAID member (assembled by the appliance)"
                    if not vfs.endswith("_member"):
                        fs_types[dev] = vfs or "unknown"
            todo = [d for d, t in fs_types.items() if t == "crypto_LUKS" and d not in seen]
            if not todo:
                return self._without_unopened(fs_types)
            opened = False
            for dev in todo:
                seen.add(dev)
                opened = self._open_luks(dev, len(seen)) or opened
            if not opened:
                return self._without_unopened(fs_types)
        self.warn(f"containers nested more than {MAX_ROUNDS} deep: the innermost left unread")
        return self._without_unopened(fs_types)

    def _without_unopened(self, fs_types: dict[str, str]) -> dict[str, str]:
        """Without the LUKS containers this layer cannot open (the appliance would open
        them, and then name no filesystem there): so that they are seen as still to read."""
        return {d: t for d, t in fs_types.items()
                if not (t == "crypto_LUKS" and d in self.vols.unreadable)}

    def _open_luks(self, dev: str, number: int) -> bool:
        uuid = self.probe(dev).get("UUID", "")
        self.facts["LuksContainer"].add((dev, uuid))
        mapname = luks_map_name(uuid, number)
        tried = False
        for key in self.keys.candidates(dev, uuid):
            tried = True
            try:
                opened = luks.open_luks(self.devs[dev], key, self.vols.stack)
            except luks.LuksError as e:  # the appliance's cryptsetup may open it
                self.warn(f"{dev}: LUKS container not opened by the direct backend ({e})")
                self.vols.unreadable[dev] = f"LUKS: {e}"
                return False
            if opened is None:
                continue
            name = f"/dev/mapper/{mapname}"
            self.facts["LuksOpened"].add((dev, name))
            self.devs[name] = opened
            self.mapped.append(name)
            return True
        leave_locked(self.facts, self.warn, dev, tried)
        return False

    # ---- facts ----

    def fs_facts(self, fs_types: dict[str, str]) -> None:
        for fs, vfs in fs_types.items():
            self.facts["Filesystem"].add((fs, vfs))
            self.vols.devices[fs] = self.devs[fs]
            if vfs == "unknown":
                continue
            info = self.probe(fs)
            for rel, tag in (("FsUuid", "UUID"), ("FsLabel", "LABEL"), ("FsVersion", "VERSION")):
                if info.get(tag):
                    self.facts[rel].add((fs, info[tag]))
            if vfs == "btrfs":
                self.vols.unreadable[fs] = "btrfs (its subvolumes need the appliance)"
            elif vfs not in NOT_MOUNTABLE and vfs not in DIRECT_TYPES:
                self.vols.unreadable[fs] = f"{vfs}: no direct reader"

    def lvm_facts(self) -> None:
        pvs = {tags["UUID"]: dev for dev, tags in self.tags.items()
               if tags.get("TYPE") == "LVM2_member" and tags.get("UUID")}
        for uuid, dev in sorted(pvs.items(), key=lambda p: p[1]):
            if not self.lvm.has_pv(uuid):
                self.warn(f"{dev}: LVM physical volume of a volume group not read "
                          "(another of its physical volumes is missing)")
        for rel, tuples in self.lvm.facts(pvs).items():
            self.facts[rel].update(tuples)


def open_volumes(disks: Sequence[Path], format: str | None, keys: KeySpec,
                 warn: Warn) -> DirectVolumes:
    """The start facts and block devices of the guest whose disks are ``disks`` (in order:
    /dev/sda, /dev/sdb …), opened read-only; ``format`` is every disk's (None: found by its
    magic). Each warning is given to ``warn`` and kept in ``warnings``. Raises ImageError
    (``images.UnsupportedImage`` for an image only the appliance reads). Close the result."""
    vols = DirectVolumes()
    try:
        scan = _Scan(vols, keys, warn)
        for index, path in enumerate(disks):
            scan.add_disk(index, Path(path), format)
        fs_types = scan.filesystems()
        scan.lvm_facts()
        scan.fs_facts(fs_types)
    except BaseException:
        vols.close()
        raise
    vols.facts = {name: tuples for name, tuples in scan.facts.items() if tuples}
    return vols
