"""The fuzz targets, one module per area, each registering its targets with `target()`."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Target:
    """One parser under test.

    `run(data)` feeds it one input. It may raise only the parser's own error types
    (`expected`); anything else, a hang past the case's deadline or running out of memory is
    a finding. `seeds()` returns valid (or nearly valid) inputs the mutations start from.
    """

    name: str
    run: Callable[[bytes], object]
    seeds: Callable[[], list[bytes]]
    expected: tuple[type[BaseException], ...] = ()
    # Inputs longer than this are cut before `run` (keeps a case cheap).
    max_len: int = 1 << 16
    # Cases of this target are slow (an appliance-free but costly parse): run fewer.
    cost: int = 1
    tags: tuple[str, ...] = field(default=())


REGISTRY: dict[str, Target] = {}


def target(
    name: str,
    seeds: Callable[[], list[bytes]],
    expected: tuple[type[BaseException], ...] = (),
    max_len: int = 1 << 16,
    cost: int = 1,
) -> Callable[[Callable[[bytes], object]], Callable[[bytes], object]]:
    """Register the decorated function as the fuzz target `name`."""

    def register(run: Callable[[bytes], object]) -> Callable[[bytes], object]:
        if name in REGISTRY:
            raise ValueError(f"fuzz target {name} registered twice")
        REGISTRY[name] = Target(name, run, seeds, expected, max_len, cost)
        return run

    return register


def load_all() -> dict[str, Target]:
    """Import every module of this package (each registers its targets) and return them."""
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return dict(sorted(REGISTRY.items()))
