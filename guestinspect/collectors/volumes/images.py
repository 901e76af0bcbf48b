"""Disk images opened read-only, in-process, as :class:`BlockDevice`\\ s: raw files, qcow2 with
its backing chain (pyqcow), vmdk with its extents and parents (pyvmdk), vhd and vhdx with
their parents (pyvhdi); and the slices of a device (partitions).

A qcow2 over a raw backing file (libqcow takes a qcow2 parent only) or with compressed
clusters (libqcow 20260703 reads some of them as zeros) is read by :mod:`.qcow2` instead.
Left to the appliance (:class:`UnsupportedImage`): an encrypted qcow2 or one with features
:mod:`.qcow2` does not read (zstd, external data files, extended L2 entries), a backing file
of another format, a vmdk whose parent is not vmdk, any other format.

The format is ``format`` when given (qemu's names: raw, qcow2, vmdk, vpc or vhd, vhdx), else
found by its magic as ``qemu-img`` finds it (raw when nothing else matches). Every file this
opens is a regular file opened ``O_RDONLY``; a backing file, parent or extent is found as
qemu finds it (relative to the image that names it), must be a regular file, and a chain is
at most :data:`MAX_CHAIN` images long (a loop ends there). Nothing is ever written.
"""

import os
import stat
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Protocol

from guestinspect.collectors.volumes.base import BlockDevice
from guestinspect.collectors.volumes.qcow2 import Qcow2Error, Qcow2Image, has_compressed_clusters
from guestinspect.errors import ImageError

#: Images in a backing chain at most (the image itself included).
MAX_CHAIN = 16
#: Bytes of a vmdk descriptor file read to tell it from a raw disk.
_DESCRIPTOR = b"# Disk DescriptorFile"

#: qemu's format names (and vhd) -> ours.
FORMATS = {"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vpc": "vhd", "vhd": "vhd",
           "vhdx": "vhdx"}


class UnsupportedImage(ImageError):
    """An image the direct volume layer cannot read (the appliance may): a qcow2 whose
    backing file is neither qcow2 nor raw, an encrypted qcow2, a format libyal does not
    read."""


class _Library(Protocol):
    """What the libyal image objects (pyqcow.file, pyvmdk.handle, pyvhdi.file …) share."""

    def read_buffer_at_offset(self, size: int, offset: int) -> bytes: ...


class _Positioned:
    """A device of ``_size`` bytes: ``pread`` cut at its end (nothing outside it), and
    read/seek/tell over it (what libyal's file objects need). A subclass reads with
    ``_read``, given a range inside the device."""

    _pos = 0
    _size = 0

    def get_size(self) -> int:
        return self._size

    def pread(self, offset: int, size: int) -> bytes:
        size = min(size, self._size - offset)
        return self._read(offset, size) if size > 0 and offset >= 0 else b""

    def _read(self, offset: int, size: int) -> bytes:
        raise NotImplementedError

    def read(self, size: int = -1) -> bytes:
        end = self.get_size()
        if size < 0 or self._pos + size > end:
            size = max(0, end - self._pos)
        data = self.pread(self._pos, size)
        self._pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.get_size()}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the device")
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos


class FileDevice(_Positioned):
    """A raw image file (or a block device), read with ``os.pread``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = _open_regular(path)
        st = os.fstat(self._fd)
        self._size = st.st_size if stat.S_ISREG(st.st_mode) else os.lseek(self._fd, 0, 2)

    def _read(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class LibraryDevice(_Positioned):
    """A device read through a libyal object (an image, an LV, an opened LUKS volume)."""

    def __init__(self, obj: _Library, size: int, keep: tuple[object, ...] = ()) -> None:
        self._obj, self._size = obj, size
        self._keep = keep  # what ``obj`` reads from, kept alive as long as it

    def _read(self, offset: int, size: int) -> bytes:
        return bytes(self._obj.read_buffer_at_offset(size, offset))


class Slice(_Positioned):
    """``size`` bytes of ``parent`` from ``start`` (a partition), cut at the parent's end."""

    def __init__(self, parent: BlockDevice, start: int, size: int) -> None:
        self._parent, self._start = parent, start
        self._size = max(0, min(size, parent.get_size() - start))

    def _read(self, offset: int, size: int) -> bytes:
        return self._parent.pread(self._start + offset, size)


