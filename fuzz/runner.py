"""Run fuzz targets: each target in a child process, watched for crashes, hangs and memory.

The parent starts `python -m fuzz --worker NAME ...`; the worker reports each case it starts
on stdout, so a crash (a signal) or a hang (no report within the deadline) is charged to that
case, the worker is restarted after it, and the input is saved under `fuzz/findings/`.
"""

from __future__ import annotations

import json
import os
import resource
import select
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from fuzz.mutate import case_input
from fuzz.targets import Target, load_all

FINDINGS = Path(__file__).parent / "findings"
MEMORY_LIMIT = 3 << 30  # bytes of address space for a worker
STARTUP_SECONDS = 120.0  # a loaded machine may take long to import a worker


@dataclass
class Result:
    name: str
    cases: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    findings: list[str] = field(default_factory=list)


def _save(t: Target, seeds: list[bytes], seed: int, index: int, what: str) -> str:
    data = case_input(seeds, seed, t.name, index, t.max_len)
    d = FINDINGS / t.name
    d.mkdir(parents=True, exist_ok=True)
    stem = d / f"seed{seed}-case{index}"
    stem.with_suffix(".bin").write_bytes(data)
    stem.with_suffix(".txt").write_text(what)
    first = what.strip().splitlines()[-1] if what.strip() else what
    return f"case {index}: {first} ({stem.with_suffix('.bin')})"


def worker(name: str, seed: int, start: int, stop: int, deadline: float) -> None:
    """The child: run cases start..stop-1 of target name until the wall-clock deadline."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    t = load_all()[name]
    seeds = t.seeds()
    out = sys.stdout
    for i in range(start, stop):
        if i > start and time.monotonic() > deadline:
            break  # the first case runs whatever the clock: a slow start-up is not "no cases"
        data = case_input(seeds, seed, name, i, t.max_len)
        out.write(json.dumps({"case": i}) + "\n")
        out.flush()
        t0 = time.perf_counter()
        try:
            t.run(data)
        except t.expected:
            pass
        except BaseException:  # noqa: BLE001 - every other exception is a finding
            out.write(json.dumps({"finding": i, "error": traceback.format_exc()}) + "\n")
        out.write(json.dumps({"took": time.perf_counter() - t0}) + "\n")
    out.write(json.dumps({"done": True}) + "\n")
    out.flush()


def run_target(t: Target, cases: int, seconds: float, seed: int, timeout: float) -> Result:
    """Run up to `cases` cases of t (fewer if `seconds` run out) in worker processes."""
    res = Result(t.name)
    seeds = t.seeds()
    cases = max(len(seeds), cases // t.cost)
    start = time.monotonic()
    end = start + seconds
    nxt = 0
    while nxt < cases and time.monotonic() < end:
        cmd = [sys.executable, "-m", "fuzz", "--worker", t.name, "--seed", str(seed),
               "--start", str(nxt), "--stop", str(cases), "--until", str(end - time.monotonic())]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                cwd=Path(__file__).parent.parent)
        assert proc.stdout is not None
        current = nxt
        buf = b""
        done = False
        started = False  # the hang clock runs from the first case, not from the start-up
        last = time.monotonic()
        while True:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    msg = json.loads(line)
                    if "case" in msg:
                        started = True
                        current = msg["case"]
                        res.cases += 1
                        last = time.monotonic()
                    elif "finding" in msg:
                        res.findings.append(_save(t, seeds, seed, msg["finding"], msg["error"]))
                    elif "took" in msg:
                        res.slowest = max(res.slowest, msg["took"])
                    elif "done" in msg:
                        done = True
            elif time.monotonic() - last > (timeout if started else STARTUP_SECONDS):
                proc.kill()
                if started:
                    res.findings.append(_save(t, seeds, seed, current, f"hang: over {timeout} s"))
                else:
                    res.findings.append(f"worker did not start within {STARTUP_SECONDS} s")
                break
        proc.wait()
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if done:
            break
        if proc.returncode not in (0, -9):
            what = f"worker died (exit {proc.returncode})\n{err[-2000:]}"
            res.findings.append(_save(t, seeds, seed, current, what))
        nxt = current + 1
    res.seconds = time.monotonic() - start
    return res


def replay(name: str, path: Path) -> int:
    """Run one saved input through target name in this process, printing any traceback."""
    t = load_all()[name]
    try:
        t.run(path.read_bytes())
    except t.expected as e:
        print(f"expected error: {type(e).__name__}: {e}")
    except BaseException:  # noqa: BLE001
        traceback.print_exc()
        return 1
    print("ok")
    return 0
