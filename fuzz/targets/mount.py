"""``guestinspect mount``'s handling of hostile text: the mountpoints of a guest's fstab
(mount/plan.py: which are mounted, in which order), ``-o`` options, and the path fields of
/proc/self/mountinfo (mount/umount.py)."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.errors import UsageError
from guestinspect.inspection.results import Inspection
from guestinspect.mount.plan import fuse_options, guest_path, mount_order
from guestinspect.mount.umount import _unescape


def _seeds() -> list[bytes]:
    return [s.encode() for s in (
        "/dev/sda1\t/\n/dev/sda2\t/boot\n/dev/vg/usr\t/usr\n/dev/vg/var\t/var/\n",
        "/dev/sda1\t/\n/dev/sda2\t/var/../../etc\n/dev/sda3\t//usr/./local\n/dev/sda4\t/usr",
        "btrfsvol:/dev/sda2/@/home\t/home\n/dev/sda2\t/\n/dev/sda5\t/a\x01b\n/dev/sda6\t/\n",
        "/dev/sda1\t/boot\n", "x\tnone\n/dev/sda1\t/\n/dev/sda1\tswap\n",
        "/mnt/a\\040b\\011c\\134d\\0", "allow_other,default_permissions,uid=0\t,,rw",
    )]


def _inspection(text: str) -> Inspection:
    os_ = Inspection(root="/dev/sda1")  # type: ignore[typeddict-item]
    os_["mountpoints"] = [
        {"dev": dev, "path": path}
        for dev, _, path in (line.partition("\t") for line in text.split("\n"))
    ]
    return os_


@target("mount.plan", _seeds, expected=(UsageError,))
def plan(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    assert len(_unescape(text)) <= len(text)
    try:
        options = fuse_options(text.split("\t"))
    except UsageError as e:
        assert "\n" not in str(e) and str(e).startswith("-o ")
    else:
        assert options is None or "rw" not in options.split(",")
    mounts, warnings = mount_order(_inspection(text))  # UsageError: no "/"
    assert mounts[0][0] == "/"
    paths = [path for path, _ in mounts]
    assert len(set(paths)) == len(paths)
    for i, path in enumerate(paths):
        assert guest_path(path) == path and ".." not in path.split("/")
        assert path.isprintable()
        parent = path.rsplit("/", 1)[0] or "/"
        if path != "/" and parent in paths:
            assert paths.index(parent) < i  # parents first
    assert all("\n" not in w for w in warnings)
