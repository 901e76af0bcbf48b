"""Servers of disk images on 127.0.0.1 for the remote-disk tests: qemu-nbd, a web server with
byte ranges (rangehttp.py), and an sshd of the test's own (its own config, port, host key and
client key; nothing of the system's ssh configuration is read or changed).

qemu's ssh driver (libssh) finds ``known_hosts`` and the client's keys in the home directory
of the passwd entry of the user running it, not in ``$HOME``. The tests give qemu a home of
their own with nss_wrapper (``LD_PRELOAD=libnss_wrapper.so`` and a passwd file naming that
home): the server's host key is then checked, as it is for a user, against a known_hosts the
test wrote; the check itself is never turned off.
"""

from __future__ import annotations

import getpass
import glob
import grp
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.oracles import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(address: str | tuple[str, int], proc: subprocess.Popen[bytes], what: str) -> None:
    """Wait until something listens at ``address`` (a TCP address or a Unix socket)."""
    end = time.monotonic() + 20
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        with socket.socket(family) as s:
            try:
                s.connect(address)
                return
            except OSError:
                time.sleep(0.1)
    raise RuntimeError(f"{what} is not listening at {address} after 20 s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def qemu_nbd(image: Path, export: str, *, port: int | None = None,
             socket_path: Path | None = None, persistent: bool = True) -> Iterator[None]:
    """``qemu-nbd --read-only`` serving ``image`` as ``export`` (persistent, 4 clients; not
    ``persistent``: it exits when its first client leaves, as qemu-nbd does by default)."""
    where = ["-k", str(socket_path)] if socket_path else ["-b", "127.0.0.1", "-p", str(port)]
    keep = ["--persistent", "--shared=4"] if persistent else []
    proc = subprocess.Popen(["qemu-nbd", "--read-only", *keep,
                             "-f", "raw", "-x", export, *where, str(image)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if persistent:  # (a connection to see it listen would be its only client)
            wait_for(str(socket_path) if socket_path else ("127.0.0.1", port or 0), proc,
                     "qemu-nbd")
        else:
            time.sleep(1.0)
        yield
    finally:
        stop(proc)


@dataclass
class HttpServer:
    port: int
    url: str  # http://127.0.0.1:PORT/NAME


@contextmanager
def range_http(image: Path, name: str, auth: tuple[str, str] | None = None,
               ) -> Iterator[HttpServer]:
    """tests/remote/rangehttp.py serving ``image`` as ``/name``, in a process of its own."""
    env = {**os.environ, **({"RANGEHTTP_AUTH": ":".join(auth)} if auth else {})}
    proc = subprocess.Popen([sys.executable, "-m", "tests.remote.rangehttp", str(image), name],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield HttpServer(port, f"http://127.0.0.1:{port}/{name}")
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        stop(proc)


@dataclass
class SshServer:
    port: int
    user: str
    host_key_pub: str  # "ssh-ed25519 AAAA…"
    client_home: Path  # a home with .ssh/id_ed25519 and .ssh/known_hosts

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key_pub}\n"

    def env(self, home: Path | None = None) -> dict[str, str]:
        """Environment for a process whose libssh (qemu's) must use ``home`` (default: the
        client's) as the home directory of its user: nss_wrapper's passwd and group."""
        home = home or self.client_home
        passwd, group = home / "passwd", home / "group"
        uid, gid = os.getuid(), os.getgid()
        passwd.write_text(f"{self.user}:x:{uid}:{gid}:{self.user}:{home}:/bin/sh\n")
        group.write_text(f"{grp.getgrgid(gid).gr_name}:x:{gid}:\n")
        return {"LD_PRELOAD": "libnss_wrapper.so", "NSS_WRAPPER_PASSWD": str(passwd),
                "NSS_WRAPPER_GROUP": str(group)}


def nss_wrapper() -> bool:
    """Whether ``libnss_wrapper.so`` is where the dynamic loader finds it."""
    lib_dirs = ["/usr/lib", "/usr/lib64", "/lib", *glob.glob("/usr/lib/*-linux-gnu")]
    return any(Path(d, "libnss_wrapper.so").exists() for d in lib_dirs)


def ssh_missing() -> str | None:
    """Why the ssh test cannot run here (None if it can)."""
    if shutil.which("sshd") is None and not Path("/usr/sbin/sshd").exists():
        return "no sshd (Debian: openssh-server)"
    if not nss_wrapper():
        return "no libnss_wrapper.so (Debian: libnss-wrapper)"
    if shutil.which("ssh-keygen") is None:
        return "no ssh-keygen"
    return None


@contextmanager
def sshd(directory: Path) -> Iterator[SshServer]:
    """An sshd on 127.0.0.1 with its own config, host key and port, letting the current user
    in with a key made here (and nothing else: no password, no PAM), sftp built in."""
    directory.mkdir(parents=True, exist_ok=True)
    host_key, client_key = directory / "host_key", directory / "client_key"
    for key in (host_key, client_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f",
                        str(key)], check=True)
    authorized = directory / "authorized_keys"
    shutil.copy(client_key.with_suffix(".pub"), authorized)
    authorized.chmod(0o600)
    user, port = getpass.getuser(), free_port()
    config = directory / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1:{port}\nHostKey {host_key}\nPidFile none\n"
        f"AuthorizedKeysFile {authorized}\nAllowUsers {user}\nPermitRootLogin prohibit-password\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    if os.getuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
    sshd_bin = shutil.which("sshd") or "/usr/sbin/sshd"
    log = (directory / "sshd.log").open("wb")
    proc = subprocess.Popen([sshd_bin, "-D", "-e", "-f", str(config)],
                            stdout=log, stderr=subprocess.STDOUT)
    home = directory / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    shutil.copy(client_key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    shutil.copy(client_key.with_suffix(".pub"), home / ".ssh" / "id_ed25519.pub")
    pub = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
    server = SshServer(port, user, pub, home)
    (home / ".ssh" / "known_hosts").write_text(server.known_hosts_line())
    try:
        wait_for(("127.0.0.1", port), proc, "sshd")
        yield server
    finally:
        stop(proc)
        log.close()
