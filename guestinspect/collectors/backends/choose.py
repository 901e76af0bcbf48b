"""Which backend reads a guest: ``--backend auto|direct|appliance`` (docs/cli.md)."""

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from guestinspect.collectors.base import Collector
from guestinspect.collectors.deadline import NO_DEADLINE, Deadline
from guestinspect.collectors.keys import KeySpec
from guestinspect.collectors.uri import RemoteDisk
from guestinspect.errors import UsageError

if TYPE_CHECKING:
    from guestinspect.collectors.backends.direct import DirectChild

#: The backends, the default first.
BACKENDS = ("auto", "direct", "appliance")
#: The default backend when none is given (``auto`` if unset).
BACKEND_ENV = "GUESTINSPECT_BACKEND"


def default_backend() -> str:
    """$GUESTINSPECT_BACKEND, or ``auto``."""
    return check_backend(os.environ.get(BACKEND_ENV) or "auto", BACKEND_ENV)


def check_backend(backend: str, what: str = "--backend") -> str:
    if backend not in BACKENDS:
        raise UsageError(f"{what} {backend!r}: expected one of {', '.join(BACKENDS)}")
    return backend


def prestart(backend: str, disks: Sequence[Path | RemoteDisk]) -> "DirectChild | None":
    """The direct backend's child process, started now for :func:`open_collector` (its
    interpreter and imports run while the caller loads the rules); None if the backend will
    not need one. The caller closes it if it is not given to open_collector."""
    if backend == "appliance" or not disks or not all(isinstance(d, Path) for d in disks):
        return None
    from guestinspect.collectors.backends.direct import DirectChild

    try:
        return DirectChild()
    except OSError:
        return None  # open_collector's own start says why


def open_collector(
    backend: str,
    disks: Sequence[Path | RemoteDisk],
    *,
    format: str | None = None,
    keys: KeySpec | None = None,
    progress: bool = False,
    deadline: Deadline = NO_DEADLINE,
    stall_timeout: float | None = None,
    child: "DirectChild | None" = None,
) -> Collector:
    """The collector of ``backend`` over ``disks`` (nothing is read yet); ``child``: one from
    :func:`prestart`, now the collector's."""
    keys = keys if keys is not None else KeySpec()
    local = [d for d in disks if isinstance(d, Path)]
    remote = len(local) != len(disks)
    if backend == "direct" and remote:
        raise UsageError("--backend direct reads local disk images only, not URIs "
                         "(use --backend auto or appliance)")

    def appliance(keys: KeySpec = keys) -> Collector:
        from guestinspect.collectors.image import ImageCollector  # imports libguestfs

        return ImageCollector(disks, format=format, keys=keys, progress=progress,
                              deadline=deadline, stall_timeout=stall_timeout)

    if check_backend(backend) == "appliance" or remote:
        if child is not None:
            child.close()
        return appliance()
    # (the direct side takes a copy of the keys: the appliance, if launched, gets its own)
    fresh = KeySpec(list(keys.selectors), list(keys.stdin_lines) if keys.stdin_lines else None)
    from guestinspect.collectors.backends.direct import DirectCollector

    try:
        direct = DirectCollector(local, format=format, keys=keys, progress=progress,
                                 deadline=deadline, child=child)
    except BaseException:
        if child is not None:
            child.close()
        raise
    if backend == "direct":
        return direct
    from guestinspect.collectors.backends.auto import AutoCollector

    return AutoCollector(direct, lambda: appliance(fresh))
