"""The child process of the isolated hive reader (collectors/isolate.py); run as a script.

It reads one JSON request on stdin (``path``, ``fs``, ``hive``, ``keys``, ``limits``,
``fault``), sets its own resource limits, reads the keys with collectors/registry.py (loaded
by file name: importing the guestinspect package would cost a fifth of a second per hive) and
writes the facts as JSON on stdout: ``{"Relation": [[column, …], …]}`` or ``{"error": "…"}``.
"""

import importlib.util
import json
import os
import resource
import signal
import sys
import time
from pathlib import Path
from types import ModuleType


def _registry() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "guestinspect_hive_registry", Path(__file__).with_name("registry.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _vm_size() -> int:
    """Bytes of address space this process uses now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _set_limits(memory: int, cpu_seconds: int, hive_size: int) -> None:
    address = _vm_size() + 2 * hive_size + memory
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        address = min(address, hard)
    resource.setrlimit(resource.RLIMIT_AS, (address, hard))
    cpu = max(1, cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _commit(fault: str) -> None:
    """Misbehave on purpose, as a damaged hive could make hivex do (tests only)."""
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
        sys.stdout.write('{"RegistryValue": [["not", "this", "fs"]]}')
        sys.stdout.flush()
        os._exit(0)


def main() -> None:
    answer: dict[str, object]
    try:
        req = json.loads(sys.stdin.read())
        path = str(req["path"])
        _set_limits(int(req["memory"]), int(req["cpu_seconds"]), os.path.getsize(path))
        if req.get("fault"):
            _commit(str(req["fault"]))
        facts = _registry().read_keys(Path(path), str(req["fs"]), str(req["hive"]),
                                      [str(k) for k in req["keys"]])
        answer = {rel: sorted(tuples) for rel, tuples in facts.items()}
    except MemoryError:
        answer = {"error": "out of memory"}
    except OSError as e:
        answer = {"error": f"cannot read the hive: {e.strerror or e}"}
    except Exception as e:  # noqa: BLE001 - one line for the parent, never a traceback
        answer = {"error": f"{type(e).__name__}: {e}"}
    try:
        data = json.dumps(answer)
    except MemoryError:
        data = '{"error": "out of memory"}'
    sys.stdout.write(data)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
