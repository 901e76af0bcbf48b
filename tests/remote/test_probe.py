"""Remote disks without an appliance: what the probe before the launch says, in seconds, for
servers that are there, absent, refusing, or whose host key is unknown."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from guestinspect.collectors.remote import probe
from guestinspect.collectors.uri import parse_uri, with_password
from guestinspect.errors import ImageError
from tests.remote import servers
from tests.remote.conftest import HTTP_AUTH


def _error(args: list[str], env: dict[str, str] | None = None) -> tuple[str, float]:
    t0 = time.monotonic()
    result = CliRunner().invoke(cli, args, env=env)
    took = time.monotonic() - t0
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0], took


def test_refused_port_is_one_line_at_once() -> None:
    port = servers.free_port()  # nothing listens there
    line, took = _error(["-a", f"nbd://127.0.0.1:{port}/debian"])
    assert line == (f"guestinspect: error: nbd://127.0.0.1:{port}/debian: cannot read the disk: "
                    f"Failed to connect to '127.0.0.1:{port}': Connection refused")
    assert took < 15


def test_server_gone_after_the_probe(debian_image: Path) -> None:
    """qemu-nbd without --persistent serves the probe and exits: libguestfs's own connection
    fails, and the error says why rather than libguestfs's "qemu-img exited with status 1"."""
    port = servers.free_port()
    with servers.qemu_nbd(debian_image, "d", port=port, persistent=False):
        line, took = _error(["-a", f"nbd://127.0.0.1:{port}/d"])
    assert line == (f"guestinspect: error: nbd://127.0.0.1:{port}/d: cannot read the disk: "
                    f"Failed to connect to '127.0.0.1:{port}': Connection refused (it answered "
                    "before the launch: qemu-nbd serves one connection unless started with "
                    "--persistent)")
    assert took < 30


def test_iscsi_refused_port_is_a_tcp_check() -> None:
    port = servers.free_port()
    line, _ = _error(["-a", f"iscsi://127.0.0.1:{port}/iqn.2026-11.invalid:disk/0"])
    assert line == (f"guestinspect: error: iscsi://127.0.0.1:{port}/iqn.2026-11.invalid:disk/0: "
                    f"cannot connect to 127.0.0.1:{port}: connection refused")


def test_password_is_never_in_a_message(tmp_path: Path) -> None:
    """A listener that accepts and closes passes the iscsi probe (a TCP connection); libguestfs's
    own ``qemu-img info`` then fails and names the URI with the password: it is redacted."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def accept() -> None:
        while True:
            try:
                listener.accept()[0].close()
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    pw = tmp_path / "pw"
    pw.write_text("SeCrEt99\n")
    uri = f"iscsi://bob@127.0.0.1:{port}/iqn.2026-11.invalid:d/0"
    try:
        line, _ = _error(["-a", uri, "--password-file", str(pw)])
    finally:
        listener.close()
    assert line.startswith(f"guestinspect: error: {uri}: ")
    assert "SeCrEt99" not in line and "bob%***@" in line  # libguestfs's iscsi URI, redacted


def test_malformed_uri_is_one_line(tmp_path: Path) -> None:
    line, _ = _error(["-a", "nbd://127.0.0.1:65536/x"])
    assert line == "guestinspect: error: nbd://127.0.0.1:65536/x: bad port 65536 (a number 1-65535)"
    line, _ = _error(["facts", "-a", "ssh://user:pw@host/disk.img", "-o", str(tmp_path / "o")])
    assert line == ("guestinspect: error: ssh://user:pw@host/disk.img: a password in the URI is "
                    "not accepted; give it with --password-file FILE or --ask-password")


def test_nbd_probe_tcp_and_unix_socket(debian_image: Path, nbd_port: int, tmp_path: Path) -> None:
    assert probe(parse_uri(f"nbd://127.0.0.1:{nbd_port}/debian"), None) == "raw"
    line, _ = _error(["-a", f"nbd://127.0.0.1:{nbd_port}/nope"])
    assert line == (f"guestinspect: error: nbd://127.0.0.1:{nbd_port}/nope: cannot read the "
                    "disk: server reported: export 'nope' not present")
    sock = tmp_path / "nbd.sock"
    with servers.qemu_nbd(debian_image, "deb ian", socket_path=sock):
        assert probe(parse_uri(f"nbd+unix:///deb%20ian?socket={sock}"), None) == "raw"
        with pytest.raises(ImageError, match="export '' not present"):  # not the one served
            probe(parse_uri(f"nbd://?socket={sock}"), None)


def test_http_probe_checks_the_password(http_server: servers.HttpServer, tmp_path: Path) -> None:
    user, password = HTTP_AUTH
    url = http_server.url.replace("://", f"://{user}@")
    [disk] = with_password([parse_uri(url)], password)
    assert probe(disk, None) == "raw"
    [wrong] = with_password([parse_uri(url)], "wrong")
    with pytest.raises(ImageError) as e:
        probe(wrong, None)
    assert str(e.value) == f"{url}: cannot read the disk: CURL: Error opening file: " \
        "The requested URL returned error: 401"
    assert "wrong" not in str(e.value)
    # without the password, the probe (qemu-img on the URI) says so before any launch
    line, _ = _error(["-a", url])
    assert line.endswith("The requested URL returned error: 401")
    missing = http_server.url.replace("debian.img", "missing.img")
    pw = tmp_path / "pw"
    pw.write_text(password + "\n")
    line, _ = _error(["-a", missing.replace("://", f"://{user}@"), "--password-file", str(pw)])
    assert line.endswith("The requested URL returned error: 404")
    line, _ = _error(["-a", missing, "--password-file", str(pw)])
    assert line == (f"guestinspect: error: {missing}: a password needs a user name in the URI "
                    "(http://USER@HOST/…)")


def test_ssh_host_key_is_checked(ssh_server: servers.SshServer, debian_image: Path,
                                 tmp_path: Path) -> None:
    uri = f"ssh://{ssh_server.user}@127.0.0.1:{ssh_server.port}{debian_image}"
    env = {**ssh_server.env(), "SSH_AUTH_SOCK": ""}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert probe(parse_uri(uri), None) == "raw"  # the test's known_hosts has the key
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v
    # a home whose known_hosts lacks the server: refused, with the way out
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    for name in ("id_ed25519", "id_ed25519.pub"):
        (home / ".ssh" / name).write_bytes((ssh_server.client_home / ".ssh" / name).read_bytes())
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    line, _ = _error(["-a", uri], env={**ssh_server.env(home), "SSH_AUTH_SOCK": ""})
    assert line == (f"guestinspect: error: {uri}: cannot read the disk: no host key was found "
                    "in known_hosts; add the server's host key to ~/.ssh/known_hosts (for "
                    "example by connecting once with ssh); qemu checks it and guestinspect does "
                    "not turn that off")
    # a known_hosts with another key for it: refused too
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH5BJdm9Th8TaGgMjugzGq03WbFRVb1fFtSel2DoHDFV"
    (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{ssh_server.port} {other}\n")
    line, _ = _error(["-a", uri], env={**ssh_server.env(home), "SSH_AUTH_SOCK": ""})
    assert "does not match the one in known_hosts; this may be a possible attack" in line
