"""``guestinspect fleet`` against a shell loop of virt-inspector, on N copies of a test guest.

    python -m bench.fleet [--image PATH] [--cold 2] [--warm 1000] [--jobs 1,2]

The copies are hard links to one image (a symbolic link where a hard link cannot be made):
each has its own path, so its own fact-cache key, and costs no disk space. Printed, as images
per minute (wall clock, in the same run, so all see the same machine load):

* ``cold``: ``guestinspect fleet -j J`` over ``--cold`` copies with an empty fact cache (the
  appliance backend: one libguestfs appliance per image), and a shell loop of
  ``virt-inspector -a COPY`` over the same copies;
* ``warm``: ``guestinspect fleet -j J`` over ``--warm`` copies whose facts are all cached, as
  for a rerun after a rule change: no image is opened, every conclusion is re-derived. The
  cache is filled by copying the entry the cold run wrote for the first copy under each
  copy's key (an entry holds what was read from the guest; the key is a hash of the copy's
  path, size, mtime, inode, device and the options, ``guestinspect.fleet.cache.image_key``).
  Without ``--inventory``, then with it (every fact of every image written to SQLite).

Needs the test images (``python -m tests.images``; GUESTINSPECT_SHARED if the shared data is
not beside the checkout) unless ``--image`` names one. Not a CI test: minutes of appliance
time.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _copies(image: Path, directory: Path, n: int, prefix: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for i in range(n):
        p = directory / f"{prefix}-{i:05d}{image.suffix}"
        if p.exists():
            out.append(p)
            continue
        try:
            os.link(image, p)
        except OSError:
            os.symlink(image, p)
        out.append(p)
    return out


def _fleet(paths: list[Path], work: Path, jobs: int, cache: Path,
           inventory: Path | None = None) -> tuple[float, list[dict[str, object]]]:
    """Seconds and records of one ``guestinspect fleet`` run."""
    listing = work / "list.txt"
    listing.write_text("".join(f"{p}\n" for p in paths))
    cmd = [sys.executable, "-m", "guestinspect.cli", "fleet", "--from", str(listing),
           "-j", str(jobs), "--cache-dir", str(cache), "--quiet"]
    if inventory is not None:
        cmd += ["--inventory", str(inventory)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    errors = [r["error"] for r in records if r["status"] == "error"]
    if proc.returncode != 0 or len(records) != len(paths):
        err = proc.stderr.strip().splitlines()
        raise SystemExit(f"guestinspect fleet failed ({proc.returncode}, {len(records)} "
                         f"records, {len(errors)} errors: {errors[:1]}): "
                         f"{err[-1] if err else ''}")
    return seconds, records


def _virt_inspector_loop(paths: list[Path]) -> float:
    script = "for f in " + " ".join(shlex.quote(str(p)) for p in paths) + \
        '; do virt-inspector -a "$f" > /dev/null || exit 1; done'
    start = time.monotonic()
    proc = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"virt-inspector failed: {proc.stderr.strip()[-200:]}")
    return seconds


def _fill_cache(cache: Path, first: Path, paths: list[Path]) -> None:
    """Copy ``first``'s cache entry under the key of each of ``paths``."""
    from guestinspect.fleet.cache import FactCache, image_key
    from guestinspect.fleet.worker import Options

    options = Options().key_options()
    fc = FactCache(cache)
    entry = fc.path(image_key([str(first)], options))
    if not entry.is_file():
        raise SystemExit(f"no cache entry for {first} at {entry}")
    for p in paths:
        target = fc.path(image_key([str(p)], options))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry, target)


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds * 60:8.1f} images/min ({n} in {seconds:.1f} s)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--image", type=Path, help="the guest to copy (default: the debian test "
                    "image)")
    ap.add_argument("--cold", type=int, default=2, help="copies for the appliance runs")
    ap.add_argument("--warm", type=int, default=1000, help="copies for the cached runs")
    ap.add_argument("--jobs", default="1,2", help="comma-separated -j values")
    ap.add_argument("--inventory", choices=("both", "no", "only"), default="both",
                    help="warm runs without --inventory, with it, or both")
    ap.add_argument("--keep", type=Path, help="work in this directory and keep it (the "
                    "cold run is skipped if its cache is there)")
    args = ap.parse_args()
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    os.environ["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    if args.image is None:
        sys.path.insert(0, str(ROOT))
        from tests.images import image

        args.image = image("debian")
    jobs = [int(j) for j in args.jobs.split(",") if j]
    load0 = os.getloadavg()
    print(f"image {args.image} ({args.image.stat().st_size >> 20} MiB); "
          f"{os.cpu_count()} CPUs, load average {load0[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        work = args.keep or Path(tmp)
        cold = _copies(args.image, work / "cold", args.cold, "cold")
        ratios: dict[str, float] = {}
        rates: dict[str, float] = {}
        vi = 0.0
        kept = sorted(work.glob("cache-cold-*"))
        for j in jobs if not kept else ():
            seconds, records = _fleet(cold, work, j, work / f"cache-cold-{j}")
            assert not any(r["cached"] for r in records)
            rates[f"cold -j {j}"] = len(cold) / seconds
            print(f"fleet cold  -j {j}: {_rate(len(cold), seconds)}", flush=True)
        if rates:
            seconds = _virt_inspector_loop(cold)
            vi = len(cold) / seconds
            print(f"virt-inspector loop:  {_rate(len(cold), seconds)}", flush=True)
            for name, rate in rates.items():
                ratios[name] = rate / vi
        warm = _copies(args.image, work / "warm", args.warm, "warm")
        cache = kept[0] if kept else work / f"cache-cold-{jobs[0]}"
        _fill_cache(cache, cold[0], warm)
        for j in jobs:
            for inventory in [None, work / f"fleet-{j}.db"][
                    args.inventory == "only": 1 if args.inventory == "no" else 2]:
                seconds, records = _fleet(warm, work, j, cache, inventory)
                assert all(r["cached"] for r in records), "an image was opened"
                label = f"warm -j {j}" + (" --inventory" if inventory else "")
                if vi:
                    ratios[label] = len(warm) / seconds / vi
                print(f"fleet {label:<22}: {_rate(len(warm), seconds)}", flush=True)
        print("ratios (images per minute, against the virt-inspector loop):")
        for name, r in ratios.items():
            print(f"  {name:<24} {r:8.1f}x")
    print(f"load average {load0[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
