"""Which filesystem (or container) a block device holds, from its superblock: the tags blkid
gives (``TYPE``, ``UUID``, ``LABEL``, ``VERSION``), decided as libblkid decides them, so that
the direct volume layer names what the appliance's ``blkid`` names.

Known: ext2/ext3/ext4 (the type by the features, as blkid tells them apart), xfs, ntfs, vfat,
swap, btrfs, ufs, crypto_LUKS, LVM2_member, linux_raid_member and (its type only) iso9660.
Anything else gives no tags (the caller's ``unknown``).

The bytes are a guest's (docs/security.md, "Parsers of guest bytes"): every read is of a fixed
size at a fixed or bounds-checked offset (at most :data:`MAX_READS` reads of at most
:data:`MAX_READ` bytes per device), nothing read is used to allocate, and a reader that fails
is a :class:`ProbeError`, the one error this module raises.
"""

import struct
import uuid
from collections.abc import Callable

from guestinspect.errors import ParseError

#: ``read(offset, size)``: at most ``size`` bytes of the device from ``offset`` (fewer at
#: its end).
Reader = Callable[[int, int], bytes]
Tags = dict[str, str]

#: Bytes read at most at once, and reads at most per device (a FAT32 root directory's
#: cluster chain is the longest walk).
MAX_READ = 64 * 1024
MAX_READS = 256
#: Clusters of a FAT32 root directory looked through for its label (libblkid's limit).
FAT_MAX_CLUSTERS = 100


class ProbeError(ParseError):
    """The device could not be read (an I/O error of the image's library)."""


class _Device:
    """Bounded reads of one device."""

    def __init__(self, read: Reader, size: int) -> None:
        self._read, self.size, self._reads = read, size, 0

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or b"" if they are not all there."""
        if offset < 0 or size <= 0 or size > MAX_READ or offset + size > self.size:
            return b""
        self._reads += 1
        if self._reads > MAX_READS:
            return b""
        try:
            data = self._read(offset, size)
        except (OSError, RuntimeError, ValueError) as e:
            raise ProbeError(f"cannot read {size} bytes at {offset}: {e}") from e
        return data if len(data) == size else b""


def _label(raw: bytes) -> str:
    """blkid's label: up to the first NUL, trailing white space removed."""
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace").rstrip(" \t\n\r\f\v")


def _uuid(raw: bytes) -> str:
    """A 16-byte UUID as blkid prints it; "" for an all-zero one (blkid sets none)."""
    return "" if not any(raw) else str(uuid.UUID(bytes=raw))


def _tags(**values: str) -> Tags:
    return {k: v for k, v in values.items() if v}


# ---- ext2/3/4 ----

_EXT_HAS_JOURNAL = 0x0004
_EXT_JOURNAL_DEV = 0x0008
_EXT2_RO_SUPP = 0x0007  # sparse_super, large_file, btree_dir
_EXT2_INCOMPAT_SUPP = 0x0012  # filetype, meta_bg
_EXT3_INCOMPAT_SUPP = 0x0016  # filetype, recover, meta_bg
_EXT_TEST_FILESYS = 0x0004


def _ext(dev: _Device) -> Tags | None:
    sb = dev.read(1024, 1024)
    if len(sb) < 1024 or sb[0x38:0x3A] != b"\x53\xef":
        return None
    compat, incompat, ro = struct.unpack_from("<III", sb, 0x5C)
    if incompat & _EXT_JOURNAL_DEV:
        return {"TYPE": "jbd", **_tags(UUID=_uuid(sb[0x68:0x78]), LABEL=_label(sb[0x78:0x88]))}
    journal = bool(compat & _EXT_HAS_JOURNAL)
    if not journal and not ro & ~_EXT2_RO_SUPP and not incompat & ~_EXT2_INCOMPAT_SUPP:
        kind = "ext2"
    elif journal and not ro & ~_EXT2_RO_SUPP and not incompat & ~_EXT3_INCOMPAT_SUPP:
        kind = "ext3"
    elif struct.unpack_from("<I", sb, 0x160)[0] & _EXT_TEST_FILESYS:
        kind = "ext4dev"
    else:
        kind = "ext4"
    rev, minor = struct.unpack_from("<I", sb, 0x4C)[0], struct.unpack_from("<H", sb, 0x3E)[0]
    return {"TYPE": kind, **_tags(UUID=_uuid(sb[0x68:0x78]), LABEL=_label(sb[0x78:0x88]),
                                  VERSION=f"{rev}.{minor}")}


