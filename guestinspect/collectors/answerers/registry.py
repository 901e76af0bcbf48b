"""WantRegistryKey: keys of a Windows registry hive, the hive copied out once and read by
hivex in a child process (collectors/isolate.py)."""

from collections import defaultdict
from pathlib import Path

from guestinspect.collectors import isolate
from guestinspect.collectors.answerers.context import AnswerContext, one_line
from guestinspect.collectors.factset import FactSet, merge
from guestinspect.collectors.view import ReadError

#: Hives larger than this are not copied.
HIVE_LIMIT = 1024 * 1024 * 1024


def answer_registry(ctx: AnswerContext, wants: FactSet, facts: FactSet) -> None:
    by_hive: dict[tuple[str, str], list[str]] = defaultdict(list)
    for t in wants.get("WantRegistryKey", ()):
        by_hive[(str(t[0]), str(t[1]))].append(str(t[2]))
    for (fs, hive), keys in sorted(by_hive.items()):
        local = _hive(ctx, fs, hive)
        if isinstance(local, str):
            facts.setdefault("HiveError", set()).add((fs, hive, local))
            continue
        if ctx.read_hive is not None:
            merge(facts, ctx.read_hive(local, fs, hive, keys))
            continue
        # In a child process: hivex may crash on a damaged hive (collectors/isolate.py).
        read = isolate.read_keys_isolated(local, fs, hive, keys,
                                          timeout=ctx.deadline.remaining())
        merge(facts, read)


def _hive(ctx: AnswerContext, fs: str, hive: str) -> Path | str:
    """A local copy of a hive (copied once), or why there is none."""
    if (fs, hive) not in ctx.hives:
        ctx.hives[(fs, hive)] = _copy_hive(ctx, fs, hive)
    return ctx.hives[(fs, hive)]


def _copy_hive(ctx: AnswerContext, fs: str, hive: str) -> Path | str:
    gfs = ctx.filesystems.get(fs)
    if gfs is None:
        return "filesystem not mounted"
    real = gfs.case_path(hive)  # Windows paths are case-insensitive: the name as stored
    found = None if real is None else gfs.target(real)
    if found is None:
        return "hive not found"
    if found[1].kind != "file" or found[1].size > HIVE_LIMIT:
        return "hive is not a regular file of a sensible size"
    local = ctx.tmp / f"hive{len(ctx.hives)}"
    try:
        gfs.view.copy_out(found[0], local, HIVE_LIMIT)
    except ReadError as e:
        return f"cannot download hive: {one_line(e)}"
    return local
