"""The per-guest task on a ``dask.distributed`` cluster (``--dask tcp://HOST:PORT``).

Each guest is one task running :func:`~guestinspect.fleet.worker.inspect_guest` on a Dask
worker: the images must be reachable there at the same paths (or URIs), and the fact cache
directory is the worker machine's. Outcomes come back to the caller, which writes the
inventory. Dask is imported only here.
"""

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from guestinspect.errors import UsageError
from guestinspect.fleet.inputs import Guest
from guestinspect.fleet.worker import Options, Outcome, error_outcome, inspect_guest

#: Seconds to wait for the scheduler.
CONNECT_TIMEOUT = 30


def _distributed() -> Any:
    try:
        import distributed
    except ImportError as e:
        raise UsageError("--dask needs dask.distributed, which is not installed: "
                         "pip install 'guestinspect[dask]'") from e
    return distributed


def run(address: str, guests: Iterable[Guest], options: Options,
        started: Callable[[Guest], None] | None = None) -> Iterator[Outcome]:
    """Inspect ``guests`` on the cluster whose scheduler is at ``address``; yield each
    outcome as it comes back."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as e:
        raise UsageError(f"--dask {address}: cannot reach the scheduler: "
                         f"{' '.join(str(e).split()) or type(e).__name__}") from e
    run_id = uuid.uuid4().hex[:12]
    futures: dict[Any, Guest] = {}
    try:
        for i, guest in enumerate(guests):
            future = client.submit(inspect_guest, guest, options, pure=False,
                                   key=f"guestinspect-fleet-{run_id}-{i}")
            futures[future] = guest
            if started is not None:
                started(guest)
        for future in distributed.as_completed(list(futures)):
            guest = futures[future]
            try:
                outcome: Outcome = future.result()
            except Exception as e:  # noqa: BLE001 - a lost worker, a task that failed
                message = " ".join(str(e).split()) or type(e).__name__
                outcome = error_outcome(guest, f"dask: {type(e).__name__}: {message}")
            yield outcome
    finally:
        client.cancel(list(futures))
        client.close()
