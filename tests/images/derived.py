"""Other disk formats of a guest's raw image, made by ``qemu-img`` and cached beside it.

    from tests.images.derived import derived
    path, fmt = derived("debian12-lvm", "qcow2-overlay")   # fmt: what --format takes

Forms (``FORMS``):

- ``qcow2``: the raw image converted to qcow2;
- ``qcow2-overlay``: a qcow2 whose backing file is that ``qcow2`` (named relative to the
  overlay, as ``qemu-img create -b`` writes it), in which libguestfs wrote a new
  ``/etc/hostname`` (``OVERLAY_HOSTNAME``) and nothing else: one appliance launch, once;
- ``vmdk`` (monolithic sparse), ``vhd`` (qemu's ``vpc``, dynamic), ``vhdx``;
- ``xfs-cloned``: the raw image with its xfs given a new UUID by ``xfs_admin -U`` (on the host,
  no appliance), as a cloned guest's is: on a v5 xfs that sets the incompatible feature
  ``meta_uuid`` (the metadata keeps the old UUID), which libfsxfs refuses to open.

A form is cached as ``<cache>/<guest>-<hash>[-overlay].<ext>``, where the hash covers the raw
image's (so a rebuilt guest rebuilds its forms) and this module's syntax tree; older forms
of the guest are deleted. Forms are made under ``<guest>-derived.lock`` (flock) into
temporary files (a vmdk under its final name, which it records as its extent's) renamed into
place when they are complete.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import os
import struct
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from guestinspect.phony.build import cache_dir, guest_hash
from tests.images import GUESTS, image

#: form -> (file extension, qemu-img and libguestfs format name)
FORMS: dict[str, tuple[str, str]] = {
    "qcow2": ("qcow2", "qcow2"),
    "qcow2-overlay": ("qcow2", "qcow2"),
    "vmdk": ("vmdk", "vmdk"),
    "vhd": ("vhd", "vpc"),
    "vhdx": ("vhdx", "vhdx"),
    "xfs-cloned": ("raw", "raw"),
}

#: The hostname the overlay writes, and the guest's root LV and hostname file it writes into.
OVERLAY_HOSTNAME = "bookworm-overlay"
OVERLAY_EDIT = {"debian12-lvm": ("/dev/bookworm-vg/root", "/etc/hostname")}
#: The xfs UUID of the guest that ``xfs-cloned`` changes, and the UUID it gives it.
CLONED_XFS = {"debian12-lvm": ("d1e2c3b4-0003-4a5b-8c7d-1e2f3a4b5c03",
                               "d1e2c3b4-0033-4a5b-8c7d-1e2f3a4b5c33")}


def _hash(guest: str) -> str:
    tree = ast.dump(ast.parse(Path(__file__).read_text(encoding="utf-8")))
    h = hashlib.sha256(f"{guest_hash(GUESTS[guest])}\0{tree}".encode())
    return h.hexdigest()[:12]


def path_of(guest: str, form: str) -> Path:
    ext, _ = FORMS[form]
    suffix = {"qcow2-overlay": "-overlay", "xfs-cloned": "-xfs-cloned"}.get(form, "")
    return cache_dir() / f"{guest}-{_hash(guest)}{suffix}.{ext}"


@contextlib.contextmanager
def _lock(guest: str) -> Iterator[None]:
    with (cache_dir() / f"{guest}-derived.lock").open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True, text=True)


def _tmp(final: Path) -> Path:
    return final.with_name(f"{final.name}.tmp-{os.getpid()}")


def _convert(raw: Path, form: str, final: Path) -> None:
    """``qemu-img convert`` into a scratch directory beside the cache, under the final name (a
    monolithic sparse vmdk names itself as its extent), then moved into place."""
    _, fmt = FORMS[form]
    with tempfile.TemporaryDirectory(prefix=".derived-", dir=final.parent) as scratch:
        tmp = Path(scratch) / final.name
        _qemu_img("convert", "-f", "raw", "-O", fmt, str(raw), str(tmp))
        os.replace(tmp, final)


def _overlay(guest: str, base: Path, final: Path) -> None:
    """A qcow2 over ``base`` in which libguestfs rewrote the guest's /etc/hostname."""
    import guestfs

    device, hostname_file = OVERLAY_EDIT[guest]
    tmp = _tmp(final)
    try:
        # The backing file named as it sits beside the overlay: a relative name.
        _qemu_img("create", "-f", "qcow2", "-b", base.name, "-F", "qcow2", str(tmp))
        os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
        g = guestfs.GuestFS(python_return_dict=True)
        try:
            g.add_drive(str(tmp), format="qcow2", cachemode="unsafe")
            g.launch()
            g.vg_activate_all(True)
            g.mount(device, "/")
            g.write(hostname_file, f"{OVERLAY_HOSTNAME}\n".encode())
            g.umount_all()
            g.vg_activate_all(False)
            g.sync()
            g.shutdown()
        finally:
            g.close()
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


