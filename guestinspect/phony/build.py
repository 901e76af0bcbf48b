"""Cache, staleness, locking and batched building of the phony guest images.

An image is cached as `<cache>/<name>-<hash>[-<disk>].img`, where the hash covers the builder
sources, the shared data they read and the host binary they copy.  A guest is built under an
exclusive lock file (`<cache>/<name>.lock`), into temporary files that are renamed into place
only when the whole guest succeeded.  Several guests share one appliance launch.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from guestinspect.phony import content

MiB = 1024 * 1024
GiB = 1024 * MiB

#: Guests built per appliance launch at most (each adds one or more disks to it).
BATCH_SIZE = 10


@dataclass
class Ctx:
    """What a builder works with: the launched handle and the devices of its own disks."""

    g: Any  # guestfs.GuestFS
    disks: list[str]  # e.g. ["/dev/sdc"]; the guest will see them as /dev/sda, /dev/sdb, ...
    workdir: Path  # host scratch directory for files to upload
    name: str
    luks: list[str] = field(default_factory=list)  # mapper names opened, to close at the end

    def luks_open(self, dev: str, key: str, mapname: str) -> str:
        """Open a LUKS container; it is closed again once the guest is built."""
        self.g.cryptsetup_open(dev, key, mapname)
        self.luks.append(mapname)
        return f"/dev/mapper/{mapname}"

    def cleanup(self) -> None:
        """Unmount, deactivate this guest's VGs and close its LUKS mappings (for the next guest).

        LVM may sit on LUKS or LUKS on LVM, so deactivating and closing are retried in turn.
        """
        self.g.umount_all()
        for _ in range(3):
            with contextlib.suppress(RuntimeError):
                self.g.vg_activate_all(False)
            for mapname in reversed(list(self.luks)):
                with contextlib.suppress(RuntimeError):
                    self.g.cryptsetup_close(f"/dev/mapper/{mapname}")
                    self.luks.remove(mapname)
        self.g.vg_activate_all(False)  # raises if something is still held open
        if self.luks:
            raise RuntimeError(f"could not close LUKS mappings {self.luks}")

    def part(self, n: int, disk: int = 0) -> str:
        return f"{self.disks[disk]}{n}"

    def write(self, path: str, text: str | bytes) -> None:
        self.g.write(path, text.encode() if isinstance(text, str) else text)

    def mkdirs(self, *paths: str) -> None:
        for path in paths:
            self.g.mkdir_p(path)

    def upload(self, local: Path, remote: str, mode: int | None = None) -> None:
        self.g.upload(str(local), remote)
        if mode is not None:
            self.g.chmod(mode, remote)

    def elf(self, remote: str) -> None:
        """Put the host's x86_64 ELF executable at `remote`."""
        self.upload(content.host_x86_64_elf(), remote, 0o755)


Builder = Callable[[Ctx], None]


@dataclass(frozen=True)
class Guest:
    name: str
    description: str
    disk_sizes: tuple[int, ...]
    builder: Builder | None  # None: the disks stay blank, no appliance needed
    data_files: tuple[str, ...] = field(default=())


class BuildError(RuntimeError):
    pass


def cache_dir() -> Path:
    env = os.environ.get("GUESTINSPECT_IMAGE_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "guestinspect" / "images"
    path.mkdir(parents=True, exist_ok=True)
    return path


#: Top-level names of a builder module that only list guests: adding a guest to them does not
#: change how the other guests are built, so they are left out of the image hash.
_REGISTRY_NAMES = {"_ALL", "GUESTS", "UNSUPPORTED", "HOSTILE", "BSD"}


#: Modules beside a builder's own that its builders share (helpers, file contents).
SHARED_HELPERS = ("content.py", "guests.py")


def _source_files(guest: Guest) -> list[Path]:
    """The modules a guest's image depends on: this package's (the machinery and the sample
    guest's helpers), its builder's module and the shared helpers beside that module."""
    here = Path(__file__).resolve().parent
    files = {p for p in here.glob("*.py") if p.name != "__init__.py"}
    if guest.builder is not None:
        module = sys.modules.get(guest.builder.__module__)
        if module is not None and module.__file__:
            builder = Path(module.__file__).resolve()
            files.add(builder)
            files.update(p for name in SHARED_HELPERS if (p := builder.parent / name).is_file())
    return sorted(files)


def _tree(path: Path) -> str:
    """The syntax tree of a module without its imports and guest lists."""
    module = ast.parse(path.read_text(encoding="utf-8"))

    def kept(node: ast.stmt) -> bool:
        if isinstance(node, ast.Import | ast.ImportFrom):
            return False
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) else [])
        return not any(isinstance(t, ast.Name) and t.id in _REGISTRY_NAMES for t in targets)

    module.body = [node for node in module.body if kept(node)]
    return ast.dump(module)


def guest_hash(guest: Guest) -> str:
    h = hashlib.sha256()
    h.update(guest.name.encode() + b"\0")
    for path in _source_files(guest):
        # The syntax tree, not the text: reformatting or editing comments does not rebuild.
        h.update(path.name.encode() + b"\0" + _tree(path).encode())
    for name in guest.data_files:
        h.update(name.encode() + b"\0" + content.data_file(name).read_bytes())
    if guest.builder is not None:
        h.update(content.host_x86_64_elf().read_bytes())
    return h.hexdigest()[:12]


def disk_paths(guest: Guest) -> list[Path]:
    stem = f"{guest.name}-{guest_hash(guest)}"
    if len(guest.disk_sizes) == 1:
        return [cache_dir() / f"{stem}.img"]
    return [cache_dir() / f"{stem}-{i + 1}.img" for i in range(len(guest.disk_sizes))]


