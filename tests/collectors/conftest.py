"""Shared appliance launches for the collector tests (one per image per session)."""

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")

from guestinspect.collectors.base import FactSet  # noqa: E402
from guestinspect.collectors.image import ImageCollector  # noqa: E402
from guestinspect.collectors.keys import KeySpec  # noqa: E402
from tests.collectors import scratch  # noqa: E402

#: The session's collectors still open: shut down after the last test of this folder, since an
#: idle appliance under TCG keeps costing CPU for the rest of the run.
_OPEN: list[ImageCollector] = []


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    here = Path(__file__).parent
    if nextitem is None or here not in Path(nextitem.path).parents:
        while _OPEN:
            _OPEN.pop().close()


def _cache() -> Path:
    default = Path.home() / ".cache" / "guestinspect" / "images"
    return Path(os.environ.get("GUESTINSPECT_IMAGE_CACHE", default))


@pytest.fixture(scope="session")
def scratch_image() -> Path:
    """The collectors' own scratch guest (tests/collectors/scratch.py), built once, cached."""
    dest = _cache() / "collectors-scratch-1.img"
    dest.parent.mkdir(parents=True, exist_ok=True)
    return scratch.build(dest)


@pytest.fixture(scope="session")
def odd_image() -> Path:
    """The second scratch disk: GPT, 64 partitions, an unmountable filesystem, an icon."""
    dest = _cache() / "collectors-odd-1.img"
    dest.parent.mkdir(parents=True, exist_ok=True)
    return scratch.build_odd(dest)


@pytest.fixture(scope="session")
def scratch_collector(
    scratch_image: Path, odd_image: Path
) -> Iterator[tuple[ImageCollector, FactSet]]:
    """One launch for most collector tests: the scratch disk (sda) and the odd disk (sdb)."""
    c = ImageCollector([scratch_image, odd_image],
                       keys=KeySpec.parse([f"all:key:{scratch.LUKS_KEY}"]), progress=False)
    _OPEN.append(c)
    try:
        yield c, c.initial_facts()
    finally:
        c.close()


@pytest.fixture(scope="session")
def debian_collector() -> Iterator[tuple[ImageCollector, FactSet]]:
    images = pytest.importorskip("tests.images")
    path = images.image("debian")
    c = ImageCollector([path], progress=False)
    _OPEN.append(c)
    try:
        yield c, c.initial_facts()
    finally:
        c.close()


@pytest.fixture()
def qemu_img() -> str:
    exe = shutil.which("qemu-img")
    if exe is None:
        pytest.skip("qemu-img not installed")
    return exe
