"""What differs between the libyal filesystem libraries (pyfsext, pyfsxfs, pyfsntfs,
pyfsfat) behind one small interface, :class:`Flavour`, so that
:mod:`guestinspect.collectors.backends.direct_fs` reads all four the same way.

Each flavour answers as the Linux driver the appliance mounts the filesystem with does (the
kernel's ext4, xfs and vfat drivers, ntfs-3g), where libyal's own view differs:

- ext, xfs: ``get_sub_file_entry_by_name`` fails on an entry found by path (libfsext
  20260821: "invalid inode"), so names are looked up by path from the root, which libyal walks.
- ntfs: libfsntfs looks a path up case-insensitively (Windows' way); ntfs-3g, as the appliance
  mounts it, is case-sensitive, so a match whose stored name differs from the one asked is
  looked for again, exactly, in the directory's listing. The metadata files (``$MFT``,
  ``$Bitmap``, ``$Extend`` …: MFT records below 16) are left out of listings, as ntfs-3g does,
  and still found by name, and so are DOS 8.3 names (``PROGRA~1``), which are not listed
  either. Alternate data streams are not entries. Every reparse point is a symlink, its
  target as ntfs-3g words it (:mod:`.ntfs_links`). A system
  file that ntfs-3g reads as an Interix FIFO, socket, device or symlink (what ntfs-3g itself
  writes for them, as libguestfs's ``mkfifo`` and ``ln_s`` on NTFS do) is one here too.
- xfs: libfsxfs refuses a filesystem whose UUID was changed after mkfs (META_UUID), which
  Linux mounts: it is shown the superblocks without that bit (:mod:`.xfs_meta_uuid`).
- vfat: lookups are case-insensitive, as the kernel's vfat driver's are; there are no symlinks.

The libraries are imported on first use (``importlib``: no stubs, every attribute is Any).
"""

import importlib
import stat
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The MFT records of NTFS's metadata files: ntfs-3g leaves them out of a listing.
NTFS_FIRST_USER_RECORD = 16
_MFT_RECORD_MASK = 0xFFFF_FFFF_FFFF
#: FILE_ATTRIBUTE_DIRECTORY and FILE_ATTRIBUTE_REPARSE_POINT (NTFS, FAT)
_ATTR_HIDDEN = 0x2
_ATTR_SYSTEM = 0x4
_ATTR_DIRECTORY = 0x10
_ATTR_REPARSE_POINT = 0x400
_REPARSE_POINT_ATTRIBUTE = 0xC0
#: An MFT record holds far fewer attributes (a hostile one costs no more).
_MAX_ATTRIBUTES = 1024
#: Interix special files as ntfs-3g reads them (its INTX_FILE): an 8-byte magic, then a
#: symlink's UTF-16 target (at most PATH_MAX characters) or a device's two 64-bit numbers.
_INTX_MAGIC_SIZE = 8
_INTX_MAX_SIZE = _INTX_MAGIC_SIZE + 2 * 4096
_INTX_SYMLINK = b"IntxLNK\x01"
_INTX_DEVICES = (b"IntxCHR\x00", b"IntxBLK\x00")
_INTX_DEVICE_SIZE = _INTX_MAGIC_SIZE + 16

_MODE_KINDS = {stat.S_IFREG: "file", stat.S_IFDIR: "dir", stat.S_IFLNK: "symlink"}


def _mode_kind(entry: Any) -> str:
    return _MODE_KINDS.get(stat.S_IFMT(entry.file_mode), "other")