_CHUNK = 64 * 1024


def _find_xfs(f: BinaryIO, fs_uuid: str) -> tuple[int, int]:
    """(offset, size) of the xfs whose superblock has ``fs_uuid``, at a MiB boundary."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    want = uuid.UUID(fs_uuid).bytes
    for offset in range(0, end, 1024 * 1024):
        f.seek(offset)
        sb = f.read(48)
        if sb[:4] == b"XFSB" and sb[32:48] == want:
            blocksize, dblocks = struct.unpack(">IQ", sb[4:16])
            return offset, blocksize * dblocks
    raise RuntimeError(f"no xfs with UUID {fs_uuid}")


def _cloned_xfs(guest: str, raw: Path, final: Path) -> None:
    """A copy of ``raw`` whose xfs ``xfs_admin -U`` gave a new UUID (run on a copy of that
    filesystem's bytes; the bytes it changed written back)."""
    old_uuid, new_uuid = CLONED_XFS[guest]
    tmp = _tmp(final)
    with tempfile.TemporaryDirectory(prefix=".derived-", dir=final.parent) as scratch:
        fs_copy = Path(scratch) / "xfs"
        try:
            subprocess.run(["cp", "--sparse=always", str(raw), str(tmp)], check=True)
            with tmp.open("r+b") as disk:
                offset, size = _find_xfs(disk, old_uuid)
                with fs_copy.open("wb") as out:
                    out.truncate(size)
                    for pos in range(0, size, _CHUNK):
                        disk.seek(offset + pos)
                        data = disk.read(_CHUNK)
                        if data.count(0) != len(data):
                            out.seek(pos)
                            out.write(data)
                subprocess.run(["xfs_admin", "-U", new_uuid, str(fs_copy)], check=True,
                               capture_output=True)
                with fs_copy.open("rb") as changed:
                    for pos in range(0, size, _CHUNK):
                        data = changed.read(_CHUNK)
                        disk.seek(offset + pos)
                        if disk.read(len(data)) != data:
                            disk.seek(offset + pos)
                            disk.write(data)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)


def _remove_stale(guest: str, keep: set[Path]) -> None:
    for ext in {ext for ext, _ in FORMS.values()}:
        for old in cache_dir().glob(f"{guest}-*.{ext}"):
            rest = old.name[len(guest) + 1:]
            if old not in keep and all(c in "0123456789abcdef" for c in rest[:12]):
                old.unlink(missing_ok=True)


def derived(guest: str, form: str) -> tuple[Path, str]:
    """The guest's image in ``form`` (made if missing) and the format name to open it with."""
    final = path_of(guest, form)
    if not final.is_file():
        raw = image(guest)
        with _lock(guest):
            base = path_of(guest, "qcow2")
            if form == "qcow2-overlay" and not base.is_file():
                _convert(raw, "qcow2", base)
            if not final.is_file():
                if form == "qcow2-overlay":
                    _overlay(guest, base, final)
                elif form == "xfs-cloned":
                    _cloned_xfs(guest, raw, final)
                else:
                    _convert(raw, form, final)
            _remove_stale(guest, {path_of(guest, f) for f in FORMS})
    return final, FORMS[form][1]
