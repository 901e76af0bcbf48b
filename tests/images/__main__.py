"""python -m tests.images NAME... | --all | --list [--force]"""

from __future__ import annotations

import argparse
import sys
import time

from tests.images import GUESTS, UNSUPPORTED, BuildError, build_images, cache_dir, is_fresh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.images", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--all", action="store_true", help="build every guest")
    parser.add_argument("--list", action="store_true", help="list the guests")
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args(argv)

    if args.list:
        for name, guest in GUESTS.items():
            state = "cached" if is_fresh(guest) else "-"
            print(f"{name:20} {state:7} {guest.description}")
        for name, reason in UNSUPPORTED.items():
            print(f"{name:20} {'n/a':7} not built: {reason}")
        print(f"cache: {cache_dir()}")
        return 0
    names = list(GUESTS) if args.all else args.names
    if not names:
        parser.error("give guest names, --all or --list")
    start = time.monotonic()
    try:
        paths = build_images(names, force=args.force)
    except (BuildError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for name, disks in paths.items():
        print(name, *disks)
    print(f"[images] done in {time.monotonic() - start:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
