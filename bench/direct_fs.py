"""Per-call cost of the direct backend's filesystem views (collectors/backends/direct_fs.py).

    python -m bench.direct_fs [--files N] [--repeat N]

Makes an ext4 filesystem with ``mke2fs -d`` from a directory of ``--files`` files (default
2,000, a /usr/bin-sized directory) and a 64 MiB file, and an NTFS one (``mkntfs``, files
copied in by ``ntfscp``, a tenth as many), then times, each the median of ``--repeat`` runs:
opening the filesystem, lstat of a name (by path, the first time; again, from the view's
cache), a listing of the big directory, and 1 MiB reads (first and again). Nothing is
written anywhere but a temporary directory.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guestinspect.collectors.backends.direct_fs import LibyalView, open_view
from guestinspect.collectors.volumes.images import FileDevice

MIB = 1 << 20


def _median_us(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def make_ext4(work: Path, files: int) -> Path:
    src = work / "src"
    (src / "usr" / "bin").mkdir(parents=True)
    for i in range(files):
        (src / "usr" / "bin" / f"tool-{i:05d}").write_bytes(b"#!/bin/sh\n" * (i % 50 + 1))
    with (src / "big").open("wb") as f:
        for i in range(64):
            f.write(bytes([i]) * MIB)
    img = work / "ext4.img"
    with img.open("wb") as f:
        f.truncate(256 * MIB)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(src), str(img)], check=True)
    return img


def make_ntfs(work: Path, files: int) -> Path:
    img = work / "ntfs.img"
    with img.open("wb") as f:
        f.truncate(256 * MIB)
    subprocess.run(["mkntfs", "-q", "-F", "-f", str(img)], check=True, capture_output=True)
    one = work / "one"
    for i in range(files):
        one.write_bytes(b"MZ" * (i % 50 + 1))
        subprocess.run(["ntfscp", "-q", "-f", str(img), str(one), f"tool-{i:05d}.exe"],
                       check=True)
    subprocess.run(["ntfscp", "-q", "-f", str(img), str(work / "src" / "big"), "big"],
                   check=True)
    return img


def measure(label: str, opener: Callable[[], LibyalView], directory: str, name: str,
            big: str, repeat: int) -> None:
    open_us = _median_us(lambda: opener().close(), repeat)
    cold, warm, listing, read_cold, read_warm, batch = [], [], [], [], [], []
    for _ in range(repeat):
        view = opener()
        names = list(view.listdir(directory))[:100]
        view.close()
        view = opener()
        batch.append(_median_us(lambda v=view, n=names: v.lstat_names(directory, n), 1))
        view.close()
        view = opener()
        cold.append(_median_us(lambda v=view: v.lstat_names(directory, [name]), 1))
        warm.append(_median_us(lambda v=view: v.lstat_names(directory, [name]), 1))
        listing.append(_median_us(lambda v=view: v.listdir(directory), 1))
        read_cold.append(_median_us(lambda v=view: v.read(big, 0, MIB), 1))
        read_warm.append(_median_us(lambda v=view: v.read(big, 0, MIB), 1))
        entries = len(view.listdir(directory))
        view.close()
    print(f"{label}: open {open_us / 1000:.2f} ms; lstat {statistics.median(cold):.0f} us "
          f"(cached {statistics.median(warm):.0f} us, 100 names at once "
          f"{statistics.median(batch) / 1000:.1f} ms); listdir of {entries} entries "
          f"{statistics.median(listing) / 1000:.1f} ms; read 1 MiB "
          f"{statistics.median(read_cold) / 1000:.2f} ms (again "
          f"{statistics.median(read_warm) / 1000:.2f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("mke2fs") is None:
        raise SystemExit("bench.direct_fs: needs mke2fs")
    with tempfile.TemporaryDirectory() as tmp:
        img = make_ext4(Path(tmp), args.files)
        measure(f"ext4 ({args.files} files in /usr/bin, a 64 MiB file)",
                lambda: open_view("ext4", FileDevice(img), print),
                "/usr/bin", f"tool-{args.files // 2:05d}", "/big", args.repeat)
        if shutil.which("mkntfs") and shutil.which("ntfscp"):
            n = max(1, args.files // 10)
            ntfs = make_ntfs(Path(tmp), n)
            measure(f"ntfs ({n} files in /, a 64 MiB file)",
                    lambda: open_view("ntfs", FileDevice(ntfs), print),
                    "/", f"tool-{n // 2:05d}.exe", "/big", args.repeat)


if __name__ == "__main__":
    main()
