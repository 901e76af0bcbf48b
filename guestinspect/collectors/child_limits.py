"""What both isolated children set up for themselves: their resource limits and, in tests, the
faults they commit on purpose (collectors/hive_child.py, collectors/backends/direct_child.py).

The standard library only: the hive child loads this file by its name, without importing the
guestinspect package (which would cost a fifth of a second per hive).
"""

import os
import resource
import signal
import time
from collections.abc import Callable

#: Faults a test can ask a child to commit (tests only).
FAULTS = ("segv", "hang", "memory", "cpu", "garbage")


def vm_size() -> int:
    """Bytes of address space this process uses now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def limit_memory(extra: int) -> None:
    """At most ``extra`` more bytes of address space than now (``RLIMIT_AS``, never above its
    hard limit), and no core files."""
    address = vm_size() + extra
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        address = min(address, hard)
    resource.setrlimit(resource.RLIMIT_AS, (address, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def commit(fault: str, garbage: Callable[[], None]) -> None:
    """Misbehave on purpose, as hostile bytes could make a C library do (tests only): crash,
    hang, exhaust the memory or the CPU limit, or (``garbage``) whatever the child's own way of
    answering a fact it was not asked for is."""
    if fault == "segv":
        os.kill(os.getpid(), signal.SIGSEGV)
    elif fault == "hang":
        time.sleep(3600)
    elif fault == "memory":
        hog = [bytearray(64 << 20) for _ in range(1 << 10)]
        del hog
    elif fault == "cpu":
        while True:
            pass
    elif fault == "garbage":
        garbage()
