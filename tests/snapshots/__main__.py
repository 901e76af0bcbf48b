"""python -m tests.snapshots [--check] [NAME...] | --synthetic [--check] | --list"""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.snapshots import SNAPSHOTS, check, record, size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.snapshots", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help="default: every snapshot")
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed snapshots instead of recording")
    parser.add_argument("--synthetic", action="store_true",
                        help="the synthetic snapshots (fake collector, no appliance)")
    parser.add_argument("--list", action="store_true", help="list the snapshots")
    args = parser.parse_args(argv)

    if args.synthetic:
        from tests.snapshots.synthetic import GUESTS, check_synthetic, record_synthetic

        names = args.names or list(GUESTS)
        failed = 0
        for name in names:
            if args.check:
                diffs = check_synthetic(name)
                failed += bool(diffs)
                print(f"{name}: {'differs' if diffs else 'ok'}", *diffs, sep="\n")
            else:
                print(f"{name}: {record_synthetic(name)}")
        return 1 if failed else 0

    if args.list:
        for s in SNAPSHOTS.values():
            state = f"{size(s.directory):>9} bytes" if s.directory.is_dir() else "-"
            print(f"{s.name:20} {state:16} guest {s.guest} {' '.join(s.keys)}")
        return 0
    unknown = [n for n in args.names if n not in SNAPSHOTS]
    if unknown:
        parser.error(f"unknown snapshots {unknown}; known: {', '.join(SNAPSHOTS)}")
    os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")
    failed = 0
    for name in args.names or list(SNAPSHOTS):
        snapshot = SNAPSHOTS[name]
        start = time.monotonic()
        if args.check:
            diffs = check(snapshot)
            failed += bool(diffs)
            print(f"{name}: {'differs' if diffs else 'ok'} ({time.monotonic() - start:.0f}s)",
                  *diffs, sep="\n")
        else:
            try:
                warnings = record(snapshot, snapshot.directory)
            except RuntimeError as e:
                failed += 1
                print(f"{name}: error: {e}")
                continue
            print(f"{name}: {snapshot.directory} {size(snapshot.directory)} bytes "
                  f"({time.monotonic() - start:.0f}s)")
            for w in warnings:
                print(f"  warning: {w}")
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
