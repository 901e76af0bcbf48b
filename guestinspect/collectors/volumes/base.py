"""What a volume layer gives: start facts and block devices."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from guestinspect.collectors import partitions
from guestinspect.collectors.base import FactSet

#: Filesystem types (blkid's) that are not mounted, whichever backend reads the guest: not
#: filesystems (containers, swap) or not recognised.
NOT_MOUNTABLE = frozenset({"swap", "unknown", "crypto_LUKS", "LVM2_member", "linux_raid_member",
                           ""})
#: GPT partition types libguestfs never looks into: Windows LDM metadata and data, Microsoft
#: reserved, Windows snapshot.
NO_FS_GPT = frozenset({
    "5808C8AA-7E8F-42E0-85D2-E1E90434CFB3",
    "AF9B60A0-1431-4F62-BC68-3311714A69AD",
    "E3C9E316-0B5C-4DB8-817D-F92DF00215AE",
    "CADDEBF1-4400-4DE8-B103-12117DCF3CCF",
})


def partition_may_hold_fs(p: partitions.Part) -> bool:
    """Whether libguestfs would look for a filesystem in the partition ``p``: not an extended
    partition, not an LDM/Microsoft reserved/snapshot partition, nor a BSD slice whose
    disklabel was decoded (its first partition starts where it does: the same filesystem would
    be seen twice)."""
    return (p.mbr_type not in partitions.MBR_EXTENDED and p.gpt_type not in NO_FS_GPT
            and not p.disklabel)



def luks_map_name(uuid: str, number: int) -> str:
    """The device-mapper name of an opened LUKS container, whichever backend opens it:
    ``luks-UUID``, or ``luksN`` without a UUID (N: how many containers were seen so far)."""
    return f"luks-{uuid}" if uuid else f"luks{number}"


def leave_locked(facts: FactSet, warn: Callable[[str], None], dev: str, tried: bool) -> None:
    """The LUKS container ``dev`` left closed: ``LuksLocked`` and a warning (``tried``: keys
    were tried and none opened it)."""
    reason = "wrong key" if tried else "no key"
    facts.setdefault("LuksLocked", set()).add((dev, reason))
    warn(f"{dev}: LUKS container left closed ({reason})")


class BlockDevice(Protocol):
    """A read-only block device (a disk, a partition, an LV, an opened LUKS container),
    file-like so that the libyal parsers can open it (``open_file_object``)."""

    def read(self, size: int = -1) -> bytes: ...

    def seek(self, offset: int, whence: int = 0) -> int: ...

    def tell(self) -> int: ...

    def get_size(self) -> int: ...

    def pread(self, offset: int, size: int) -> bytes:
        """At most ``size`` bytes from ``offset`` (the position is left alone)."""
        ...


@dataclass
class Volumes:
    """What the volume layer found in one guest's disks."""

    #: The start facts (docs/facts.md), named as the appliance names devices.
    facts: FactSet = field(default_factory=dict)
    #: filesystem device name -> its block device, for every filesystem found.
    devices: dict[str, BlockDevice] = field(default_factory=dict)
    #: device name -> why this volume layer cannot read it (``md RAID``, ``btrfs`` …): the
    #: appliance can; under ``--backend auto`` it is launched for them.
    unreadable: dict[str, str] = field(default_factory=dict)
    #: warnings (one line each).
    warnings: list[str] = field(default_factory=list)