def is_fresh(guest: Guest) -> bool:
    return all(p.is_file() for p in disk_paths(guest))


def _log(msg: str) -> None:
    if os.environ.get("GUESTINSPECT_IMAGES_QUIET") != "1":
        print(f"[images] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _lock(guest: Guest, blocking: bool) -> Iterator[IO[str] | None]:
    f = (cache_dir() / f"{guest.name}.lock").open("a")
    try:
        flags = fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB)
        try:
            fcntl.flock(f, flags)
        except BlockingIOError:
            yield None
            return
        try:
            yield f
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
    finally:
        f.close()


def _remove_stale(guest: Guest, keep: list[Path]) -> None:
    for old in cache_dir().glob(f"{guest.name}-*.img"):
        rest = old.name[len(guest.name) + 1 :]
        # Only files of this guest: "<12 hex>.img" or "<12 hex>-<n>.img".
        if old not in keep and len(rest) >= 12 and all(c in "0123456789abcdef" for c in rest[:12]):
            if rest[12:] == ".img" or rest[12:13] == "-" and rest[13:-4].isdigit():
                old.unlink(missing_ok=True)


def _tmp_paths(guest: Guest) -> list[Path]:
    return [p.with_name(f"{p.name}.tmp-{os.getpid()}") for p in disk_paths(guest)]


def _create_disks(guest: Guest) -> list[Path]:
    tmps = _tmp_paths(guest)
    for tmp, size in zip(tmps, guest.disk_sizes, strict=True):
        with tmp.open("wb") as f:
            f.truncate(size)  # sparse
    return tmps


def _commit(guest: Guest, tmps: list[Path]) -> None:
    finals = disk_paths(guest)
    for tmp, final in zip(tmps, finals, strict=True):
        os.replace(tmp, final)
    _remove_stale(guest, finals)


def _discard(tmps: list[Path]) -> None:
    for tmp in tmps:
        tmp.unlink(missing_ok=True)


def _run_batch(batch: list[Guest], workdir: Path) -> dict[str, str]:
    """Build the guests of one appliance launch; return {name: error} for those that failed."""
    import guestfs

    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    errors: dict[str, str] = {}
    tmps = {guest.name: _create_disks(guest) for guest in batch}
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    devices: dict[str, list[str]] = {}
    g = guestfs.GuestFS(python_return_dict=True)
    try:
        for guest in batch:
            devices[guest.name] = []
            for tmp in tmps[guest.name]:
                g.add_drive(str(tmp), format="raw", cachemode="unsafe")
                devices[guest.name].append(f"/dev/sd{next(letters)}")
        start = time.monotonic()
        g.launch()
        _log(f"appliance launched in {time.monotonic() - start:.1f}s for {len(batch)} guest(s)")
        for guest in batch:
            assert guest.builder is not None
            start = time.monotonic()
            ctx = Ctx(g, devices[guest.name], workdir, guest.name)
            try:
                g.lvm_set_filter(ctx.disks)  # hide the other guests' volume groups
                guest.builder(ctx)
                ctx.cleanup()
                g.sync()
                _log(f"built {guest.name} in {time.monotonic() - start:.1f}s")
            except Exception as e:  # noqa: BLE001 - report per guest, go on with the others
                errors[guest.name] = f"{type(e).__name__}: {e}"
                _log(f"FAILED {guest.name}: {errors[guest.name]}")
                with contextlib.suppress(Exception):
                    ctx.cleanup()
        g.shutdown()
    except Exception as e:  # noqa: BLE001
        for guest in batch:
            errors.setdefault(guest.name, f"appliance: {type(e).__name__}: {e}")
    finally:
        g.close()
    for guest in batch:
        if guest.name in errors:
            _discard(tmps[guest.name])
        else:
            _commit(guest, tmps[guest.name])
    return errors


def _build_locked(guests: list[Guest], workdir: Path) -> dict[str, str]:
    """Build guests whose locks this process holds; return {name: error} of the failures."""
    errors: dict[str, str] = {}
    for guest in [g for g in guests if g.builder is None]:
        _commit(guest, _create_disks(guest))
        _log(f"built {guest.name} (blank)")
    launched = [g for g in guests if g.builder is not None]
    for i in range(0, len(launched), BATCH_SIZE):
        errors.update(_run_batch(launched[i : i + BATCH_SIZE], workdir))
    return errors


def build(guests: list[Guest], force: bool = False) -> None:
    """Build every guest that is missing or stale (all of them with `force`)."""
    import tempfile

    todo = [g for g in guests if force or not is_fresh(g)]
    if not todo:
        return
    errors: dict[str, str] = {}
    deferred: list[Guest] = []
    with tempfile.TemporaryDirectory(prefix="guestinspect-images-") as tmp:
        workdir = Path(tmp)
        with contextlib.ExitStack() as stack:
            mine: list[Guest] = []
            for guest in todo:
                held = stack.enter_context(_lock(guest, blocking=False))
                if held is None:
                    deferred.append(guest)  # another process is building it: wait below
                elif force or not is_fresh(guest):
                    mine.append(guest)
            errors.update(_build_locked(mine, workdir))
        for guest in deferred:
            with _lock(guest, blocking=True):
                if not is_fresh(guest):
                    errors.update(_build_locked([guest], workdir))
    if errors:
        raise BuildError(
            "could not build: " + "; ".join(f"{name}: {msg}" for name, msg in errors.items())
        )
