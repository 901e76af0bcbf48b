"""LUKS containers opened read-only with a passphrase: LUKS1 with pyluksde (libluksde), LUKS2
here (libluksde reads LUKS1 only).

LUKS2, as cryptsetup opens it (docs/security.md, "Parsers of guest bytes"): the binary header
and its JSON metadata (at most :data:`MAX_JSON` bytes, parsed by :func:`parse_header`, error
:class:`LuksError`); for each keyslot, the passphrase's key by its KDF (PBKDF2 from hashlib;
Argon2i/Argon2id from libargon2, Debian's libargon2-1, through ctypes), the keyslot area
decrypted (aes-xts-plain64, cryptography's AES) and merged by the anti-forensic splitter; the
volume key is the right one when its PBKDF2 digest matches. The data segment is then
decrypted sector by sector on each read. The KDF costs a guest asks for are capped
(:data:`MAX_ARGON2_KIB`, :data:`MAX_PBKDF2_ITERATIONS`), as is the keyslot area
(:data:`MAX_AREA`).
"""

import base64
import binascii
import ctypes
import ctypes.util
import hashlib
import json
import struct
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from guestinspect.collectors.volumes.base import BlockDevice
from guestinspect.collectors.volumes.images import LibraryDevice, _Positioned
from guestinspect.errors import ParseError

LUKS_MAGIC = b"LUKS\xba\xbe"
#: The JSON metadata area read at most (LUKS2's largest header is 4 MiB).
MAX_JSON = 4 * 1024 * 1024
#: A keyslot area read at most (a 64-byte key in 4000 stripes is 256,000 bytes).
MAX_AREA = 4 * 1024 * 1024
#: KDF costs tried at most: Argon2 memory (cryptsetup's own limit is 4 GiB, its default
#: at most 1 GiB), its passes, PBKDF2 iterations.
MAX_ARGON2_KIB = 1024 * 1024
MAX_ARGON2_TIME = 64
MAX_PBKDF2_ITERATIONS = 1 << 24
#: Keyslots tried at most.
MAX_KEYSLOTS = 32
SECTOR = 512

#: ``decrypt(data, first 512-byte sector number, bytes per sector)``.
Decrypt = Callable[[bytes, int, int], bytes]


class LuksError(ParseError):
    """A LUKS container that cannot be opened here: damaged, or a cipher or KDF not
    supported (the appliance's cryptsetup may open it)."""


@dataclass(frozen=True)
class Keyslot:
    key_size: int
    stripes: int
    af_hash: str
    area_offset: int
    area_size: int
    area_cipher: str
    area_key_size: int
    kdf: dict[str, Any]


@dataclass(frozen=True)
class Digest:
    keyslots: tuple[str, ...]
    hash: str
    iterations: int
    salt: bytes
    digest: bytes


@dataclass(frozen=True)
class Segment:
    offset: int
    size: int | None  # None: to the end of the device
    cipher: str
    sector_size: int
    iv_tweak: int


@dataclass(frozen=True)
class Header:
    keyslots: dict[str, Keyslot]
    digests: tuple[Digest, ...]
    segment: Segment


