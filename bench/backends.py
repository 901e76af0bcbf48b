"""virt-inspector, guestinspect's appliance backend and its direct backend on the same images.

    python bench/backends.py                      # the default guests, 3 repetitions each
    python bench/backends.py -n 5 --guests debian,windows
    python bench/backends.py IMAGE… [--format raw] # your own images (a guest's disks joined by +)
    python bench/backends.py --smoke              # one direct run on one guest, no VM (CI)

Each tool runs as a cold process (a new interpreter, nothing cached in memory), the tools one
after the other within each repetition so that they all see the same machine load:

* ``virt-inspector -a IMG`` (libguestfs; ``LIBGUESTFS_BACKEND_SETTINGS=force_tcg`` unless set),
* ``guestinspect --backend appliance -a IMG`` (the same libguestfs appliance, our rules),
* ``guestinspect --backend direct -a IMG`` (libyal in a child process, no VM).

Per tool it prints the median and the smallest wall time, the median CPU time (user +
system of the whole tree, from ``wait4``: what the run costs whatever the machine's load,
which on a busy machine stretches the wall time), and two peak memory figures of the
process *tree* (the tool and every process it starts: qemu for the appliance, the parsing
child for the direct backend): ``maxproc``, the largest single process (exact: ``ru_maxrss``
of ``wait4``, which covers the waited-for descendants), and ``tree``, the largest sum of the
resident sizes of the processes alive at the same moment (sampled from ``/proc`` every 20 ms).
Then the ratios virt-inspector/direct and appliance/direct, whether direct's XML is the
appliance's byte for byte, and the targets of issue 11 for the direct backend: wall <= 1.5 s,
>= 15x faster than virt-inspector, peak memory <= 150 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: The guests of a default run. The first is the Debian-like guest on LVM with a dpkg
#: database; the first name of DEBIAN_LIKE that tests/images knows is used.
DEBIAN_LIKE = ("debian12-lvm", "debian-lvm", "debian")
OTHER_GUESTS = ("windows", "archlinux")
TOOLS = ("virt-inspector", "appliance", "direct")

TARGET_WALL = 1.5  # seconds, direct backend, cold process
TARGET_SPEEDUP = 15.0  # virt-inspector / direct
TARGET_MB = 150.0  # peak memory of the direct backend's process tree

SAMPLE_SECONDS = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


@dataclass
class Run:
    wall: float
    cpu: float  # user + system seconds of the process and its waited-for descendants
    maxproc: int  # bytes: the largest single process of the tree (ru_maxrss)
    tree: int  # bytes: the largest sampled sum over the tree
    returncode: int
    stdout: str
    stderr: str


@dataclass
class Series:
    tool: str
    runs: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def peak(self) -> int:
        return max(max(r.maxproc, r.tree) for r in self.runs)


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) of every process readable in /proc."""
    out: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone in between
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        out[int(name)] = (int(fields[1]), int(fields[21]) * PAGE)
    return out


def tree_rss(root: int) -> int:
    """The resident bytes of ``root`` and all its descendants, now."""
    procs = _processes()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += procs.get(pid, (0, 0))[1]
        stack.extend(children.get(pid, ()))
    return total


class TreeSampler(threading.Thread):
    """The largest resident size of a process tree, sampled until stopped."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak = root, 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.peak = max(self.peak, tree_rss(self.root))
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def measure(cmd: list[str], env: dict[str, str]) -> Run:
    """Run ``cmd`` once: wall time, peak memory of its tree, its output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        sampler.stop()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, sampler.peak,
                   proc.returncode,
                   out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))


