"""The inspection loop: evaluate the rules, fetch what they want, evaluate again."""

import os
import stat
import threading
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from guestinspect.collectors.answerers.table import WANTED
from guestinspect.collectors.base import WANT_RELATIONS, Collector, FactSet
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.datalog import Database, Limits, Program
from guestinspect.datalog.program_cache import load_files
from guestinspect.errors import LaunchError
from guestinspect.functors import FUNCTORS, RELATIONS

#: Stop asking after this many rounds: a rule that keeps wanting new things is a bug.
MAX_ROUNDS = 64


def rules_dir() -> Path:
    """The shipped rules: ``guestinspect/rules`` in a wheel, ``rules/`` in a checkout."""
    shipped = Path(str(resources.files("guestinspect"))) / "rules"
    if (shipped / "inspect.dl").is_file():
        return shipped
    return Path(__file__).resolve().parents[2] / "rules"


def user_rule_files(directories: Sequence[Path]) -> list[Path]:
    """Every ``.dl`` file of the user's rule directories (or files), in name order."""
    files: list[Path] = []
    for d in directories:
        files.extend(sorted(d.glob("*.dl")) if d.is_dir() else [d])
    return files


def new_program(user_rules: Sequence[Path] = (), limits: Limits | None = None) -> Program:
    """The shipped inspection program plus the user's own rule files (``limits``: the
    engine's, docs/rule-language.md "Limits"; default: the engine's defaults), parsed,
    checked and compiled afresh."""
    paths = [rules_dir() / "inspect.dl", *user_rule_files(user_rules)]
    return Program.from_files(paths, functors=FUNCTORS, relations=RELATIONS,
                              limits=limits or Limits())


#: Programs kept by :func:`load_program` (the last few rule sets).
MAX_PROGRAMS = 4
_programs: dict[tuple[object, ...], Program] = {}
_programs_lock = threading.Lock()


def _fingerprint(paths: Sequence[Path]) -> tuple[object, ...] | None:
    """The identity of rule files as stat sees them (device, inode, size, mtime); None if
    one is not a regular file (its errors are the loader's to report)."""
    out: list[object] = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        out.append((str(p), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
    return tuple(out)


def load_program(user_rules: Sequence[Path] = (), limits: Limits | None = None) -> Program:
    """:func:`new_program`, kept while its files are unchanged: a process inspecting many
    guests (a fleet's worker, ``Inspector`` after ``Inspector``) parses and checks the rules
    once, and the program's compiled rules serve every guest. The key is every shipped
    ``.dl`` file's and each user file's stat identity, and the limits; a file included by a
    user's file is not part of it."""
    limits = limits or Limits()
    shipped = _fingerprint(sorted(rules_dir().rglob("*.dl")))
    user = _fingerprint(user_rule_files(user_rules))
    if shipped is None or user is None:
        return new_program(user_rules, limits)
    key = (shipped, user, limits)
    with _programs_lock:
        program = _programs.get(key)
    if program is None:
        # from the persistent cache (datalog/program_cache.py) when a process before had it
        paths = [rules_dir() / "inspect.dl", *user_rule_files(user_rules)]
        program = load_files(paths, functors=FUNCTORS, relations=RELATIONS, limits=limits)
        with _programs_lock:
            if len(_programs) >= MAX_PROGRAMS:
                _programs.clear()
            _programs[key] = program
    return program


def _add(db: Database, facts: FactSet) -> None:
    for name, tuples in facts.items():
        db.add_facts(name, tuples)


def _unfinished(deadline: Deadline, wants: FactSet) -> str:
    """The warning for a deadline passed with ``wants`` unanswered."""
    left = ", ".join(
        f"{len(wants[name])} {WANTED.get(name, name)}"
        for name in WANT_RELATIONS
        if wants.get(name)
    )
    return f"{deadline.describe()}; not read: {left}; the report shows what was read before"


def run_collector(
    program: Program, collector: Collector, deadline: Deadline = NO_DEADLINE
) -> Database:
    """Evaluate ``program`` over what ``collector`` finds, asking it for more until done.

    At the ``deadline`` the requests not yet answered are given up (with a warning) and the
    database holds what was read before. A round is all or nothing: the answers of a round
    that ended after the deadline (the appliance may have been killed under it) are dropped.
    """
    db = Database(program)
    stats = collector.stats()
    try:
        initial = collector.initial_facts()
        deadline.check()
    except LaunchError:
        raise  # nothing was read: an error (the appliance did not start before the deadline)
    except Exception:
        if not deadline.expired():
            raise
        # DeadlineExceeded, or the error of a call cut short by the appliance's killing
        stats.warnings.append(
            f"{deadline.describe()} while reading the devices and filesystems; nothing inspected"
        )
        db.run()
        return db
    _add(db, initial)
    asked: set[tuple[str, tuple[str | int, ...]]] = set()
    for _ in range(MAX_ROUNDS):
        db.run()
        stats.rounds += 1
        new: FactSet = {}
        for name in WANT_RELATIONS:
            for t in db.tuples(name):
                if (name, t) not in asked:
                    asked.add((name, t))
                    new.setdefault(name, set()).add(t)
        if not new:
            return db
        try:
            deadline.check()
            answers = collector.answer(new)
            deadline.check()
        except Exception:
            if not deadline.expired():
                raise
            stats.warnings.append(_unfinished(deadline, new))
            return db
        _add(db, answers)
    stats.warnings.append(f"rules still wanted more after {MAX_ROUNDS} rounds; stopped")
    return db


def run_snapshot(program: Program, facts_dir: Path) -> Database:
    """Evaluate ``program`` over a recorded fact snapshot (no image, no appliance)."""
    db = Database(program)
    db.load_facts_dir(facts_dir)
    db.run()
    return db
