"""An xfs filesystem whose UUID was changed after mkfs, as libfsxfs can read it.

``xfs_admin -U`` (and image builders and cloning tools that give a copy a new UUID) sets the
``META_UUID`` incompatible feature of a v5 superblock: the metadata blocks keep carrying the
original UUID, kept in ``sb_meta_uuid``. Linux mounts such a filesystem; libfsxfs (20260901)
refuses every incompatible feature it does not know and does not know this one, although it
checks no metadata block's UUID. :func:`for_libfsxfs` gives it the device as read with that
bit cleared in every allocation group's superblock (each group starts with a copy); nothing is
written anywhere.

The superblock fields read (big-endian): ``sb_magicnum`` "XFSB" at 0, ``sb_blocksize`` at 4,
``sb_agblocks`` at 84, ``sb_versionnum`` at 100 (version 5 in its low 4 bits),
``sb_features_incompat`` at 216.
"""

import struct

from guestinspect.collectors.volumes.base import BlockDevice

META_UUID = 0x4
_INCOMPAT = 216
_MAGIC = b"XFSB"
#: The smallest allocation group xfs allows (16 MiB): fewer patches than reads, whatever
#: the superblock says.
_MIN_AG_BYTES = 16 << 20


def _field(data: bytes | bytearray, offset: int) -> int:
    return int(struct.unpack_from(">I", data, offset)[0])


def ag_bytes(superblock: bytes) -> int | None:
    """The size of an allocation group in bytes if ``superblock`` is a v5 xfs superblock
    with META_UUID set; else None (nothing to hide)."""
    if len(superblock) < _INCOMPAT + 4 or superblock[:4] != _MAGIC:
        return None
    version = struct.unpack_from(">H", superblock, 100)[0] & 0xF
    if version != 5 or not _field(superblock, _INCOMPAT) & META_UUID:
        return None
    size = _field(superblock, 4) * _field(superblock, 84)
    return size if size >= _MIN_AG_BYTES else None


class WithoutMetaUuid:
    """``dev`` as read with META_UUID cleared in the superblock at the start of every
    allocation group (a BlockDevice)."""

    def __init__(self, dev: BlockDevice, group: int) -> None:
        self._dev = dev
        self._group = group
        self._pos = 0

    def pread(self, offset: int, size: int) -> bytes:
        data = self._dev.pread(offset, size)
        start = -(-offset // self._group) * self._group  # the first group start >= offset
        if start >= offset + len(data):
            return data
        out = bytearray(data)
        for group in range(start, offset + len(out), self._group):
            i = group - offset
            if out[i:i + 4] == _MAGIC and i + _INCOMPAT + 4 <= len(out):
                struct.pack_into(">I", out, i + _INCOMPAT,
                                 _field(out, i + _INCOMPAT) & ~META_UUID)
        return bytes(out)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(0, self.get_size() - self._pos)
        data = self.pread(self._pos, size)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, self.get_size())[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def get_size(self) -> int:
        return self._dev.get_size()


def for_libfsxfs(dev: BlockDevice) -> BlockDevice:
    """``dev``, or a view of it without META_UUID when its superblock has that feature."""
    group = ag_bytes(dev.pread(0, 512))
    return dev if group is None else WithoutMetaUuid(dev, group)