def guestinspect() -> list[str]:
    """The ``guestinspect`` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "guestinspect"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from guestinspect.cli import main; main()"]


def command(tool: str, disks: list[str], fmt: str | None) -> list[str]:
    args = [] if fmt is None else [f"--format={fmt}"]
    for disk in disks:
        args += ["-a", disk]
    if tool == "virt-inspector":
        return ["virt-inspector", *args]
    return [*guestinspect(), "--backend", tool, *args]


def guest_disks(names: list[str]) -> dict[str, list[str]]:
    """The cached disks of the named test guests (built first if missing)."""
    from tests.images import images

    return {name: [str(p) for p in images(name)] for name in names}


def default_guests(smoke: bool) -> list[str]:
    from tests.images import GUESTS

    debian = next(name for name in DEBIAN_LIKE if name in GUESTS)
    return [debian] if smoke else [debian, *OTHER_GUESTS]


def _mb(n: int) -> str:
    return f"{n / MB:.0f}"


def _check(run: Run, tool: str, name: str) -> str | None:
    """Why the run is not a successful inspection (None when it is)."""
    if run.returncode != 0:
        lines = run.stderr.strip().splitlines()
        return f"{tool} on {name} failed ({run.returncode}): {lines[-1] if lines else ''}"
    if "<operatingsystem>" not in run.stdout:
        return f"{tool} on {name}: no <operatingsystem> in its XML"
    return None


def bench_guest(name: str, disks: list[str], tools: list[str], repeats: int,
                fmt: str | None, env: dict[str, str]) -> dict[str, Series]:
    series = {tool: Series(tool) for tool in tools}
    for _ in range(repeats):
        for tool in tools:
            run = measure(command(tool, disks, fmt), env)
            problem = _check(run, tool, name)
            if problem:
                raise SystemExit(f"backends.py: {problem}")
            series[tool].runs.append(run)
    return series


def report(name: str, series: dict[str, Series]) -> list[str]:
    """Print the guest's table; return the targets it misses."""
    print(f"\n{name} (load average {os.getloadavg()[0]:.2f} after it)")
    print(f"  {'tool':<15} {'median s':>8} {'min s':>6} {'cpu s':>6} {'maxproc MB':>10} "
          f"{'tree MB':>7}")
    for s in series.values():
        print(f"  {s.tool:<15} {s.wall:8.2f} {min(r.wall for r in s.runs):6.2f} {s.cpu:6.2f} "
              f"{_mb(max(r.maxproc for r in s.runs)):>10} {_mb(max(r.tree for r in s.runs)):>7}")
    direct = series.get("direct")
    if direct is None:
        return []
    missed = []
    for other in ("virt-inspector", "appliance"):
        if other in series:
            print(f"  {other}/direct: {series[other].wall / direct.wall:.1f}x wall, "
                  f"{series[other].cpu / direct.cpu:.1f}x cpu")
    if "appliance" in series:
        same = {r.stdout for r in series["appliance"].runs} == {r.stdout for r in direct.runs}
        print(f"  direct's XML is the appliance's byte for byte: {'yes' if same else 'NO'}")
        if not same:
            missed.append(f"{name}: direct's XML differs from the appliance's")
    checks = [(f"wall {direct.wall:.2f} s <= {TARGET_WALL} s (cpu {direct.cpu:.2f} s)",
               direct.wall <= TARGET_WALL),
              (f"peak {_mb(direct.peak)} MB <= {TARGET_MB:.0f} MB", direct.peak <= TARGET_MB * MB)]
    if "virt-inspector" in series:
        speedup = series["virt-inspector"].wall / direct.wall
        checks.append((f"{speedup:.1f}x >= {TARGET_SPEEDUP:.0f}x virt-inspector",
                       speedup >= TARGET_SPEEDUP))
    for text, ok in checks:
        print(f"  target: {text}: {'met' if ok else 'MISSED'}")
        if not ok:
            missed.append(f"{name}: {text}")
    return missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="*", metavar="IMAGE",
                    help="disk images (a guest's disks joined by +); default: test guests")
    ap.add_argument("--guests", help="comma-separated test guests (python -m tests.images "
                    "--list) instead of the defaults")
    ap.add_argument("--format", default=None)
    ap.add_argument("-n", "--repeats", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated, of {', '.join(TOOLS)}")
    ap.add_argument("--smoke", action="store_true",
                    help="one direct run on the first default guest (no VM), for CI")
    ap.add_argument("--xml-dir", type=Path, help="write each tool's last XML here")
    args = ap.parse_args(argv)
    tools = ["direct"] if args.smoke else args.tools.split(",")
    if unknown := set(tools) - set(TOOLS):
        ap.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    repeats = 1 if args.smoke else args.repeats
    if args.images:
        guests = {Path(spec.split("+")[0]).name: spec.split("+") for spec in args.images}
    else:
        names = args.guests.split(",") if args.guests else default_guests(args.smoke)
        guests = guest_disks(names)
    env = dict(os.environ)
    env.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    print(f"{repeats} repetition(s), load average {os.getloadavg()[0]:.2f} at the start")
    missed: list[str] = []
    for name, disks in guests.items():
        series = bench_guest(name, disks, tools, repeats, args.format, env)
        missed += report(name, series)
        if args.xml_dir:
            args.xml_dir.mkdir(parents=True, exist_ok=True)
            for s in series.values():
                (args.xml_dir / f"{name}.{s.tool}.xml").write_text(s.runs[-1].stdout)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
