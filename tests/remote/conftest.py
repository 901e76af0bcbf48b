"""Session-wide servers on 127.0.0.1 serving the Debian test guest: qemu-nbd, a web server
with byte ranges and HTTP Basic authentication, an sshd of the tests' own. Each is started
on first use and stopped at the end of the session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.remote import servers

os.environ.setdefault("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg")

#: The user and password the web server asks for.
HTTP_AUTH = ("inspector", "s3cret pass,word")


@pytest.fixture(scope="session")
def debian_image() -> Path:
    images = pytest.importorskip("tests.images")
    path: Path = images.image("debian")
    return path


@pytest.fixture(scope="session")
def nbd_port(debian_image: Path) -> Iterator[int]:
    """qemu-nbd serving the Debian guest as export ``debian`` on a free TCP port."""
    port = servers.free_port()
    with servers.qemu_nbd(debian_image, "debian", port=port):
        yield port


@pytest.fixture(scope="session")
def http_server(debian_image: Path) -> Iterator[servers.HttpServer]:
    """The Debian guest at ``/debian.img``, for HTTP_AUTH only (in a process of its own)."""
    with servers.range_http(debian_image, "debian.img", HTTP_AUTH) as server:
        yield server


@pytest.fixture(scope="session")
def ssh_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.SshServer]:
    why = servers.ssh_missing()
    if why:
        pytest.skip(why)
    with servers.sshd(tmp_path_factory.mktemp("sshd")) as server:
        yield server