# ---- xfs ----

def _xfs(dev: _Device) -> Tags | None:
    sb = dev.read(0, 512)
    if sb[:4] != b"XFSB":
        return None
    blocksize = struct.unpack_from(">I", sb, 4)[0]
    agcount = struct.unpack_from(">I", sb, 88)[0]
    sectsize = struct.unpack_from(">H", sb, 102)[0]
    if not (512 <= blocksize <= 65536 and blocksize & (blocksize - 1) == 0
            and 512 <= sectsize <= 32768 and sectsize & (sectsize - 1) == 0 and agcount):
        return None
    return {"TYPE": "xfs", **_tags(UUID=_uuid(sb[32:48]), LABEL=_label(sb[108:120]))}


# ---- ntfs ----

def _ntfs_cluster(boot: bytes) -> int | None:
    """Bytes per cluster, or None if the boot sector is not NTFS's."""
    sector = struct.unpack_from("<H", boot, 11)[0]
    spc = boot[13]
    if sector < 256 or sector > 4096:
        return None
    if spc not in (1, 2, 4, 8, 16, 32, 64, 128):
        if not 240 <= spc <= 249:
            return None
        spc = 1 << (256 - spc)
    if sector * spc > 2 * 1024 * 1024:
        return None
    reserved, root, sectors, per_fat = (struct.unpack_from("<H", boot, o)[0]
                                        for o in (14, 17, 19, 22))
    if reserved or root or sectors or per_fat or boot[16] or struct.unpack_from("<I", boot,
                                                                                32)[0]:
        return None
    return int(sector * spc)


def _ntfs_label(record: bytes) -> str:
    """The volume name attribute of the $Volume MFT record, as blkid finds it."""
    attr = struct.unpack_from("<H", record, 20)[0]
    allocated = struct.unpack_from("<I", record, 28)[0]
    for _ in range(len(record) // 8):  # each attribute is at least 8 bytes on
        if attr + 24 > len(record) or attr > allocated:
            return ""
        kind, length = struct.unpack_from("<II", record, attr)
        if not length or kind == 0xFFFFFFFF:
            return ""
        if kind == 0x60:
            size = struct.unpack_from("<I", record, attr + 16)[0]
            off = struct.unpack_from("<H", record, attr + 20)[0]
            if attr + off + size > len(record):
                return ""
            raw = record[attr + off : attr + off + size]
            return _label(raw.decode("utf-16-le", "replace").encode())
        attr += length
    return ""


def _ntfs(dev: _Device) -> Tags | None:
    boot = dev.read(0, 512)
    if boot[3:11] != b"NTFS    ":
        return None
    cluster = _ntfs_cluster(boot)
    if cluster is None:
        return None
    per_record = struct.unpack_from("<b", boot, 64)[0]
    if not (-31 <= per_record <= -9) and per_record not in (1, 2, 4, 8, 16, 32, 64):
        return None
    record = per_record * cluster if per_record > 0 else 1 << -per_record
    clusters = struct.unpack_from("<Q", boot, 40)[0] // (cluster // struct.unpack_from(
        "<H", boot, 11)[0])
    mft, mirror = struct.unpack_from("<QQ", boot, 48)
    if mft > clusters or mirror > clusters or record > MAX_READ:
        return None
    if dev.read(mft * cluster, record)[:4] != b"FILE":
        return None
    volume = dev.read(mft * cluster + 3 * record, record)
    if volume[:4] != b"FILE":
        return None
    serial = struct.unpack_from("<Q", boot, 72)[0]
    return {"TYPE": "ntfs", **_tags(UUID=f"{serial:016X}", LABEL=_ntfs_label(volume))}


