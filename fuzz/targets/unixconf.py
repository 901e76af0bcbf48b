"""The Unix configuration parsers of functors/unixconf.py (issue 13's extra fields) on hostile
text: INI files (NetworkManager keyfiles, systemd-networkd), GRUB 2's grub.cfg, netplan YAML
(size, nesting and aliases bounded: billion laughs), OpenSSH public keys, netmasks. Each may
raise only ValueError (the engine turns it into a warning and skips the tuple)."""

from __future__ import annotations

from fuzz.targets import target
from guestinspect.functors import unixconf
from tests.images import linux_extras as guests


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _files(*names: str) -> list[bytes]:
    out: list[bytes] = []
    for files in (guests.UBUNTU_FILES, guests.RHEL_FILES, guests.DEBIAN_FILES):
        for path, node in files.items():
            if isinstance(node, str) and any(n in path for n in names):
                out.append(node.encode())
    return out


_LAUGHS = b"""network:
  a: &a [x, x, x, x, x, x, x, x, x]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  ethernets: {e: {addresses: *d, nameservers: {addresses: *d}}}
"""


@target("unixconf.ini", lambda: _files(".nmconnection", ".network"), expected=(ValueError,))
def ini(data: bytes) -> None:
    for sn, section, key, value in unixconf.ini_values(_text(data)):
        assert sn >= 0 and "\n" not in key + value + section


@target("unixconf.grub", lambda: _files("grub.cfg"), expected=(ValueError,))
def grub(data: bytes) -> None:
    for index, _title, kind, _value in unixconf.grub_entries(_text(data)):
        assert kind in ("id", "linux", "initrd") and index != ""


@target("unixconf.netplan", lambda: [*_files(".yaml"), _LAUGHS, b"[" * 5000, b"- " * 5000],
        expected=(ValueError,), max_len=1 << 17)
def netplan(data: bytes) -> None:
    rows = list(unixconf.netplan(_text(data)))
    assert len(rows) <= 10 * unixconf.MAX_YAML_NODES


@target("unixconf.sshkey", lambda: _files(".pub", "authorized_keys"), expected=(ValueError,))
def sshkey(data: bytes) -> None:
    for line in _text(data).split("\n"):
        for _alg, bits, fingerprint, _comment in unixconf.ssh_key(line):
            assert bits > 0 and fingerprint.startswith("SHA256:")


@target("unixconf.functors", lambda: [b"255.255.255.0", b"19700", b"255.0.255.0"],
        expected=(ValueError,))
def functors(data: bytes) -> None:
    s = _text(data)
    assert 0 <= unixconf.netmask_prefix(s) <= 32
    digits = "".join(c for c in s if c.isascii() and c.isdigit())[:12]
    if digits:
        assert len(unixconf.days_date(int(digits))) == 10
