"""guestinspect against virt-inspector on the same images, in the same run.

    python bench/vs_virt_inspector.py IMAGE… [--format raw] [-n 3]

For each image, runs ``virt-inspector`` and guestinspect (the XML output of the CLI, in a
fresh Python process, without libguestfs debug output) alternately N times (so both see the
same machine load) and prints the median wall times, their ratio and guestinspect's
libguestfs call counts per phase. A guest with several disks: join them with ``+``
(``disk1.img+disk2.img``).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _run(cmd: list[str]) -> tuple[float, str]:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    secs = time.monotonic() - t0
    if proc.returncode != 0:
        err = proc.stderr.strip().splitlines()
        raise SystemExit(f"{cmd[0]} failed: {err[-1] if err else proc.returncode}")
    return secs, proc.stderr


#: What ``guestinspect -a … [--format F]`` does, plus the collector's statistics on stderr.
GUESTINSPECT = """
import sys
from guestinspect.api import Inspector
from guestinspect.reporting.xml import to_xml
fmt, disks = sys.argv[1] or None, sys.argv[2:]
with Inspector(disks, format=fmt) as insp:
    sys.stdout.write(to_xml(insp.inspect()))
    stats = insp.stats()
    if stats is not None:  # (older versions have no summary())
        line = getattr(stats, "summary", lambda: f"{stats.guestfs_calls} libguestfs calls")()
        print(line, file=sys.stderr)
"""


def _disk_args(spec: str, fmt: str | None) -> list[str]:
    args = [] if fmt is None else [f"--format={fmt}"]
    for disk in spec.split("+"):
        args += ["-a", disk]
    return args


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="+", metavar="IMAGE")
    ap.add_argument("--format", default=None)
    ap.add_argument("-n", "--repeats", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    print(f"{'image':<28} {'virt-insp':>9} {'guestinsp':>9} {'ratio':>6} {'calls':>5}  phases")
    for spec in args.images:
        disks = _disk_args(spec, args.format)
        vi: list[float] = []
        gi: list[float] = []
        line = ""
        for _ in range(args.repeats):
            vi.append(_run(["virt-inspector", *disks])[0])
            secs, err = _run([sys.executable, "-c", GUESTINSPECT, args.format or "",
                              *spec.split("+")])
            gi.append(secs)
            lines = [x for x in err.splitlines() if "libguestfs calls" in x]
            line = lines[-1] if lines else line
        calls = re.search(r"(\d+) libguestfs calls", line)
        phases = line.split("; ", 1)[1] if "; " in line else ""
        v, g = statistics.median(vi), statistics.median(gi)
        name = Path(spec.split("+")[0]).name
        print(f"{name:<28} {v:9.1f} {g:9.1f} {g / v:6.2f} {calls.group(1) if calls else '?':>5}"
              f"  {phases}", flush=True)


if __name__ == "__main__":
    main()
