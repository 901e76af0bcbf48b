"""The direct volume layer's parsers of guest bytes: the superblock probe
(collectors/volumes/probe.py: ext, xfs, ntfs, vfat, swap, btrfs, ufs, LUKS, LVM2, md) over a
device's first 80 KiB, the LUKS2 header's JSON metadata (collectors/volumes/luks.py) and a
qcow2 image read by collectors/volumes/qcow2.py (header, L1 and L2 tables, compressed
clusters, reads through to a backing file)."""

from __future__ import annotations

import json
import struct
import uuid
import zlib

from fuzz.targets import target
from guestinspect.collectors.volumes.luks import LuksError, parse_header
from guestinspect.collectors.volumes.probe import MAX_READ, ProbeError, probe
from guestinspect.collectors.volumes.qcow2 import (
    MAX_L1,
    Qcow2Error,
    Qcow2Image,
    has_compressed_clusters,
)

SIZE = 80 * 1024
UUID = uuid.UUID("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d").bytes


def _at(pieces: dict[int, bytes], size: int = SIZE) -> bytes:
    data = bytearray(size)
    for offset, piece in pieces.items():
        data[offset : offset + len(piece)] = piece
    return bytes(data)


def _ext(incompat: int) -> bytes:
    sb = bytearray(1024)
    sb[0x38:0x3A] = b"\x53\xef"
    struct.pack_into("<III", sb, 0x5C, 0x4, incompat, 0x3)
    struct.pack_into("<I", sb, 0x4C, 1)
    sb[0x68:0x78], sb[0x78:0x7E] = UUID, b"ROOT\0\0"
    return _at({1024: bytes(sb)})


def _ntfs() -> bytes:
    boot = bytearray(512)
    boot[3:11] = b"NTFS    "
    struct.pack_into("<HB", boot, 11, 512, 8)
    struct.pack_into("<QQQb", boot, 40, 8192, 4, 8, -10)
    struct.pack_into("<Q", boot, 72, 0x1122334455667788)
    record = bytearray(1024)
    record[:4] = b"FILE"
    struct.pack_into("<H", record, 20, 56)
    struct.pack_into("<I", record, 28, 1024)
    name = "Windows".encode("utf-16-le")
    struct.pack_into("<IIBBHHHIH", record, 56, 0x60, 24 + len(name) + 2, 0, 0, 0, 0, 0,
                     len(name), 24)
    record[80 : 80 + len(name)] = name
    struct.pack_into("<I", record, 104, 0xFFFFFFFF)
    return _at({0: bytes(boot), 16384: b"FILE", 16384 + 3072: bytes(record)})


def _fat(fat32: bool) -> bytes:
    boot = bytearray(512)
    boot[0] = 0xEB
    struct.pack_into("<HBHBHHBH", boot, 11, 512, 1, 4, 2, 0 if fat32 else 512, 0, 0xF8,
                     0 if fat32 else 32)
    struct.pack_into("<I", boot, 32, 140000 if fat32 else 60000)
    if fat32:
        struct.pack_into("<II", boot, 36, 16, 0)
        struct.pack_into("<I", boot, 44, 2)
        boot[67:71], boot[82:90] = b"\x01\x02\x03\x04", b"FAT32   "
    else:
        boot[39:43], boot[54:62] = b"\x01\x02\x03\x04", b"FAT16   "
    boot[510:512] = b"\x55\xaa"
    entry = b"VOLUMELABEL\x08" + bytes(20)
    root = (4 + 2 * 16) * 512 if fat32 else (4 + 2 * 32) * 512
    return _at({0: bytes(boot), root: entry, 4 * 512 + 8: b"\xff\xff\xff\x0f"})


def _others() -> list[bytes]:
    swap = bytearray(1024)
    struct.pack_into("<III", swap, 0, 1, 100, 0)
    swap[12:28], swap[28:33] = UUID, b"swap0"
    xfs = bytearray(512)
    xfs[:4] = b"XFSB"
    struct.pack_into(">I", xfs, 4, 4096)
    struct.pack_into(">I", xfs, 88, 4)
    struct.pack_into(">H", xfs, 102, 512)
    xfs[32:48], xfs[108:112] = UUID, b"data"
    btrfs = bytearray(4096)
    btrfs[32:48], btrfs[64:72], btrfs[299:303] = UUID, b"_BHRfS_M", b"pool"
    ufs = bytearray(1376)
    struct.pack_into("<II", ufs, 144, 0x3F5C1B7E, 0xA02)
    struct.pack_into("<I", ufs, 1372, 0x19540119)
    luks = bytearray(512)
    luks[:8], luks[168:204] = b"LUKS\xba\xbe\x00\x01", str(uuid.UUID(bytes=UUID)).encode()
    lvm = bytearray(512)
    lvm[:8], lvm[24:32] = b"LABELONE", b"LVM2 001"
    struct.pack_into("<QII", lvm, 8, 1, 0, 32)
    lvm[32:64] = b"J9uqlHs9zQXykjfc8bOe4QMN2ObAKVC0"
    md = bytearray(256)
    struct.pack_into("<II", md, 0, 0xA92B4EFC, 1)
    md[16:32], md[32:36] = UUID, b"boot"
    struct.pack_into("<Q", md, 144, 8)
    return [_at({1024: bytes(swap), 4086: b"SWAPSPACE2"}), _at({0: bytes(xfs)}),
            _at({65536: bytes(btrfs)}), _at({65536: bytes(ufs)}), _at({0: bytes(luks)}),
            _at({512: bytes(lvm)}), _at({4096: bytes(md)}), _at({0x8001: b"CD001"})]