def _int(value: object, what: str) -> int:
    """A JSON number or a decimal string (LUKS2 writes offsets as strings)."""
    if isinstance(value, bool):
        raise LuksError(f"{what}: not a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isdigit() and len(value) <= 20:
        number = int(value)
    else:
        raise LuksError(f"{what}: not a number")
    if number < 0 or number >= 1 << 63:
        raise LuksError(f"{what}: out of range")
    return number


def _b64(value: object, what: str) -> bytes:
    if not isinstance(value, str) or len(value) > 4096:
        raise LuksError(f"{what}: not base64")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as e:
        raise LuksError(f"{what}: not base64") from e


def _dict(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LuksError(f"{what}: not an object")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise LuksError(f"{what}: not a string")
    return value


def _keyslot(name: str, raw: dict[str, Any]) -> Keyslot | None:
    if raw.get("type") != "luks2":
        return None
    af, area = _dict(raw.get("af"), "af"), _dict(raw.get("area"), "area")
    if af.get("type") != "luks1" or area.get("type") != "raw":
        return None
    return Keyslot(
        key_size=_int(raw.get("key_size"), f"keyslot {name} key_size"),
        stripes=_int(af.get("stripes"), "stripes"), af_hash=_str(af.get("hash"), "af hash"),
        area_offset=_int(area.get("offset"), "area offset"),
        area_size=_int(area.get("size"), "area size"),
        area_cipher=_str(area.get("encryption"), "area encryption"),
        area_key_size=_int(area.get("key_size"), "area key_size"),
        kdf=_dict(raw.get("kdf"), "kdf"))


def _digest(raw: dict[str, Any]) -> Digest | None:
    if raw.get("type") != "pbkdf2":
        return None
    slots = raw.get("keyslots")
    if not isinstance(slots, list) or not all(isinstance(s, str) for s in slots):
        raise LuksError("digest keyslots: not a list of names")
    return Digest(tuple(slots), _str(raw.get("hash"), "digest hash"),
                  _int(raw.get("iterations"), "digest iterations"),
                  _b64(raw.get("salt"), "digest salt"), _b64(raw.get("digest"), "digest"))


def _segment(raw: dict[str, Any]) -> Segment:
    if raw.get("type") != "crypt":
        raise LuksError(f"segment of type {raw.get('type')!r}")
    size = raw.get("size")
    sector = _int(raw.get("sector_size", SECTOR), "sector_size")
    if sector not in (512, 1024, 2048, 4096):
        raise LuksError(f"sector size {sector}")
    return Segment(_int(raw.get("offset"), "segment offset"),
                   None if size == "dynamic" else _int(size, "segment size"),
                   _str(raw.get("encryption"), "segment encryption"), sector,
                   _int(raw.get("iv_tweak", "0"), "iv_tweak"))


def parse_header(data: bytes) -> Header:
    """The keyslots, digests and (first) data segment of a LUKS2 header: ``data`` is the
    binary header and its JSON area (at most 4 KiB + MAX_JSON bytes)."""
    if len(data) < 4096 or data[:6] != LUKS_MAGIC or struct.unpack_from(">H", data, 6)[0] != 2:
        raise LuksError("not a LUKS2 header")
    text = data[4096 : 4096 + MAX_JSON].split(b"\0", 1)[0]
    try:
        meta = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise LuksError("damaged JSON metadata") from e
    meta = _dict(meta, "metadata")
    slots = _dict(meta.get("keyslots", {}), "keyslots")
    keyslots = {}
    for name in sorted(slots, key=lambda s: (len(s), s))[:MAX_KEYSLOTS]:
        slot = _keyslot(name, _dict(slots[name], f"keyslot {name}"))
        if slot is not None:
            keyslots[name] = slot
    digests = tuple(d for d in (_digest(_dict(v, "digest")) for v in _dict(
        meta.get("digests", {}), "digests").values()) if d is not None)
    segments = _dict(meta.get("segments", {}), "segments")
    if not segments:
        raise LuksError("no data segment")
    first = min(segments, key=lambda s: (len(s), s))
    return Header(keyslots, digests, _segment(_dict(segments[first], "segment")))


# ---- crypto ----

def _xts(key: bytes) -> Decrypt:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    aes = algorithms.AES(key)  # made once: a third of the cost per sector

    def decrypt(data: bytes, sector: int, size: int) -> bytes:
        out = bytearray()
        for i in range(0, len(data), size):
            tweak = (sector + i // SECTOR).to_bytes(16, "little")
            # one data unit per decryptor (XTS's finalize adds nothing)
            out += Cipher(aes, modes.XTS(tweak)).decryptor().update(data[i : i + size])
        return bytes(out)

    return decrypt


def _cipher(name: str, key: bytes) -> Decrypt:
    if name != "aes-xts-plain64":
        raise LuksError(f"cipher {name} not supported by the direct backend")
    if len(key) not in (32, 64):
        raise LuksError(f"aes-xts key of {len(key)} bytes")
    return _xts(key)


def _hash(name: str) -> str:
    if name not in ("sha1", "sha256", "sha512"):
        raise LuksError(f"hash {name} not supported")
    return name


def _argon2(kind: str, passphrase: bytes, salt: bytes, kdf: dict[str, Any], size: int) -> bytes:
    time, memory, cpus = (_int(kdf.get(k), f"kdf {k}") for k in ("time", "memory", "cpus"))
    if not (1 <= time <= MAX_ARGON2_TIME and 8 <= memory <= MAX_ARGON2_KIB and 1 <= cpus <= 64):
        raise LuksError(f"{kind} costs beyond the limits (time {time}, memory {memory} KiB)")
    path = ctypes.util.find_library("argon2") or "libargon2.so.1"
    try:
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise LuksError("libargon2 is not installed (Debian's libargon2-1)") from e
    fn = getattr(lib, f"{kind}_hash_raw")
    out = ctypes.create_string_buffer(size)
    rc = fn(ctypes.c_uint32(time), ctypes.c_uint32(memory), ctypes.c_uint32(cpus),
            passphrase, ctypes.c_size_t(len(passphrase)), salt, ctypes.c_size_t(len(salt)),
            out, ctypes.c_size_t(size))
    if rc != 0:
        raise LuksError(f"{kind} failed ({rc})")
    return out.raw


def _kdf(kdf: dict[str, Any], passphrase: bytes, size: int) -> bytes:
    kind = kdf.get("type")
    salt = _b64(kdf.get("salt"), "kdf salt")
    if kind == "pbkdf2":
        iterations = _int(kdf.get("iterations"), "kdf iterations")
        if iterations > MAX_PBKDF2_ITERATIONS:
            raise LuksError(f"pbkdf2 of {iterations} iterations")
        return hashlib.pbkdf2_hmac(_hash(_str(kdf.get("hash"), "kdf hash")), passphrase, salt,
                                   iterations, size)
    if kind in ("argon2i", "argon2id"):
        return _argon2(kind, passphrase, salt, kdf, size)
    raise LuksError(f"KDF {kind!r} not supported")


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def af_merge(material: bytes, key_size: int, stripes: int, hash_name: str) -> bytes:
    """The key the anti-forensic splitter (LUKS1's AF) spread over ``stripes`` blocks."""
    digest_size = hashlib.new(hash_name).digest_size
    d = bytes(key_size)
    for i in range(stripes - 1):
        block = material[i * key_size : (i + 1) * key_size]
        mixed = _xor(d, block)
        out = bytearray()
        for j in range(0, key_size, digest_size):
            chunk = mixed[j : j + digest_size]
            h = hashlib.new(hash_name, struct.pack(">I", j // digest_size) + chunk).digest()
            out += h[: len(chunk)]
        d = bytes(out)
    last = material[(stripes - 1) * key_size : stripes * key_size]
    return _xor(d, last)


def _volume_key(dev: BlockDevice, header: Header, passphrase: bytes) -> bytes | None:
    for name, slot in header.keyslots.items():
        digests = [d for d in header.digests if name in d.keyslots]
        if not digests:
            continue
        area = slot.key_size * slot.stripes
        if not (0 < slot.key_size <= 512 and 0 < slot.stripes <= 65536 and area <= MAX_AREA
                and area <= slot.area_size):
            raise LuksError(f"keyslot {name} of {slot.stripes} stripes of {slot.key_size} bytes")
        key = _kdf(slot.kdf, passphrase, slot.area_key_size)
        size = (area + SECTOR - 1) // SECTOR * SECTOR
        data = dev.pread(slot.area_offset, size)
        if len(data) != size:
            raise LuksError(f"keyslot {name} past the end of the device")
        material = _cipher(slot.area_cipher, key)(data, 0, SECTOR)
        candidate = af_merge(material, slot.key_size, slot.stripes, _hash(slot.af_hash))
        for d in digests:
            if d.iterations > MAX_PBKDF2_ITERATIONS:
                raise LuksError(f"digest of {d.iterations} iterations")
            check = hashlib.pbkdf2_hmac(_hash(d.hash), candidate, d.salt, d.iterations,
                                        len(d.digest))
            if check == d.digest:
                return candidate
    return None


class Luks2Device(_Positioned):
    """The decrypted data segment of a LUKS2 container."""

    def __init__(self, dev: BlockDevice, segment: Segment, key: bytes) -> None:
        self._dev, self._seg = dev, segment
        self._decrypt = _cipher(segment.cipher, key)
        end = dev.get_size() - segment.offset
        size = end if segment.size is None else min(segment.size, end)
        self._size = max(0, size - size % segment.sector_size)

    def _read(self, offset: int, size: int) -> bytes:
        unit = self._seg.sector_size
        first = offset - offset % unit
        last = offset + size
        last += -last % unit
        data = self._dev.pread(self._seg.offset + first, last - first)
        data = data[: len(data) - len(data) % unit]
        plain = self._decrypt(data, first // SECTOR + self._seg.iv_tweak, unit)
        return plain[offset - first : offset - first + size]


def _open_luks1(dev: BlockDevice, passphrase: str, stack: ExitStack) -> BlockDevice | None:
    import pyluksde

    volume = pyluksde.volume()
    volume.set_password(passphrase)
    try:
        volume.open_file_object(dev)
    except OSError as e:
        lines = str(e).strip().splitlines()
        raise LuksError(lines[0].split(". ")[0] if lines else "libluksde failed") from e
    if volume.is_locked():
        volume.close()
        return None
    stack.callback(volume.close)
    return LibraryDevice(volume, int(volume.get_size()))


def open_luks(dev: BlockDevice, passphrase: str, stack: ExitStack) -> BlockDevice | None:
    """The opened container, None if the passphrase opens no keyslot; LuksError if it
    cannot be opened here."""
    head = dev.pread(0, 4096)
    if head[:6] != LUKS_MAGIC:
        raise LuksError("not a LUKS container")
    version = struct.unpack_from(">H", head, 6)[0]
    if version == 1:
        return _open_luks1(dev, passphrase, stack)
    if version != 2:
        raise LuksError(f"LUKS version {version}")
    hdr_size = struct.unpack_from(">Q", head, 8)[0]
    if not 4096 < hdr_size <= 4096 + MAX_JSON:
        raise LuksError(f"header of {hdr_size} bytes")
    header = parse_header(dev.pread(0, hdr_size))
    key = _volume_key(dev, header, passphrase.encode())
    return None if key is None else Luks2Device(dev, header.segment, key)
