"""The appliance's volume layer: disks, partitions, md RAID, LUKS, LVM and filesystems as
libguestfs sees them (the start facts, docs/facts.md), and the read-only mounts at ``/fs/N``.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from guestinspect.collectors import partitions, ufs
from guestinspect.collectors.appliance import call_or, first_line
from guestinspect.collectors.factset import FactSet
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.volumes.base import (
    NOT_MOUNTABLE,
    leave_locked,
    luks_map_name,
    partition_may_hold_fs,
)
from guestinspect.collectors.volumes.probe import lvm_uuid


def _hex(uuid: str) -> str:
    """A UUID's hex digits only, lower case (md_detail's ``a:b:c:d`` is blkid's ``a-b-…``)."""
    return "".join(c for c in uuid.lower() if c in "0123456789abcdef")


class ApplianceVolumes:
    """The volumes of the disks of the appliance of handle ``g``, probed once."""

    def __init__(self, g: Any, keys: KeySpec, warn: Callable[[str], None]) -> None:
        self.g, self._keys, self.warn = g, keys, warn
        #: filesystem -> its mount directory in the appliance, once mount_all() ran
        self.mounts: dict[str, str] = {}
        self._holders: set[str] = set()  # devices that are PVs, md members or empty
        self._mapped: list[str] = []  # opened LUKS containers (their filesystems are probed)
        self._devices: list[str] = []
        self._parts: list[str] = []
        self._mds: list[str] = []
        self._lvs: list[str] | None = None
        self._has_lvm = False
        self._blkid: dict[str, dict[str, str]] = {}
        self._part_info: dict[str, partitions.Part] = {}

    def devices(self, facts: FactSet) -> None:
        """Disk, Partition…, MdArray and MdMember facts."""
        self._disk_facts(facts)
        self._md_facts(facts)

    def filesystems(self, facts: FactSet) -> dict[str, str]:
        """LUKS, LVM and Filesystem/FsUuid/… facts; filesystem -> type."""
        fs_types = self._luks_facts(facts)
        self._lvm_facts(facts)
        self._fs_facts(fs_types, facts)
        return fs_types

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
        """What libguestfs would look at for a filesystem: not a partitioned device, nor a
        partition it does not look into (volumes/base.partition_may_hold_fs)."""
        if dev in self._part_info:
            return partition_may_hold_fs(self._part_info[dev])
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
                mapname = luks_map_name(uuid, len(seen))
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
                    leave_locked(facts, self.warn, dev, tried)
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
        pvs = {lvm_uuid(p["pv_uuid"]): p["pv_name"] for p in g.pvs_full()}
        # LVM's own PV names are not always the appliance's (seen: /dev/sdb2 for /dev/sda2);
        # the device whose blkid says it is that PV is.
        pvs.update(
            (lvm_uuid(b["UUID"]), dev)
            for dev, b in self._blkid.items()
            if b.get("TYPE") == "LVM2_member" and b.get("UUID")
        )
        lvs = {lvm_uuid(lv["lv_uuid"]): lv["lv_name"] for lv in g.lvs_full()}
        visible = set(self._lv_list())
        by_name: dict[str, list[str]] = defaultdict(list)
        for uuid, name in lvs.items():
            by_name[name].append(uuid)
        for vg in vgs:
            name = vg["vg_name"]
            facts["LvmVg"].add((name, lvm_uuid(vg["vg_uuid"])))
            for uuid in map(lvm_uuid, g.vgpvuuids(name)):
                if uuid in pvs:
                    facts["LvmPv"].add((pvs[uuid], name))
            mine = [lv for lv in visible if lv.startswith(f"/dev/{name}/")]
            if all(len(by_name[lv.rsplit("/", 1)[1]]) == 1 for lv in mine):
                uuids = [by_name[lv.rsplit("/", 1)[1]][0] for lv in mine]
            else:  # an LV name used in two VGs: ask which UUIDs are this VG's
                uuids = list(map(lvm_uuid, g.vglvuuids(name)))
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

    def mount_all(self, fs_types: dict[str, str], facts: FactSet) -> None:
        g = self.g
        mountable = sorted(fs for fs, vfs in fs_types.items() if vfs not in NOT_MOUNTABLE)
        if not mountable:
            return
        g.mkmountpoint("/fs")
        dirs = {fs: f"/fs/{i}" for i, fs in enumerate(mountable)}
        for d in dirs.values():
            g.mkmountpoint(d)
        for fs, d in dirs.items():
            error = self.mount(fs, fs_types[fs], d)
            if error is None:
                self.mounts[fs] = d
                facts["Mounted"].add((fs,))
            else:
                facts["MountFailed"].add((fs, error))
                self.warn(f"{fs}: cannot mount: {error}")

    def mount(self, fs: str, vfs: str, directory: str) -> str | None:
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
