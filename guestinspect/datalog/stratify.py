"""Order relations into strata: strongly connected components of the dependency graph."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from .ir import AggregateLit, AtomLit, Lit, NormRule
from .syntax import Location


@dataclass
class Stratum:
    relations: list[str]
    rules: list[NormRule] = field(default_factory=list)
    recursive: bool = False


@dataclass
class Edge:
    source: str  # the head relation
    target: str  # a body relation it depends on
    negative: bool  # through a negation or an aggregate
    what: str  # "negation" / "aggregate"
    loc: Location


def dependencies(rule: NormRule) -> list[Edge]:
    edges: list[Edge] = []

    def walk(lits: list[Lit], under_aggregate: Location | None) -> None:
        for lit in lits:
            if isinstance(lit, AtomLit) and not lit.python:
                if under_aggregate is not None:
                    edges.append(Edge(rule.head, lit.relation, True, "aggregate over",
                                      under_aggregate))
                elif lit.negated:
                    edges.append(Edge(rule.head, lit.relation, True, "negation of", lit.loc))
                else:
                    edges.append(Edge(rule.head, lit.relation, False, "", lit.loc))
            elif isinstance(lit, AggregateLit):
                walk(lit.body, under_aggregate or lit.loc)

    walk(rule.body, None)
    return edges


def stratify(relations: list[str], rules: list[NormRule]) -> tuple[list[Stratum], list[str]]:
    """Return the strata in evaluation order, and errors for unstratifiable cycles."""
    graph: dict[str, list[str]] = {r: [] for r in relations}
    all_edges: list[Edge] = []
    for rule in rules:
        for e in dependencies(rule):
            graph.setdefault(e.source, []).append(e.target)
            graph.setdefault(e.target, [])
            all_edges.append(e)
    components = _tarjan(graph)  # dependencies come before dependents
    comp_of = {r: i for i, comp in enumerate(components) for r in comp}
    errors: list[str] = []
    for e in all_edges:
        if e.negative and comp_of[e.source] == comp_of[e.target]:
            cycle = _cycle(graph, e.source, e.target, set(components[comp_of[e.source]]))
            errors.append(f"{e.loc}: cannot stratify: {e.what} {e.target} in the cycle "
                          f"{' -> '.join(cycle)}")
    strata = [Stratum(sorted(comp)) for comp in components]
    for rule in rules:
        strata[comp_of[rule.head]].rules.append(rule)
    for i, s in enumerate(strata):
        members = set(s.relations)
        s.recursive = any(e.target in members for e in all_edges if comp_of[e.source] == i)
    return strata, errors


def _cycle(graph: dict[str, list[str]], head: str, body: str, comp: set[str]) -> list[str]:
    """A dependency path head -> body -> ... -> head inside one component."""
    prev: dict[str, str | None] = {body: None}
    queue = deque([body])
    while queue:
        node = queue.popleft()
        if node == head:
            break
        for nxt in graph[node]:
            if nxt in comp and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    path: list[str] = []
    step: str | None = head
    while step is not None:
        path.append(step)
        step = prev.get(step)
    path.reverse()  # body ... head
    return [head] + path if head != body else [head, head]


def _tarjan(graph: dict[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp: list[str] = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(comp)
    return out