# ---- vfat ----

_FAT12_MAX, _FAT16_MAX, _FAT32_MAX = 0xFF4, 0xFFF4, 0x0FFFFFF6
_NO_NAME = b"NO NAME    "


def _fat_magic(boot: bytes) -> bool:
    """Whether one of the signatures blkid looks for before its vfat probe is there."""
    return (boot[0x52:0x57] == b"MSWIN" or boot[0x52:0x5A] == b"FAT32   "
            or boot[0x36:0x3B] == b"MSDOS" or boot[0x36:0x3E] in (b"FAT16   ", b"FAT12   ",
                                                                 b"FAT     ")
            or boot[0] in (0xEB, 0xE9) or boot[510:512] == b"\x55\xaa")


def _fat_geometry(boot: bytes) -> tuple[int, int, int, int, int] | None:
    """(sector size, reserved sectors, sectors of all FATs, root directory sectors,
    clusters) of a valid FAT boot sector (blkid's checks), or None."""
    strong = (boot[0x52:0x57] == b"MSWIN" or boot[0x52:0x5A] == b"FAT32   "
              or boot[0x36:0x3B] == b"MSDOS" or boot[0x36:0x3E] in (b"FAT16   ", b"FAT12   ",
                                                                   b"FAT     "))
    if not strong and (boot[510:512] != b"\x55\xaa"
                       or boot[0x36:0x3E] in (b"JFS     ", b"HPFS    ")):
        return None
    fats, cluster, media = boot[16], boot[13], boot[21]
    sector, reserved, entries, small = struct.unpack_from("<HxHxHH", boot, 11)
    if not fats or not reserved or not (media >= 0xF8 or media == 0xF0):
        return None
    if not cluster or cluster & (cluster - 1):
        return None
    if sector not in (512, 1024, 2048, 4096):
        return None
    count = small or struct.unpack_from("<I", boot, 32)[0]
    fat16_length = struct.unpack_from("<H", boot, 22)[0]
    fat32_length = struct.unpack_from("<I", boot, 36)[0]
    fat_size = (fat16_length or fat32_length) * fats
    dir_size = (entries * 32 + sector - 1) // sector
    clusters = (count - (reserved + fat_size + dir_size)) // cluster
    if not fat16_length and fat32_length:
        most = _FAT32_MAX
    else:
        most = _FAT16_MAX if clusters > _FAT12_MAX else _FAT12_MAX
    if clusters > most:
        return None
    return sector, reserved, fat_size, dir_size, clusters


def _fat_dir_label(entries: bytes) -> tuple[bytes | None, bool]:
    """(the volume label entry's name, whether the directory ended) in a run of entries."""
    for i in range(0, len(entries) - 31, 32):
        e = entries[i : i + 32]
        if e[0] == 0:
            return None, True
        if e[0] == 0xE5 or e[11] & 0x3F == 0x0F:  # deleted, a long name
            continue
        if e[11] & 0x18 == 0x08:
            return e[:11], True
    return None, False


def _fat32_root_label(dev: _Device, boot: bytes, geometry: tuple[int, ...]) -> bytes | None:
    sector, reserved, fat_size, dir_size, _ = geometry
    cluster_bytes = boot[13] * sector
    if cluster_bytes > MAX_READ:
        return None
    data = (reserved + fat_size + dir_size) * sector
    cluster = struct.unpack_from("<I", boot, 44)[0]
    for _ in range(FAT_MAX_CLUSTERS):
        if cluster < 2 or cluster >= 0x0FFFFFF8:
            return None
        label, ended = _fat_dir_label(dev.read(data + (cluster - 2) * cluster_bytes,
                                               cluster_bytes))
        if ended:
            return label
        entry = dev.read(reserved * sector + cluster * 4, 4)
        if not entry:
            return None
        cluster = struct.unpack_from("<I", entry)[0] & 0x0FFFFFFF
    return None


