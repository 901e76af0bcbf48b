"""The package's layers import one way only (docs/architecture.md, "Layers").

Every ``import`` of every module of ``guestinspect/`` (those inside functions and under
``TYPE_CHECKING`` too) is read from its syntax tree: a part may import only parts of a lower
layer (or itself), no module may take part in an import cycle, and nothing imports ``tests``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "guestinspect"

#: The layers, lowest first: a part (a subpackage or a top-level module of guestinspect) may
#: import the parts of lower layers only. ``__init__`` is the package's facade (the public API).
LAYERS: list[set[str]] = [
    {"errors", "datalog", "phony"},  # nothing of the rest (the engine knows nothing of disks)
    {"collectors", "functors"},  # reading guests; the rules' Python functors
    {"inspection"},  # the driver loop, inspection dicts
    {"reporting"},  # XML, JSON, explanations of inspection dicts
    {"api"},  # Inspector, inspect()
    {"record", "sample", "mount", "fleet", "query"},  # built on the API
    {"cli", "__init__"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ["guestinspect", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    """The modules ``module`` imports (``from X import y``: ``X.y`` when it is a module)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, *([node.module] if node.module else [])])
            subs = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(subs or {base})
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_layer() -> None:
    assert {_part(m) for m in MODULES} == set(RANK)


def test_the_package_never_imports_the_tests() -> None:
    bad = sorted(f"{m} imports {t}" for m, ts in GRAPH.items() for t in ts
                 if t == "tests" or t.startswith("tests."))
    assert bad == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module: str) -> None:
    part = _part(module)
    upward = sorted(t for t in GRAPH[module] if t.startswith("guestinspect")
                    and _part(t) != part and RANK[_part(t)] >= RANK[part])
    assert upward == [], f"{part} (layer {RANK[part]}) may not import {upward}"


def test_datalog_imports_nothing_of_the_rest() -> None:
    bad = sorted(f"{m} imports {t}" for m, ts in GRAPH.items() if _part(m) == "datalog"
                 for t in ts if t.startswith("guestinspect.") and _part(t) != "datalog")
    assert bad == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


def test_the_checks_find_what_they_look_for() -> None:
    """The graph is read right: known imports are in it, and a cycle is found."""
    assert "guestinspect.api" in GRAPH["guestinspect.record"]
    assert "guestinspect.datalog.runtime" in GRAPH["guestinspect.datalog.codegen"]  # from . import
    assert "guestinspect.errors" in GRAPH["guestinspect.collectors.image"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