def _probe_seeds() -> list[bytes]:
    return [_ext(0x2), _ext(0x2C2), _ntfs(), _fat(False), _fat(True), *_others()]


@target("volumes.probe", _probe_seeds, (ProbeError,), max_len=SIZE)
def run_probe(data: bytes) -> None:
    reads = 0

    def read(offset: int, size: int) -> bytes:
        nonlocal reads
        reads += 1
        assert 0 <= offset and 0 < size <= MAX_READ and reads <= 256, (offset, size, reads)
        return data[offset : offset + size]

    tags = probe(read, len(data))
    assert not tags or tags["TYPE"], tags
    assert all(isinstance(v, str) for v in tags.values())


def _luks2_seeds() -> list[bytes]:
    meta = {
        "keyslots": {"0": {"type": "luks2", "key_size": 64,
                           "af": {"type": "luks1", "stripes": 4000, "hash": "sha256"},
                           "area": {"type": "raw", "offset": "32768", "size": "258048",
                                    "encryption": "aes-xts-plain64", "key_size": 64},
                           "kdf": {"type": "argon2id", "time": 4, "memory": 65536, "cpus": 1,
                                   "salt": "EYh9kOn0IaSuA1tBpAmmWlO/g6tK+zifDlJioPPtLb0="}}},
        "tokens": {},
        "segments": {"0": {"type": "crypt", "offset": "16777216", "size": "dynamic",
                           "iv_tweak": "0", "encryption": "aes-xts-plain64",
                           "sector_size": 512}},
        "digests": {"0": {"type": "pbkdf2", "keyslots": ["0"], "segments": ["0"],
                          "hash": "sha256", "iterations": 1218,
                          "salt": "jHwSCiPfPS66yNBfvhlJnwczdwUBM/HDGfYs5LMe6vQ=",
                          "digest": "s5tgbJRngIQ8uyp2yQ2EDpz1duwEuaJMgtqVC0BO7dk="}},
        "config": {"json_size": "12288", "keyslots_size": "16744448"},
    }
    head = bytearray(4096)
    head[:8] = b"LUKS\xba\xbe\x00\x02"
    struct.pack_into(">Q", head, 8, 16384)
    pbkdf2 = json.loads(json.dumps(meta))
    pbkdf2["keyslots"]["1"] = dict(pbkdf2["keyslots"]["0"], kdf={
        "type": "pbkdf2", "hash": "sha256", "iterations": 1000, "salt": "AAAA"})
    return [bytes(head) + json.dumps(m).encode().ljust(12288, b"\0") for m in (meta, pbkdf2)]


@target("volumes.luks2_header", _luks2_seeds, (LuksError,), max_len=16384)
def run_luks2(data: bytes) -> None:
    header = parse_header(data)
    assert header.segment.sector_size in (512, 1024, 2048, 4096)
    assert all(s.key_size >= 0 and s.stripes >= 0 for s in header.keyslots.values())


def _qcow2_seeds() -> list[bytes]:
    out = []
    for compressed in (False, True):
        data = bytearray(4096)
        data[:4] = b"QFI\xfb"
        struct.pack_into(">I", data, 4, 3)  # version 3
        struct.pack_into(">IQ", data, 20, 9, 2 * 64 * 512)  # 512-byte clusters, the size
        struct.pack_into(">IQ", data, 36, 2, 512)  # L1: 2 entries at 512
        struct.pack_into(">QI", data, 8, 3000, 8)  # the backing file's name
        data[3000:3008] = b"base.img"
        struct.pack_into(">QQ", data, 512, 1024 | 1 << 63, 1536 | 1 << 63)
        struct.pack_into(">Q", data, 1024, 2048 | 1 << 63)
        struct.pack_into(">Q", data, 1536, (1 << 62 if compressed else 1 << 63) | 2560)
        if compressed:  # a cluster of 512 "q" compressed at 2560
            z = zlib.compressobj(9, zlib.DEFLATED, -12)
            packed = z.compress(b"q" * 512) + z.flush()
            data[2560 : 2560 + len(packed)] = packed
        out.append(bytes(data))
    return out


@target("volumes.qcow2", _qcow2_seeds, (Qcow2Error,), max_len=8192)
def run_qcow2(data: bytes) -> None:
    reads = 0

    def read(offset: int, size: int) -> bytes:
        nonlocal reads
        reads += 1
        assert 0 <= offset and 0 <= size <= MAX_L1 and reads <= 200, (offset, size, reads)
        return data[offset : offset + size]

    image = Qcow2Image(read, len(data), backing=lambda off, n: b"\xaa" * n)
    assert has_compressed_clusters(image) in (False, True)
    image.backing_file()
    for offset in (0, 512, 4096, max(0, image.size - 100)):
        got = image.pread(offset, 1000)
        assert len(got) == max(0, min(1000, image.size - offset)), (offset, len(got))
