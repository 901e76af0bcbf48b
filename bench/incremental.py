"""Time incremental evaluation: facts added in batches, ``run()`` after each, as the inspection
driver does, against one ``run()`` over all the facts.

    python bench/incremental.py                     # inspection workload, 50k facts, 5 batches
    python bench/incremental.py --size quick --batches 5 --workload negation

The facts of the workload (``bench/workloads.py``) are shuffled with a fixed seed and split
into ``--batches`` batches: ``--later`` facts (300) in each batch after the first, the rest in
the first (the driver's initial facts, then a few hundred answers a round); every batch is
``add_facts`` + ``run``. The results are checked
against the one-shot evaluation. Times are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
for p in (str(HERE), str(HERE.parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

import lang  # noqa: E402
import workloads  # noqa: E402

from guestinspect.datalog import Database, Program  # noqa: E402


def batches(spec: lang.Spec, n: int, later: int, seed: int = 5
            ) -> list[dict[str, list[tuple[lang.Value, ...]]]]:
    """The facts, shuffled, as one large first batch and ``n - 1`` batches of ``later``."""
    rows = [(rel, t) for rel, ts in spec.facts.items() for t in ts]
    random.Random(seed).shuffle(rows)
    first = max(0, len(rows) - (n - 1) * later)
    cuts = [0, first] + [first + k * later for k in range(1, n)]
    out: list[dict[str, list[tuple[lang.Value, ...]]]] = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        part: dict[str, list[tuple[lang.Value, ...]]] = {}
        for rel, t in rows[a:b]:
            part.setdefault(rel, []).append(t)
        out.append(part)
    return out


def run_batches(program: Program, parts: list[dict[str, list[tuple[lang.Value, ...]]]],
                outputs: list[str]) -> tuple[list[float], lang.Result]:
    db = Database(program)
    times = []
    for part in parts:
        t0 = time.perf_counter()
        for rel, rows in part.items():
            db.add_facts(rel, rows)
        db.run()
        times.append(time.perf_counter() - t0)
    return times, {rel: db.tuples(rel) for rel in outputs}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--size", choices=sorted(workloads.SIZES), default="full")
    ap.add_argument("--workload", default="inspection")
    ap.add_argument("--batches", type=int, default=5)
    ap.add_argument("--later", type=int, default=300,
                    help="facts in each batch after the first (the first has the rest)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    spec = workloads.get(args.size, args.workload)
    program = Program.from_text(lang.to_souffle(spec), filename=f"<{spec.name}>")
    parts = batches(spec, args.batches, args.later)
    best_one: float | None = None
    best_inc: list[float] | None = None
    expected: lang.Result = {}
    got: lang.Result = {}
    for _ in range(args.repeat):
        [one], expected = run_batches(program, [spec.facts], spec.outputs)  # type: ignore[list-item]
        inc, got = run_batches(program, parts, spec.outputs)
        best_one = one if best_one is None else min(best_one, one)
        best_inc = inc if best_inc is None or sum(inc) < sum(best_inc) else best_inc
    assert best_one is not None and best_inc is not None
    print(f"{spec.name} ({args.size}): {spec.notes}; {args.batches} batches, "
          f"{args.later} facts in each after the first")
    print(f"one run over all facts:  {best_one:.3f} s")
    print(f"add + run per batch:     {' '.join(f'{t:.3f}' for t in best_inc)} s"
          f"  (total {sum(best_inc):.3f} s)")
    same = got == expected
    print("results equal the one-shot run" if same else "MISMATCH with the one-shot run")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