def _vfat(dev: _Device) -> Tags | None:
    boot = dev.read(0, 512)
    if len(boot) < 512 or boot[3:11] == b"NTFS    " or not _fat_magic(boot):
        return None
    geometry = _fat_geometry(boot)
    if geometry is None:
        return None
    sector, reserved, fat_size, dir_size, clusters = geometry
    if struct.unpack_from("<H", boot, 22)[0]:
        version = "FAT16" if clusters > _FAT12_MAX else "FAT12"
        serial = boot[39:43]
        root = dev.read((reserved + fat_size) * sector, min(dir_size * sector, MAX_READ))
        label, _ = _fat_dir_label(root)
    elif struct.unpack_from("<I", boot, 36)[0]:
        version, serial = "FAT32", boot[67:71]
        label = _fat32_root_label(dev, boot, geometry)
    else:
        return None
    uuid_text = f"{serial[3]:02X}{serial[2]:02X}-{serial[1]:02X}{serial[0]:02X}"
    name = _label(label) if label is not None and label != _NO_NAME else ""
    return {"TYPE": "vfat", **_tags(UUID=uuid_text, LABEL=name, VERSION=version)}


# ---- swap ----

def _swap(dev: _Device) -> Tags | None:
    for page in (4096, 8192, 16384, 32768, 65536):
        magic = dev.read(page - 10, 10)
        if magic == b"SWAP-SPACE":
            return {"TYPE": "swap", "VERSION": "0"}
        if magic == b"SWAPSPACE2":
            hdr = dev.read(1024, 1024)
            if not hdr:
                return None
            version = struct.unpack_from("<I", hdr, 0)[0]
            if version not in (1, 0x01000000):
                return None
            tags = {"TYPE": "swap"}
            if struct.unpack_from("<II", hdr, 172) == (0, 0):  # padding[32:34], as blkid
                tags.update(_tags(LABEL=_label(hdr[28:44]), UUID=_uuid(hdr[12:28])))
            tags["VERSION"] = "1"
            return tags
    return None


# ---- btrfs ----

def _btrfs(dev: _Device) -> Tags | None:
    sb = dev.read(0x10000, 4096)
    if sb[64:72] != b"_BHRfS_M":
        return None
    return {"TYPE": "btrfs", **_tags(UUID=_uuid(sb[32:48]), UUID_SUB=_uuid(sb[267:283]),
                                     LABEL=_label(sb[299:555]))}


# ---- ufs ----

_UFS_MAGICS = {0x00011954: "1", 0x19540119: "2", 0x00195612: "1", 0x00095014: "1",
               0x00612195: "1", 0x05231994: "1"}


def _ufs(dev: _Device) -> Tags | None:
    for kib in (0, 8, 64, 256):
        sb = dev.read(kib * 1024, 1376)
        if not sb:
            continue
        for order in ("<", ">"):
            magic = struct.unpack_from(order + "I", sb, 1372)[0]
            if magic not in _UFS_MAGICS:
                continue
            version = _UFS_MAGICS[magic]
            tags = {"TYPE": "ufs"}
            if version == "2":
                tags.update(_tags(LABEL=_label(sb[680:712])))
            ids = struct.unpack_from(order + "II", sb, 144)
            if any(ids):
                tags["UUID"] = f"{ids[0]:08x}{ids[1]:08x}"
            tags["VERSION"] = version
            return tags
    return None


# ---- containers ----