def _interix(entry: Any) -> tuple[str, str | None]:
    """(kind, symlink target) of a file ntfs-3g reads as an Interix special file: a FIFO or
    socket is a system file of 0 or 1 bytes (not hidden), a symlink one holding
    ``IntxLNK\\1`` and the UTF-16 target, a device ``IntxCHR``/``IntxBLK`` and two numbers."""
    flags = entry.file_attribute_flags
    if not flags & _ATTR_SYSTEM:
        return "file", None
    size = int(entry.size)
    if not flags & _ATTR_HIDDEN and size in (0, 1):
        return "other", None
    if not _INTX_MAGIC_SIZE < size <= _INTX_MAX_SIZE:
        return "file", None
    data = bytes(entry.read_buffer_at_offset(size, 0))
    if data.startswith(_INTX_SYMLINK):
        return "symlink", data[len(_INTX_SYMLINK):].decode("utf-16-le", "replace")
    if data[:_INTX_MAGIC_SIZE] in _INTX_DEVICES and size == _INTX_DEVICE_SIZE:
        return "other", None
    return "file", None


def _ntfs_kind(entry: Any) -> str:
    if entry.file_attribute_flags & _ATTR_REPARSE_POINT:  # every one, as ntfs-3g shows it
        return "symlink"
    if entry.has_directory_entries_index():
        return "dir"
    return _interix(entry)[0]


def _fat_kind(entry: Any) -> str:
    flags = entry.file_attribute_flags
    if flags is None:  # the root directory has no directory entry of its own
        return "dir"
    return "dir" if flags & _ATTR_DIRECTORY else "file"


def _ntfs_hidden(entry: Any) -> bool:
    return bool((entry.file_reference & _MFT_RECORD_MASK) < NTFS_FIRST_USER_RECORD)


def _never_hidden(entry: Any) -> bool:
    return False


def _posix_target(entry: Any) -> str | None:
    target = entry.symbolic_link_target
    return str(target) if target is not None else None


def _ntfs_target(entry: Any) -> str | None:
    """An Interix symlink's target (a reparse point's is the view's: :mod:`.ntfs_links`)."""
    if entry.file_attribute_flags & _ATTR_REPARSE_POINT or entry.has_directory_entries_index():
        return None
    return _interix(entry)[1]


def ntfs_reparse(entry: Any) -> tuple[int, str] | None:
    """(tag, substitute name) of an NTFS reparse point; None if ``entry`` is none."""
    if not entry.file_attribute_flags & _ATTR_REPARSE_POINT:
        return None
    for i in range(min(int(entry.number_of_attributes), _MAX_ATTRIBUTES)):
        attribute = entry.get_attribute(i)
        if attribute.attribute_type == _REPARSE_POINT_ATTRIBUTE:
            return int(attribute.tag), str(attribute.substitute_name or "")
    return None


def _no_target(entry: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Flavour:
    """How one libyal library's file entries are read."""

    #: the Python module (pyfsext …)
    module: str
    #: the path separator its ``get_file_entry_by_path`` takes
    separator: str
    #: whether its path lookup matches names case-insensitively where the Linux driver the
    #: appliance uses does not (then a match is checked against the stored name)
    folds_case: bool
    #: whether a name missing from a listing may still be found by name: vfat (in another
    #: case), ntfs (a DOS 8.3 name, a metadata file: ntfs-3g lists neither, finds both)
    found_beyond_listing: bool
    #: file, dir, symlink or other
    kind: Callable[[Any], str]
    #: a symlink's target as the guest reads it
    target: Callable[[Any], str | None]
    #: left out of listings
    hidden: Callable[[Any], bool]

    def library(self) -> Any:
        return importlib.import_module(self.module)


FLAVOURS: dict[str, Flavour] = {
    "ext2": Flavour("pyfsext", "/", False, False, _mode_kind, _posix_target, _never_hidden),
    "ext3": Flavour("pyfsext", "/", False, False, _mode_kind, _posix_target, _never_hidden),
    "ext4": Flavour("pyfsext", "/", False, False, _mode_kind, _posix_target, _never_hidden),
    "xfs": Flavour("pyfsxfs", "/", False, False, _mode_kind, _posix_target, _never_hidden),
    "ntfs": Flavour("pyfsntfs", "\\", True, True, _ntfs_kind, _ntfs_target, _ntfs_hidden),
    "vfat": Flavour("pyfsfat", "\\", False, True, _fat_kind, _no_target, _never_hidden),
}
