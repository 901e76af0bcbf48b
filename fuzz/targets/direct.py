"""The direct backend's parent side (collectors/backends/wire.py): a line from the child, which
parses guest bytes with C libraries and may be subverted, decoded and its facts checked; and
NTFS reparse-point targets worded as ntfs-3g does (collectors/backends/ntfs_links.py)."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.collectors.backends import ntfs_links, wire


def _wire_seeds() -> list[bytes]:
    return [
        b'{"facts":{"Entry":[["/dev/sda1","/etc","dir"]],"FileSize":[["/dev/sda1","/x",3]]}}',
        b'{"facts":{"Content":[["/dev/sda1","/etc/hostname","h\\n"]]},"warnings":["w"]}',
        b'{"facts":{"Entry":[["/dev/sdb1","/etc","dir"]]}}',
        b'{"facts":{"Nope":[[1]]}}',
        b'[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]',
        b'{"facts":{"FileSize":[["/dev/sda1","/x",true]]}}',
    ]


@target("direct.wire", _wire_seeds, expected=(wire.WireError,))
def run_wire(data: bytes) -> None:
    message = wire.decode(data)
    facts = wire.facts_in(message.get("facts", {}), ("Entry", "FileSize", "Content"),
                          ("/dev/sda1",))
    for rel, tuples in facts.items():
        assert rel in ("Entry", "FileSize", "Content")
        assert all(t[0] == "/dev/sda1" for t in tuples)
    wire.strings(message.get("warnings", []), "warnings")


def _link_seeds() -> list[bytes]:
    return [b"\\??\\C:\\Users\\x", b"..\\x\\y", b"\\??\\C:", b"\\??\\", b"\\\\server\\share"]


@target("direct.ntfs_links", _link_seeds)
def run_links(data: bytes) -> None:
    substitute = data.decode("utf-8", "replace")
    for tag in (ntfs_links.SYMLINK, ntfs_links.MOUNT_POINT, 0x8000_0017):
        out = ntfs_links.link_target(tag, substitute, "/fs/0",
                                     lambda p: p if len(p) % 2 else None)
        assert len(out) <= len(substitute) + 64  # linear: the target, a prefix, no more
