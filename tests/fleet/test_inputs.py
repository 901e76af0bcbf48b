"""The guests of a fleet from arguments, --from files and directories (fleet/inputs.py); no
VM. Directories are walked by content, symlinks followed once, trouble is a warning."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from guestinspect.errors import UsageError
from guestinspect.fleet.inputs import Guest, gather, read_list
from tests.fleet.samples import images, not_images


def _tree(root: Path) -> None:
    (root / "vms" / "deep" / "deeper").mkdir(parents=True)
    (root / "vms" / "a.qcow2").write_bytes(images()["qcow2"][0])
    (root / "vms" / "b.data").write_bytes(images()["mbr"][0])  # no telling extension
    (root / "vms" / "notes.img").write_bytes(not_images()["text"])  # an image's name only
    (root / "vms" / "deep" / "c").write_bytes(images()["luks"][0])
    (root / "vms" / "deep" / "deeper" / "d.vhd").write_bytes(bytes(4096) + b"conectix"
                                                            + bytes(504))
    (root / "vms" / "deep" / "loop").symlink_to(root / "vms")  # back up: a loop
    (root / "vms" / "dangling").symlink_to(root / "nowhere")
    os.mkfifo(root / "vms" / "fifo")  # never opened (it would block)


def test_a_directory_gives_every_image_by_content(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = gather([str(tmp_path / "vms")])
    vms = tmp_path / "vms"
    assert [g.disks for g in found.guests] == [
        (str(vms / "a.qcow2"),), (str(vms / "b.data"),), (str(vms / "deep" / "c"),),
        (str(vms / "deep" / "deeper" / "d.vhd"),)]
    assert any("dangling" in w and "No such file" in w for w in found.warnings)
    assert any("loop" in w and "symlink loop" in w for w in found.warnings)
    assert len(found.warnings) == 2


def test_arguments_and_lists(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("# the fleet\n\n  a.img \nb-1.img+b-2.img\nnbd://host:10809/x\n"
                       "a.img\n")
    stdin = io.BytesIO(b"c.img\n#d.img\n")
    found = gather(["z.img", "a.img"], [str(listing), "-"], stdin)
    assert found.guests == [Guest(("z.img",)), Guest(("a.img",)),
                            Guest(("b-1.img", "b-2.img")), Guest(("nbd://host:10809/x",)),
                            Guest(("c.img",))]
    assert Guest(("b-1.img", "b-2.img")).name == "b-1.img+b-2.img"


def test_a_plus_in_a_real_file_name_is_kept(tmp_path: Path) -> None:
    odd = tmp_path / "a+b.img"
    odd.write_bytes(b"")
    assert gather([str(odd)]).guests == [Guest((str(odd),))]


def test_bad_lists_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No such file"):
        read_list(str(tmp_path / "missing.txt"))
    with pytest.raises(UsageError, match="Is a directory"):
        read_list(str(tmp_path))
