"""WantPackages: the records of a package database (dpkg, apk, rpm, pacman), read by the
parsers of collectors/packages.py from files copied out of the guest (at most DB_LIMIT
bytes of each)."""

import tarfile
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

from guestinspect.collectors import packages
from guestinspect.collectors.answerers.context import AnswerContext, one_line
from guestinspect.collectors.factset import FactSet, merge
from guestinspect.collectors.resolver import GuestFilesystem, join


@runtime_checkable
class DirArchive(Protocol):
    """A view that can copy a whole directory out in one go (the appliance's ``tar_out``):
    pacman's ``local`` directory is then one call, not one per package."""

    def archive_dir(self, directory: str, tar: Path, excludes: list[str]) -> bool:
        """A tar of the real directory ``directory`` (``excludes``: names left out) in
        ``tar``, cut past packages.DB_LIMIT bytes; False if it was cut."""
        ...


def answer_packages(ctx: AnswerContext, wants: FactSet, facts: FactSet) -> None:
    for t in sorted(wants.get("WantPackages", ())):
        fs, kind, path = (str(c) for c in t[:3])
        try:
            records = _records(ctx, fs, kind, path)
        except (RuntimeError, ValueError, OSError, tarfile.TarError) as e:
            # A damaged or capped database: a warning, and the records it still gave.
            records = e.records if isinstance(e, packages.PackageDbError) else []
            message = one_line(e)
            facts.setdefault("PackageDbError", set()).add((fs, kind, path, message))
            ctx.warn(f"{fs}:{path}: {kind} database: {message}")
        merge(facts, packages.records_to_facts(fs, kind, records))


def _copy(gfs: GuestFilesystem, path: str, local: Path, partial: bool = False) -> int | None:
    """Copy out a regular file of the guest, at most packages.DB_LIMIT bytes of it (with
    ``partial``; without, a larger file is a PackageDbError); its size, or None if there is
    no such file."""
    found = gfs.target(path)
    if found is None or found[1].kind != "file":
        return None
    size, limit = found[1].size, packages.DB_LIMIT
    if size > limit and not partial:
        raise packages.PackageDbError(f"{path} is larger than {limit} bytes ({size})")
    gfs.view.copy_out(found[0], local, limit)
    return size


def _records(ctx: AnswerContext, fs: str, kind: str, path: str) -> list[packages.Record]:
    gfs = ctx.filesystems.get(fs)
    if gfs is None:
        raise ValueError("filesystem not mounted")
    work = Path(tempfile.mkdtemp(dir=ctx.tmp))
    if kind in ("dpkg", "apk"):
        return _text_db(gfs, kind, path, work)
    if kind == "rpm":
        return _rpm(gfs, path, work)
    if kind == "pacman":
        return _pacman(gfs, path, work)
    raise ValueError(f"unknown package database kind {kind!r}")


def _text_db(gfs: GuestFilesystem, kind: str, path: str, work: Path) -> list[packages.Record]:
    size = _copy(gfs, path, work / "db", partial=True)
    if size is None:
        raise ValueError(f"{path} not found")
    with (work / "db").open("rb") as f:
        data = f.read(packages.DB_LIMIT)
    if kind == "dpkg":
        return packages.parse_dpkg_status(data, size)
    return packages.parse_apk_installed(data, size)


def _rpm(gfs: GuestFilesystem, path: str, work: Path) -> list[packages.Record]:
    if _copy(gfs, join(path, "rpmdb.sqlite"), work / "rpmdb.sqlite") is not None:
        # The WAL, not the guest's -shm (an index sqlite would trust; it rebuilds it).
        _copy(gfs, join(path, "rpmdb.sqlite-wal"), work / "rpmdb.sqlite-wal")
        return packages.read_rpm_sqlite(work / "rpmdb.sqlite")
    if _copy(gfs, join(path, "Packages"), work / "Packages") is not None:
        with (work / "Packages").open("rb") as f:
            return packages.read_rpm_bdb(f.read(packages.DB_LIMIT))
    raise ValueError(f"no rpmdb.sqlite or Packages in {path}")


def _pacman(gfs: GuestFilesystem, path: str, work: Path) -> list[packages.Record]:
    real = gfs.resolve(path)
    if real is None or gfs.get(real).kind != "dir":
        raise ValueError(f"{path} not found")
    if isinstance(gfs.view, DirArchive):
        tar = work / "local.tar"
        complete = gfs.view.archive_dir(real, tar, ["files", "mtree"])
        return packages.read_pacman_tar(tar, complete)
    return _pacman_descs(gfs, real)


def _pacman_descs(gfs: GuestFilesystem, real: str) -> list[packages.Record]:
    """Each ``<package>/desc`` of the real directory ``real`` (a regular file, as a tar has
    it), in the order of their paths, at most packages.DB_LIMIT bytes in all."""
    entries = gfs.view.listdir(real)
    dirs = sorted((f"{n}/desc", n) for n, kind in entries.items() if kind == "dir")
    left = packages.DB_LIMIT
    records: list[packages.Record] = []
    for _, name in dirs:
        desc = join(join(real, name), "desc")
        st = gfs.get(desc)
        if st.kind != "file":
            continue
        if st.size > left:
            raise packages.PacmanError(
                f"larger than {packages.DB_LIMIT} bytes: read the first descs only", records)
        left -= st.size
        records.append(packages.parse_pacman_desc(gfs.view.read(desc, 0, st.size)))
    return records