def _open_regular(path: Path) -> int:
    """``O_RDONLY`` file descriptor of a regular file or block device (never a FIFO, which
    would block); ImageError otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise ImageError(f"{path}: {(e.strerror or 'cannot open').lower()}") from e
    mode = os.fstat(fd).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISBLK(mode)):
        os.close(fd)
        raise ImageError(f"{path}: not a regular file or a block device")
    os.set_blocking(fd, True)
    return fd


def detect(path: Path) -> str:
    """The format of the image at ``path`` by its magic, as qemu-img guesses it."""
    fd = _open_regular(path)
    try:
        head = os.pread(fd, 512, 0)
        size = os.fstat(fd).st_size
        tail = os.pread(fd, 512, size - 512) if size >= 512 else b""
    finally:
        os.close(fd)
    if head[:4] == b"QFI\xfb":
        return "qcow2"
    if head[:4] == b"KDMV" or head.startswith(_DESCRIPTOR):
        return "vmdk"
    if head[:8] == b"vhdxfile":
        return "vhdx"
    if head[:8] == b"conectix" or tail[:8] == b"conectix":
        return "vhd"
    return "raw"


def _related(image: Path, name: str, what: str) -> Path:
    """A backing file, parent or extent named inside ``image``: relative to its directory
    (as qemu resolves it), and a regular file."""
    path = Path(name) if os.path.isabs(name) else image.parent / name
    try:
        mode = path.stat().st_mode
    except OSError as e:
        raise ImageError(f"{image}: {what} {name}: {(e.strerror or 'missing').lower()}") from e
    if not stat.S_ISREG(mode):
        raise ImageError(f"{image}: {what} {name} is not a regular file")
    return path


def _file_object(path: Path, stack: ExitStack) -> FileDevice:
    dev = FileDevice(path)
    stack.callback(dev.close)
    return dev


def _opened(obj: Any, path: Path, stack: ExitStack) -> Any:
    """The libyal object ``obj`` (a pyqcow.file, pyvmdk.handle, pyvhdi.file) opened on the
    file ``path``, closed by ``stack``."""
    try:
        obj.open_file_object(_file_object(path, stack))
    except OSError as e:
        raise _lib_error(path, e) from e
    stack.callback(obj.close)
    return obj


def _linked(chain: list[Any]) -> Any:
    """The first of a chain of libyal images, each told the next one is its parent."""
    for child, parent in zip(chain, chain[1:], strict=False):
        child.set_parent(parent)
    return chain[0]


def _lib_error(path: Path, e: Exception) -> ImageError:
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else type(e).__name__
    return ImageError(f"{path}: cannot open: {first.split('. ')[0]}")


class _OwnQcow2(_Positioned):
    """A qcow2 chain read by :mod:`.qcow2` (what libqcow does not read right)."""

    def __init__(self, image: Qcow2Image) -> None:
        self._image, self._size = image, image.size

    def _read(self, offset: int, size: int) -> bytes:
        try:
            return self._image.pread(offset, size)
        except Qcow2Error as e:
            raise OSError(f"qcow2: {e}") from e


_Chain = list[tuple[Path, Qcow2Image, FileDevice]]


def _qcow2_chain(path: Path, stack: ExitStack) -> tuple[_Chain, FileDevice | None]:
    """The qcow2 images of ``path``'s backing chain (read by :mod:`.qcow2`), and the
    backing file that ends it when that is a raw file."""
    chain: _Chain = []
    current = path
    while True:
        if len(chain) >= MAX_CHAIN:
            raise ImageError(f"{path}: backing chain longer than {MAX_CHAIN} images")
        dev = _file_object(current, stack)
        try:
            image = Qcow2Image(dev.pread, dev.get_size())
            backing = image.backing_file()
        except Qcow2Error as e:
            raise UnsupportedImage(f"{current}: qcow2 not read by the direct backend ({e})") \
                from e
        chain.append((current, image, dev))
        if not backing:
            return chain, None
        current = _related(current, backing, "backing file")
        fmt = detect(current)
        if fmt == "raw":
            return chain, _file_object(current, stack)
        if fmt != "qcow2":
            raise UnsupportedImage(f"{path}: backing file {backing} is {fmt}")


def _open_qcow2(path: Path, stack: ExitStack) -> Any:
    """A qcow2 and its backing chain: through pyqcow when every image is qcow2 without
    compressed clusters, else through :mod:`.qcow2`."""
    chain, raw_base = _qcow2_chain(path, stack)
    try:
        compressed = any(has_compressed_clusters(image) for _, image, _ in chain)
    except Qcow2Error as e:
        raise ImageError(f"{path}: damaged qcow2 ({e})") from e
    if raw_base is not None or compressed:
        backing: Callable[[int, int], bytes] | None = None if raw_base is None \
            else raw_base.pread
        own: _OwnQcow2 | None = None
        for _, _, dev in reversed(chain):
            own = _OwnQcow2(Qcow2Image(dev.pread, dev.get_size(), backing))
            backing = own.pread
        return own
    import pyqcow

    return _linked([_opened(pyqcow.file(), current, stack) for current, _, _ in chain])


def _open_vmdk_one(path: Path, stack: ExitStack) -> Any:
    """One vmdk (its descriptor and extents), without its parent."""
    import pyvmdk

    h = _opened(pyvmdk.handle(), path, stack)
    count = h.get_number_of_extents()
    with path.open("rb") as f:
        embedded = f.read(4) == b"KDMV"
    files = []
    for i in range(count):
        name = h.get_extent_descriptor(i).get_filename()
        if embedded and count == 1:
            # A monolithic sparse or stream-optimized vmdk: its descriptor is inside its one
            # extent, which is the file itself, whatever name the descriptor recorded (a
            # renamed or copied image; qemu reads the file itself too).
            name = ""
        files.append(_file_object(_related(path, name, "extent") if name else path, stack))
    try:
        h.open_extent_data_files_as_file_objects(files)
    except OSError as e:
        raise _lib_error(path, e) from e
    return h


def _open_vmdk(path: Path, stack: ExitStack) -> Any:
    """A vmdk and its parents (delta disks: ``parentFileNameHint``, beside the child)."""
    chain = [_open_vmdk_one(path, stack)]
    current = path
    while chain[-1].get_parent_filename():
        if len(chain) >= MAX_CHAIN:
            raise ImageError(f"{path}: parent chain longer than {MAX_CHAIN} images")
        current = _related(current, chain[-1].get_parent_filename(), "parent")
        if detect(current) != "vmdk":
            raise UnsupportedImage(f"{path}: parent {current.name} is not vmdk")
        chain.append(_open_vmdk_one(current, stack))
    return _linked(chain)


def _open_vhd(path: Path, stack: ExitStack) -> Any:
    import pyvhdi

    chain: list[Any] = []
    current = path
    while True:
        if len(chain) >= MAX_CHAIN:
            raise ImageError(f"{path}: parent chain longer than {MAX_CHAIN} images")
        f = _opened(pyvhdi.file(), current, stack)
        chain.append(f)
        parent = f.get_parent_filename()
        if not parent:
            break
        # A Windows path in a differencing disk: its last component, beside the child.
        current = _related(current, parent.replace("\\", "/").rsplit("/", 1)[-1], "parent")
    return _linked(chain)


_OPENERS: dict[str, Callable[[Path, ExitStack], Any]] = {
    "qcow2": _open_qcow2, "vmdk": _open_vmdk, "vhd": _open_vhd, "vhdx": _open_vhd,
}


def open_image(path: Path, format: str | None, stack: ExitStack) -> tuple[str, BlockDevice]:
    """(its format, the disk) of the image at ``path``, opened read-only; what it opened is
    closed by ``stack``. ImageError (UnsupportedImage for what only the appliance reads)."""
    found = detect(path)
    fmt = found if format is None else FORMATS.get(format)
    if fmt is None:
        raise UnsupportedImage(f"{path}: format {format!r} is not read by the direct backend")
    if format is not None and fmt != "raw" and found != fmt:
        raise ImageError(f"{path}: not a {format} image")
    if fmt == "raw":
        return fmt, _file_object(path, stack)
    obj = _OPENERS[fmt](path, stack)
    if isinstance(obj, _OwnQcow2):
        return fmt, obj
    try:
        size = int(obj.get_media_size())
    except OSError as e:
        raise _lib_error(path, e) from e
    return fmt, LibraryDevice(obj, size)
