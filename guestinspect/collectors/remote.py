"""Remote disks before the launch: is the server there, and does it serve a disk image?

``probe(disk, format)`` is what the image collector calls for every ``-a``: the local checks
of ``appliance.probe_disk`` for a path, and for a remote disk a quick look with ``qemu-img
info`` on its URI (nbd, ssh, http, https, ftp, ftps; bounded by a timeout), or a TCP
connection to its server (iscsi, rbd, gluster, and any disk with a password, which is not
put on qemu-img's command line). An unreachable server, a missing export or file, an ssh host
key not in ``known_hosts`` is then one line, in seconds, rather than a failed appliance launch.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import tempfile
from pathlib import Path

from guestinspect.collectors.appliance import probe_disk
from guestinspect.collectors.uri import RemoteDisk
from guestinspect.errors import ImageError

#: Protocols of qemu's curl driver: a password is checked by the probe too (--image-opts).
CURL_PROTOCOLS = frozenset({"http", "https", "ftp", "ftps"})

#: Seconds a remote probe may take (``qemu-img info``, or the TCP connection).
PROBE_TIMEOUT = 30.0

_SSH_HINTS = (
    ("known_hosts", "add the server's host key to ~/.ssh/known_hosts (for example by "
     "connecting once with ssh); qemu checks it and guestinspect does not turn that off"),
    ("authenticat", "qemu's ssh driver logs in with ssh-agent (SSH_AUTH_SOCK) or the keys "
     "in ~/.ssh, not with a password"),
)


def probe(disk: Path | RemoteDisk, format: str | None,
          timeout: float = PROBE_TIMEOUT) -> str | None:
    """Check ``disk`` before the launch and return its format (``format`` if given, else
    qemu-img's guess, None if unknown); ImageError with a one-line message if it is unusable."""
    if isinstance(disk, Path):
        return probe_disk(disk, format)
    uri = disk.qemu_uri()
    if uri is None or (disk.secret is not None and disk.protocol not in CURL_PROTOCOLS):
        _connect(disk, timeout)
        return format
    if disk.secret is None:
        return _qemu_img_info(disk, [*(["-f", format] if format else []), "--", uri], format,
                              timeout)
    # The password goes to qemu-img in a file of its own (mode 0600), not on its command line.
    with tempfile.TemporaryDirectory(prefix="guestinspect-") as tmp:
        secret = Path(tmp) / "secret"
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(disk.secret)
        opts = [f"file.driver={disk.protocol}", f"file.url={disk.qemu_uri(user=False)}",
                f"file.username={disk.username}", "file.password-secret=sec0",
                *([f"driver={format}"] if format else [])]
        args = ["--object", f"secret,id=sec0,file={_comma(str(secret))}",
                "--image-opts", ",".join(_comma(o) for o in opts)]
        return _qemu_img_info(disk, args, format, timeout)


def recheck(disks: list[tuple[Path | RemoteDisk, str | None]]) -> ImageError | None:
    """After libguestfs failed to open or launch ``disks``: probe the remote ones again, and
    return the first one's error if one fails now (a server gone since the first probe)."""
    for disk, fmt in disks:
        if isinstance(disk, RemoteDisk):
            try:
                probe(disk, fmt, timeout=10.0)
            except ImageError as e:
                hint = ""
                if disk.protocol == "nbd" and "refused" in str(e).lower():
                    hint = (" (it answered before the launch: qemu-nbd serves one connection "
                            "unless started with --persistent)")
                return ImageError(f"{e}{hint}")
    return None


def _connect(disk: RemoteDisk, timeout: float) -> None:
    address = disk.address()
    if address is None:  # rbd with the monitors of ceph.conf
        return
    host, port = address
    try:
        with socket.create_connection((host, port), timeout=min(timeout, 10.0)):
            pass
    except socket.gaierror as e:
        raise ImageError(f"{disk}: cannot resolve host {host!r}: {e.strerror}") from e
    except TimeoutError as e:
        raise ImageError(f"{disk}: no answer from {host}:{port} within "
                         f"{min(timeout, 10.0):.0f}s") from e
    except OSError as e:
        why = (e.strerror or type(e).__name__).lower()
        raise ImageError(f"{disk}: cannot connect to {host}:{port}: {why}") from e


def _comma(option: str) -> str:
    """A value for qemu's ``key=value,…`` syntax (a comma is doubled)."""
    return option.replace(",", ",,")


def _qemu_img_info(
    disk: RemoteDisk, args: list[str], format: str | None, timeout: float
) -> str | None:
    """``qemu-img info`` on ``args`` (the URI, or --image-opts): the disk's format."""
    cmd = ["qemu-img", "info", "--output=json", *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              check=False, errors="replace")
    except subprocess.TimeoutExpired as e:
        raise ImageError(f"{disk}: no answer from the server within {timeout:.0f}s") from e
    except OSError:
        _connect(disk, timeout)  # no qemu-img: at least the server answers
        return format
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.splitlines() if line.strip()]
        why = lines[-1].removeprefix("qemu-img: ") if lines else "qemu-img info failed"
        why = re.sub(r"^Could not open '.*?': ", "", why)  # the URI is already in the message
        for marker, hint in _SSH_HINTS:
            if disk.protocol == "ssh" and marker in why:
                why += f"; {hint}"
        raise ImageError(f"{disk}: cannot read the disk: {why}")
    try:
        info = json.loads(proc.stdout)
    except ValueError as e:
        raise ImageError(f"{disk}: qemu-img info printed no JSON") from e
    size = info.get("virtual-size") if isinstance(info, dict) else None
    if isinstance(size, int) and size < 512:
        raise ImageError(f"{disk}: not a disk image (only {size} bytes)")
    fmt = info.get("format") if isinstance(info, dict) else None
    return format or (fmt if isinstance(fmt, str) else None)
