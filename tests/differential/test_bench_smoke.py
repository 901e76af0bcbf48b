"""Smoke tests of the benchmark harnesses: bench/run.py on tiny sizes, our engine only, results
checked by brute force; bench/backends.py's one direct run, its XML checked against upstream's.

Correctness only: nothing here looks at timings.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import lang
import pytest
import workloads

from .common import run_ours

RUN = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def reachable_pairs(edges: list[tuple[lang.Value, ...]]) -> set[tuple[lang.Value, ...]]:
    """Transitive closure by a depth-first search from every node."""
    succ: dict[lang.Value, list[lang.Value]] = defaultdict(list)
    for a, b in edges:
        succ[a].append(b)
    out: set[tuple[lang.Value, ...]] = set()
    for start in list(succ):
        seen: set[lang.Value] = set()
        stack = list(succ[start])
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(succ[n])
        out.update((start, n) for n in seen)
    return out


def same_generation(par: list[tuple[lang.Value, ...]]) -> set[tuple[lang.Value, ...]]:
    parent = {c: p for c, p in par}

    def depth_and_ancestors(n: lang.Value) -> list[lang.Value]:
        chain = [n]
        while chain[-1] in parent:
            chain.append(parent[chain[-1]])
        return chain

    nodes = list(parent)
    out: set[tuple[lang.Value, ...]] = set()
    for x in nodes:
        ax = depth_and_ancestors(x)
        for y in nodes:
            ay = depth_and_ancestors(y)
            if len(ax) == len(ay) and len(ax) > 1:  # same depth, below a common ancestor
                out.add((x, y))
    return out


@pytest.mark.parametrize("workload", [w.name for w in workloads.TINY])
def test_tiny_workload_matches_brute_force(workload: str) -> None:
    spec = workloads.get("tiny", workload)
    ours = run_ours(spec)
    assert ours == lang.naive_eval(spec)
    if workload.startswith("tc-"):
        assert ours["tc"] == reachable_pairs(spec.facts["edge"])
    elif workload == "same-gen":
        assert ours["sg"] == same_generation(spec.facts["par"])
    elif workload == "negation":
        nodes = {n for (n,) in spec.facts["node"]}
        tc = reachable_pairs(spec.facts["edge"])
        assert ours["unreach"] == {(x, y) for x in nodes for y in nodes} - tc
    assert sum(len(v) for v in ours.values()) > 0


def test_bench_script_quick_run_ours_only() -> None:
    """``bench/run.py`` end to end on the tiny sizes, with its own brute-force check."""
    proc = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--size", "tiny", "--engines", "ours",
         "--reference"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all engines agree" in proc.stdout
    for w in workloads.TINY:
        assert w.name in proc.stdout


BACKENDS = Path(__file__).resolve().parents[2] / "bench" / "backends.py"


def test_backends_bench_smoke_direct_matches_virt_inspector(tmp_path: Path) -> None:
    """``bench/backends.py --smoke`` end to end: one cold ``guestinspect --backend direct``
    on the debian guest (no VM), timed; its XML is upstream virt-inspector's for that guest."""
    from tests.oracles import expected_files, guest_of

    proc = subprocess.run(
        [sys.executable, str(BACKENDS), "--smoke", "--guests", "debian", "--xml-dir",
         str(tmp_path)],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"^  direct +\d+\.\d\d ", proc.stdout, re.MULTILINE), proc.stdout
    assert "virt-inspector" not in proc.stdout and "appliance" not in proc.stdout  # no VM
    oracle = next(p for p in expected_files() if guest_of(p) == "debian")
    assert (tmp_path / "debian.direct.xml").read_text() == oracle.read_text()
