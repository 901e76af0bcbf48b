"""The inspection loop: evaluate the rules, fetch what they want, evaluate again."""

from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from guestinspect.collectors.base import WANT_RELATIONS, Collector, FactSet
from guestinspect.datalog import Database, Program
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


def load_program(user_rules: Sequence[Path] = ()) -> Program:
    """The shipped inspection program plus the user's own rule files."""
    paths = [rules_dir() / "inspect.dl", *user_rule_files(user_rules)]
    return Program.from_files(paths, functors=FUNCTORS, relations=RELATIONS)


def _add(db: Database, facts: FactSet) -> None:
    for name, tuples in facts.items():
        db.add_facts(name, tuples)


def run_collector(program: Program, collector: Collector) -> Database:
    """Evaluate ``program`` over what ``collector`` finds, asking it for more until done."""
    db = Database(program)
    _add(db, collector.initial_facts())
    asked: set[tuple[str, tuple[str | int, ...]]] = set()
    stats = collector.stats()
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
        _add(db, collector.answer(new))
    stats.warnings.append(f"rules still wanted more after {MAX_ROUNDS} rounds; stopped")
    return db


def run_snapshot(program: Program, facts_dir: Path) -> Database:
    """Evaluate ``program`` over a recorded fact snapshot (no image, no appliance)."""
    db = Database(program)
    db.load_facts_dir(facts_dir)
    db.run()
    return db