def _luks(dev: _Device) -> Tags | None:
    hdr = dev.read(0, 512)
    if hdr[:6] != b"LUKS\xba\xbe":
        return None
    version = struct.unpack_from(">H", hdr, 6)[0]
    text_uuid = _label(hdr[168:208])
    if version == 1:
        return {"TYPE": "crypto_LUKS", **_tags(UUID=text_uuid, VERSION="1")}
    if version == 2:
        return {"TYPE": "crypto_LUKS", **_tags(LABEL=_label(hdr[24:72]), UUID=text_uuid,
                                               VERSION="2")}
    return None


def lvm_uuid(raw: str) -> str:
    """An LVM UUID (32 characters) in LVM's printed form, ``xxxxxx-xxxx-…-xxxxxx``."""
    u = raw.replace("-", "")
    if len(u) != 32:
        return raw
    return "-".join(u[a:b] for a, b in ((0, 6), (6, 10), (10, 14), (14, 18), (18, 22),
                                         (22, 26), (26, 32)))


def _lvm2(dev: _Device) -> Tags | None:
    head = dev.read(0, 2048)
    for sector in range(4):
        label = head[sector * 512 : (sector + 1) * 512]
        if label[:8] != b"LABELONE" or label[24:32] != b"LVM2 001":
            continue
        if struct.unpack_from("<Q", label, 8)[0] != sector:
            continue
        offset = struct.unpack_from("<I", label, 20)[0]
        if offset + 32 > 512:
            continue
        pv = label[offset : offset + 32].decode("ascii", "replace")
        return {"TYPE": "LVM2_member", "UUID": lvm_uuid(pv), "VERSION": "LVM2 001"}
    return None


_MD_MAGIC = 0xA92B4EFC


def _md_uuid(raw: bytes) -> str:
    """An md array's UUID as blkid prints it (8-4-4-4-12 of the 16 bytes)."""
    return str(uuid.UUID(bytes=raw)) if any(raw) else ""


def _md(dev: _Device) -> Tags | None:
    size = dev.size
    if size >= 0x20000:  # 0.90: 64 KiB from the end, aligned down to 64 KiB
        sb = dev.read((size & ~0xFFFF) - 0x10000, 0x200)
        for order in ("<", ">"):
            if sb and struct.unpack_from(order + "I", sb, 0)[0] == _MD_MAGIC:
                major, minor, patch = struct.unpack_from(order + "III", sb, 4)
                if major != 0:
                    continue
                raw = sb[20:24] + sb[52:64] if minor >= 90 else sb[20:24] + bytes(12)
                return {"TYPE": "linux_raid_member", **_tags(
                    UUID=_md_uuid(raw), VERSION=f"{major}.{minor}.{patch}")}
    for version, offset in (("1.0", ((size // 512 - 16) & ~7) * 512), ("1.1", 0),
                            ("1.2", 4096)):
        sb = dev.read(offset, 0x100)
        if not sb or struct.unpack_from("<II", sb, 0) != (_MD_MAGIC, 1):
            continue
        if struct.unpack_from("<Q", sb, 144)[0] != offset // 512:  # super_offset
            continue
        return {"TYPE": "linux_raid_member", **_tags(
            UUID=_md_uuid(sb[16:32]), LABEL=_label(sb[32:64]), VERSION=version)}
    return None


def _iso9660(dev: _Device) -> Tags | None:
    pvd = dev.read(0x8000, 2048)
    if pvd[1:6] != b"CD001":
        return None
    return {"TYPE": "iso9660"}


#: In libblkid's order: RAID first, then containers, then filesystems.
_PROBES = (_md, _luks, _lvm2, _iso9660, _vfat, _swap, _xfs, _ext, _ufs, _ntfs, _btrfs)


def probe(read: Reader, size: int) -> Tags:
    """The blkid tags of the device of ``size`` bytes that ``read(offset, size)`` reads;
    empty if nothing is recognised. Raises ProbeError if the device cannot be read."""
    dev = _Device(read, size)
    for prober in _PROBES:
        tags = prober(dev)
        if tags is not None:
            return tags
    return {}
