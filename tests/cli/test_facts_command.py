"""``guestinspect facts`` goes through the API: its errors are the API's, one line each.

A libguestfs failure (a ``RuntimeError`` from the bindings) and an engine error (a
``DatalogError``) used to reach the user as an "internal error" (or, with GUESTINSPECT_DEBUG,
a traceback); through ``Inspector`` they are an ``ImageError`` and a ``RuleError``. The image
is a real (empty) qcow2 disk that passes the collector's probe; the collector's first read is
made to fail as libguestfs and a broken collector would, so no appliance is launched.
"""

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.collectors.base import FactSet
from guestinspect.collectors.image import ImageCollector


@pytest.fixture
def disk(tmp_path: Path) -> Path:
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "1M"], check=True)
    return path


def _facts(disk: Path, out: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["facts", "-a", str(disk), "-o", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_libguestfs_error_is_one_line(
    disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: ImageCollector) -> FactSet:
        raise RuntimeError("list_devices: appliance gone\nmore detail from the appliance")

    monkeypatch.setattr(ImageCollector, "initial_facts", fail)
    monkeypatch.delenv("GUESTINSPECT_DEBUG", raising=False)
    code, out, err = _facts(disk, tmp_path / "snap")
    assert (code, out) == (1, "")
    assert err == "guestinspect: error: list_devices: appliance gone\n"
    assert not any((tmp_path / "snap").iterdir())  # nothing recorded


def test_engine_error_is_one_line(
    disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wrong_arity(self: ImageCollector) -> FactSet:
        return {"Disk": {("/dev/sda",)}}  # Disk has three columns

    monkeypatch.setattr(ImageCollector, "initial_facts", wrong_arity)
    monkeypatch.delenv("GUESTINSPECT_DEBUG", raising=False)
    code, out, err = _facts(disk, tmp_path / "snap")
    assert (code, out) == (1, "")
    assert err.startswith("guestinspect: error: relation 'Disk' has 3 columns")
    assert err.count("\n") == 1 and "internal error" not in err
