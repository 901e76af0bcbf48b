"""The child process of the isolated hive reader (collectors/isolate.py); run as a script.

It reads one JSON request on stdin (``path``, ``fs``, ``hive``, ``keys``, ``limits``,
``fault``), sets its own resource limits (collectors/child_limits.py), reads the keys with
collectors/registry.py (both loaded by file name: importing the guestinspect package would cost
a fifth of a second per hive) and writes the facts as JSON on stdout: ``{"Relation": [[column,
…], …]}`` or ``{"error": "…"}``.
"""

import importlib.util
import json
import os
import resource
import sys
from pathlib import Path
from types import ModuleType


def _load(name: str) -> ModuleType:
    """The module ``name``.py of this folder, loaded by its file name (not the package)."""
    spec = importlib.util.spec_from_file_location(
        f"guestinspect_hive_{name}", Path(__file__).with_name(f"{name}.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _set_limits(limits: ModuleType, memory: int, cpu_seconds: int, hive_size: int) -> None:
    limits.limit_memory(2 * hive_size + memory)
    cpu = max(1, cpu_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))


def _garbage() -> None:
    """The ``garbage`` fault: a fact of another hive, then exit."""
    sys.stdout.write('{"RegistryValue": [["not", "this", "fs"]]}')
    sys.stdout.flush()
    os._exit(0)


def main() -> None:
    answer: dict[str, object]
    try:
        req = json.loads(sys.stdin.read())
        path = str(req["path"])
        limits = _load("child_limits")
        _set_limits(limits, int(req["memory"]), int(req["cpu_seconds"]), os.path.getsize(path))
        if req.get("fault"):
            limits.commit(str(req["fault"]), _garbage)
        facts = _load("registry").read_keys(Path(path), str(req["fs"]), str(req["hive"]),
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
