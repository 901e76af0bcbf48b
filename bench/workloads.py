"""The benchmark workloads, generated deterministically (fixed seeds) at a given size."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from lang import Cmp, Lit, Rule, Spec, V, Value

X, Y, Z, P, A, B = V("x"), V("y"), V("z"), V("p"), V("a"), V("b")
FS, PATH, D, D2 = V("fs"), V("path"), V("d"), V("d2")


def _tc_spec(name: str, edges: list[tuple[int, int]], notes: str) -> Spec:
    return Spec(
        name=name,
        types={"edge": ("number", "number"), "tc": ("number", "number")},
        facts={"edge": [(a, b) for a, b in edges]},
        rules=[
            Rule(Lit("tc", (X, Y)), (Lit("edge", (X, Y)),)),
            Rule(Lit("tc", (X, Z)), (Lit("tc", (X, Y)), Lit("edge", (Y, Z)))),
        ],
        outputs=["tc"],
        notes=notes,
    )


def tc_chain(n: int) -> Spec:
    return _tc_spec("tc-chain", [(i, i + 1) for i in range(n - 1)], f"chain of {n} nodes")


def random_edges(n: int, m: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    edges: set[tuple[int, int]] = set()
    while len(edges) < m:
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            edges.add((a, b))
    return sorted(edges)


def tc_random(n: int, m: int) -> Spec:
    return _tc_spec("tc-random", random_edges(n, m, seed=1),
                    f"random digraph, {n} nodes, {m} edges, seed 1")


def tc_tree(n: int) -> Spec:
    edges = [(i, c) for i in range(n) for c in (2 * i + 1, 2 * i + 2) if c < n]
    return _tc_spec("tc-tree", edges, f"binary tree of {n} nodes")


def same_generation(n: int) -> Spec:
    """sg(x, y): x and y are at the same depth below a common ancestor (binary tree)."""
    par = [(c, (c - 1) // 2) for c in range(1, n)]  # par(child, parent)
    return Spec(
        name="same-gen",
        types={"par": ("number", "number"), "sg": ("number", "number")},
        facts={"par": par},
        rules=[
            Rule(Lit("sg", (X, Y)), (Lit("par", (X, P)), Lit("par", (Y, P)))),
            # recursive atom first: pyDatalog (top-down, tabled) then makes one subgoal, not one
            # per parent, which is ~10x faster for it; bottom-up engines do not care
            Rule(Lit("sg", (X, Y)), (Lit("sg", (A, B)), Lit("par", (X, A)), Lit("par", (Y, B)))),
        ],
        outputs=["sg"],
        notes=f"binary tree of {n} nodes",
    )


def negation(n: int, m: int) -> Spec:
    """Three strata: reachability, the unreachable pairs, sources/sinks and 'isolated' pairs."""
    edges = random_edges(n, m, seed=2)
    return Spec(
        name="negation",
        types={
            "node": ("number",), "edge": ("number", "number"), "tc": ("number", "number"),
            "unreach": ("number", "number"), "hasin": ("number",), "source": ("number",),
            "far": ("number", "number"),
        },
        facts={"edge": edges, "node": [(i,) for i in range(n)]},
        rules=[
            Rule(Lit("tc", (X, Y)), (Lit("edge", (X, Y)),)),
            Rule(Lit("tc", (X, Z)), (Lit("tc", (X, Y)), Lit("edge", (Y, Z)))),
            Rule(Lit("unreach", (X, Y)),
                 (Lit("node", (X,)), Lit("node", (Y,)), Lit("tc", (X, Y), neg=True))),
            Rule(Lit("hasin", (Y,)), (Lit("edge", (X, Y)),)),
            Rule(Lit("source", (X,)), (Lit("node", (X,)), Lit("hasin", (X,), neg=True))),
            Rule(Lit("far", (X, Y)),
                 (Lit("source", (X,)), Lit("unreach", (X, Y)), Lit("unreach", (Y, X)),
                  Cmp("!=", X, Y))),
        ],
        outputs=["unreach", "source", "far"],
        notes=f"random digraph, {n} nodes, {m} edges, seed 2",
    )


# ---- the inspection-like workload --------------------------------------------------------

_TOP = ["etc", "usr", "var", "opt", "bin", "lib", "boot", "srv", "home", "Windows"]
_SUB = ["conf", "share", "lib", "log", "cache", "local", "sbin", "doc", "man", "include",
        "system32", "config", "spool", "run", "tmp", "x11", "init.d", "rc.d", "ssl", "apt"]


def _path_pool(size: int, rng: random.Random) -> tuple[list[str], dict[str, str]]:
    """``size`` file paths in a three-level tree, and the parent of every path and dir."""
    parent: dict[str, str] = {}
    for t in _TOP:
        parent["/" + t] = "/"
        for s in _SUB:
            parent[f"/{t}/{s}"] = "/" + t
    dirs = [d for d in parent if d.count("/") == 2]
    files: list[str] = []
    i = 0
    while len(files) < size:
        d = dirs[i % len(dirs)]
        f = f"{d}/f{i}.{rng.choice(['conf', 'so', 'txt', 'dll', 'py', ''])}".rstrip(".")
        files.append(f)
        parent[f] = d
        i += 1
    return files, parent


def inspection(n_files: int, n_fs: int = 20, n_rules: int = 100) -> Spec:
    """~n_files File(fs, path) facts and n_rules rules of 2-4 atoms with constants.

    Every filesystem holds 80% of 100 common paths and a random half of a shared pool of
    other paths. Rules, in layers (constants drawn from the common paths):
    40% markers ``M(fs) :- File(fs, c1), File(fs, c2)``; 25% classifiers
    ``C(fs) :- M(fs), M'(fs), File(fs, c)``; 20% listings
    ``L(fs, p) :- C(fs), File(fs, p), Parent(p, "/etc/conf")``; 15% joins
    ``J(fs, p) :- M(fs), File(fs, p), Parent(p, d), Parent(d, "/usr")``.
    """
    rng = random.Random(3)
    pool, parent = _path_pool(max(4, n_files * 2 // n_fs), rng)
    fs_names = [f"/dev/sd{chr(97 + i // 4)}{i % 4 + 1}" for i in range(n_fs)]
    files: list[tuple[Value, ...]] = []
    common, rest = pool[:100], pool[100:]
    for fs in fs_names:
        files.extend((fs, p) for p in common if rng.random() < 0.8)
        files.extend((fs, p) for p in rng.sample(rest, len(rest) // 2))
    types: dict[str, tuple[str, ...]] = {
        "File": ("symbol", "symbol"), "Parent": ("symbol", "symbol"),
    }
    rules: list[Rule] = []
    n_m = max(2, n_rules * 40 // 100)
    n_c = max(1, n_rules * 25 // 100)
    n_l = max(1, n_rules * 20 // 100)
    n_j = max(1, n_rules - n_m - n_c - n_l)
    dirs = sorted({d for d in parent.values() if d.count("/") == 2})
    tops = sorted({d for d in parent.values() if d.count("/") == 1 and d != "/"})
    for i in range(n_m):
        types[f"M{i}"] = ("symbol",)
        c1, c2 = rng.sample(common, 2)
        rules.append(Rule(Lit(f"M{i}", (FS,)), (Lit("File", (FS, c1)), Lit("File", (FS, c2)))))
    for i in range(n_c):
        types[f"C{i}"] = ("symbol",)
        a, b = rng.sample(range(n_m), 2)
        rules.append(Rule(Lit(f"C{i}", (FS,)), (Lit(f"M{a}", (FS,)), Lit(f"M{b}", (FS,)),
                                                Lit("File", (FS, rng.choice(common))))))
    for i in range(n_l):
        types[f"L{i}"] = ("symbol", "symbol")
        rules.append(Rule(Lit(f"L{i}", (FS, PATH)),
                          (Lit(f"C{rng.randrange(n_c)}", (FS,)), Lit("File", (FS, PATH)),
                           Lit("Parent", (PATH, rng.choice(dirs))))))
    for i in range(n_j):
        types[f"J{i}"] = ("symbol", "symbol")
        rules.append(Rule(Lit(f"J{i}", (FS, PATH)),
                          (Lit(f"M{rng.randrange(n_m)}", (FS,)), Lit("File", (FS, PATH)),
                           Lit("Parent", (PATH, D)), Lit("Parent", (D, rng.choice(tops))))))
    outputs = [r for r in types if r not in ("File", "Parent")]
    return Spec(
        name="inspection",
        types=types,
        facts={"File": files, "Parent": sorted(parent.items())},
        rules=rules,
        outputs=outputs,
        notes=f"{len(files)} File facts over {n_fs} filesystems, {len(rules)} rules",
    )


@dataclass(frozen=True)
class Workload:
    name: str
    build: Callable[[], Spec]


FULL: list[Workload] = [
    Workload("tc-chain", lambda: tc_chain(600)),
    Workload("tc-random", lambda: tc_random(1500, 1700)),
    Workload("tc-tree", lambda: tc_tree(16383)),
    Workload("same-gen", lambda: same_generation(1023)),
    Workload("negation", lambda: negation(200, 220)),
    Workload("inspection", lambda: inspection(50_000)),
]

QUICK: list[Workload] = [
    Workload("tc-chain", lambda: tc_chain(120)),
    Workload("tc-random", lambda: tc_random(150, 170)),
    Workload("tc-tree", lambda: tc_tree(1023)),
    Workload("same-gen", lambda: same_generation(127)),
    Workload("negation", lambda: negation(60, 66)),
    Workload("inspection", lambda: inspection(5_000)),
]

TINY: list[Workload] = [
    Workload("tc-chain", lambda: tc_chain(25)),
    Workload("tc-random", lambda: tc_random(30, 36)),
    Workload("tc-tree", lambda: tc_tree(63)),
    Workload("same-gen", lambda: same_generation(31)),
    Workload("negation", lambda: negation(20, 24)),
    Workload("inspection", lambda: inspection(400, n_fs=4, n_rules=20)),
]

SIZES = {"full": FULL, "quick": QUICK, "tiny": TINY}


def get(size: str, name: str) -> Spec:
    for w in SIZES[size]:
        if w.name == name:
            return w.build()
    raise KeyError(name)
