"""WantDir: the entries of a directory (Entry, FileSize, Symlink of each; Listed)."""

from guestinspect.collectors.answerers.context import AnswerContext, one_line
from guestinspect.collectors.answerers.paths import entry_facts
from guestinspect.collectors.factset import FactSet
from guestinspect.collectors.resolver import GuestFilesystem, join, norm
from guestinspect.collectors.view import ReadError, Stat


def answer_dirs(ctx: AnswerContext, wants: FactSet, facts: FactSet) -> None:
    for t in sorted(wants.get("WantDir", ())):
        fs, path = str(t[0]), norm(str(t[1]))
        gfs = ctx.filesystems.get(fs)
        if gfs is None:
            continue
        real = gfs.resolve(path)
        if real is None or gfs.get(real).kind != "dir":
            facts.setdefault("Missing", set()).add((fs, path))
            continue
        try:
            _list(gfs, path, real, facts)
        except ReadError as e:
            ctx.warn(f"{fs}:{path}: cannot list: {one_line(e)}")


def _list(gfs: GuestFilesystem, path: str, real: str, facts: FactSet) -> None:
    children = gfs.view.listdir(real)
    files = [n for n, k in children.items() if k == "file"]
    links = [n for n, k in children.items() if k == "symlink"]
    sizes = gfs.view.lstat_names(real, files) if files else []
    for name, st in zip(files, sizes, strict=True):
        gfs.remember(join(real, name), Stat("file", st.size), replace=True)
    for name, kind in children.items():
        child = join(path, name)
        st = gfs.cached(join(real, name)) or Stat(kind, 0)
        gfs.remember(child, st)
        entry_facts(gfs.name, child, st, facts)
    for child, target in gfs.symlink_targets([join(path, n) for n in links]).items():
        facts.setdefault("Symlink", set()).add((gfs.name, child, target))
    facts.setdefault("Listed", set()).add((gfs.name, path))
