"""The ``-a`` URI parser (collectors/uri.py) on hostile text: every input is a local path, a
remote disk whose add_drive arguments are consistent, or one UriError line."""

from __future__ import annotations

from pathlib import Path

from fuzz.targets import target
from guestinspect.collectors.uri import (
    MAX_URI,
    PROTOCOLS,
    RemoteDisk,
    drive_args,
    parse_disk,
    redact,
    with_password,
)
from guestinspect.errors import UriError


def _seeds() -> list[bytes]:
    return [s.encode() for s in (
        "nbd://127.0.0.1:10809/export", "nbd+unix:///exp%20ort?socket=/run/nbd.sock",
        "nbd://?socket=/s&x=&&;", "ssh://user@host.example:2222/var/lib/disk%201.img",
        "http://web/images/d.qcow2", "https://bob@web:8443/d.img", "ftp://f:21/d.img",
        "ftps://f/d", "iscsi://san:3260/iqn.2026-11.com.example:disk/1", "rbd:///pool/image",
        "rbd://admin@mon:6789/pool/image", "gluster://g:24007/vol/dir/img",
        "file:///var/lib/my%20disk.img", "file://localhost/d.img", "disk.img",
        "http://[::1]:80/d", "HTTP://H:65535/%e2%82%ac", "tftp://h/x", "x://",
    )]


@target("uri.parse", _seeds, expected=(UriError,), max_len=2 * MAX_URI)
def parse(data: bytes) -> None:
    text = data.decode("utf-8", "surrogateescape")
    try:
        disk = parse_disk(text)
    except UriError as e:
        message = str(e)
        assert message and "\n" not in message and "\r" not in message
        assert len(message) < 1000
        raise
    if isinstance(disk, Path):
        assert drive_args(disk) == (str(disk), {})
        return
    assert isinstance(disk, RemoteDisk) and disk.protocol in PROTOCOLS.values()
    name, options = drive_args(disk)
    assert "readonly" not in options and options["protocol"] == disk.protocol
    assert all(ord(c) >= 0x20 for c in name)
    if disk.port is not None:
        assert 1 <= disk.port <= 65535
    disk.qemu_uri()
    given = with_password([disk], "pw") if disk.protocol == "rbd" else [disk]
    assert repr(given) == repr([disk])  # the secret is never shown
    assert "pw" not in redact(f"{disk} pw", given).removeprefix(str(disk)) or not given[0].secret
