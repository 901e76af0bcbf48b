"""LVM2 volume groups read with pyvslvm (libvslvm): each VG whose physical volumes are all
known is opened once, and its logical volumes become block devices named as the appliance
names them, ``/dev/VG/LV``.

libvslvm reads the VG metadata from the first PV's metadata area; the PVs it lists are
matched to devices by their UUID (the one the probe read from each PV's label), as the
appliance matches LVM's own PV names to its devices by blkid's UUID.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field

from guestinspect.collectors.base import FactSet
from guestinspect.collectors.volumes.base import BlockDevice
from guestinspect.collectors.volumes.images import LibraryDevice
from guestinspect.collectors.volumes.probe import lvm_uuid


@dataclass
class VolumeGroup:
    name: str
    uuid: str
    pvs: list[str]  # PV UUIDs, in LVM form
    lvs: dict[str, str] = field(default_factory=dict)  # /dev/VG/LV -> LV UUID


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0].split(". ")[0] if lines else type(e).__name__


class LvmScan:
    """The VGs opened so far, over the PVs found so far."""

    def __init__(self, stack: ExitStack, warn: Callable[[str], None]) -> None:
        self._stack, self._warn = stack, warn
        self.vgs: list[VolumeGroup] = []
        self._used: set[str] = set()  # PV UUIDs of opened (or failed) VGs
        self._failed: set[str] = set()

    def has_pv(self, uuid: str) -> bool:
        """Whether the PV ``uuid`` is in a VG read (or one that failed, with a warning)."""
        return uuid in self._used or uuid in self._failed

    def lv_names(self) -> list[str]:
        return [lv for vg in self.vgs for lv in vg.lvs]

    def scan(self, members: Mapping[str, str],
             devs: Mapping[str, BlockDevice]) -> dict[str, BlockDevice]:
        """Open the VGs of the PVs ``members`` (PV UUID -> device name) not opened yet whose
        PVs are all there; their LVs' block devices by name."""
        import pyvslvm

        out: dict[str, BlockDevice] = {}
        for uuid, dev in members.items():
            if uuid in self._used or uuid in self._failed:
                continue
            h = pyvslvm.handle()
            try:
                h.open_file_object(devs[dev])
                self._stack.callback(h.close)
                ids = [lvm_uuid(pv.identifier) for pv in h.get_volume_group().physical_volumes]
                if any(i not in members for i in ids):
                    continue  # a PV not found (yet: it may be inside a LUKS container)
                h.open_physical_volume_files_as_file_objects([devs[members[i]] for i in ids])
                vg = h.get_volume_group()
                group = VolumeGroup(vg.name, lvm_uuid(vg.identifier), ids)
                for lv in vg.logical_volumes:
                    name = f"/dev/{vg.name}/{lv.name}"
                    group.lvs[name] = lvm_uuid(lv.identifier)
                    out[name] = LibraryDevice(lv, int(lv.size), keep=(h,))
            except (OSError, RuntimeError) as e:
                self._failed.add(uuid)
                self._warn(f"{dev}: cannot read its LVM volume group: {_first_line(e)}")
                continue
            self._used.update(ids)
            self.vgs.append(group)
        return out

    def facts(self, pvs: Mapping[str, str]) -> FactSet:
        """LvmVg, LvmPv, LvmLv (docs/facts.md); ``pvs``: PV UUID -> its device."""
        facts: FactSet = defaultdict(set)
        for vg in self.vgs:
            facts["LvmVg"].add((vg.name, vg.uuid))
            facts["LvmPv"].update((pvs[u], vg.name) for u in vg.pvs if u in pvs)
            for lv, uuid in vg.lvs.items():
                facts["LvmLv"].add((lv, vg.name, lv.rsplit("/", 1)[1], uuid))
        return facts
