"""The parsers of guestinspect/functors/unixconf.py on real files (those of the test guests
in tests/images/linux_extras.py) and on hostile ones."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from guestinspect.functors import unixconf
from tests.images import linux_extras as X


def test_ini_sections_repeat_and_keep_order() -> None:
    text = X.UBUNTU_FILES["/etc/systemd/network/10-backup.network"]
    assert isinstance(text, str)
    assert list(unixconf.ini_values(text)) == [
        (1, "Match", "Name", "ens5"), (2, "Network", "Address", "10.10.0.5/16"),
        (2, "Network", "DNS", "10.10.0.2"), (3, "Route", "Gateway", "10.10.0.1"),
        (3, "Route", "Destination", "10.20.0.0/16")]


def test_grub_entries_with_submenu_indexes() -> None:
    text = X.UBUNTU_FILES["/boot/grub/grub.cfg"]
    assert isinstance(text, str)
    rows = list(unixconf.grub_entries(text))
    linux = [(i, t, v.split()[0]) for i, t, k, v in rows if k == "linux"]
    assert linux == [("0", "Ubuntu", "/vmlinuz-6.5.0-14-generic"),
                     ("1>0", "Ubuntu, with Linux 6.5.0-14-generic", "/vmlinuz-6.5.0-14-generic"),
                     ("1>1", "Ubuntu, with Linux 5.15.0-91-generic", "/vmlinuz-5.15.0-91-generic")]
    ids = {i: v for i, _t, k, v in rows if k == "id"}
    assert ids["1>1"] == f"gnulinux-5.15.0-91-generic-advanced-{X.UBUNTU_ROOT_UUID}"
    assert ("1>1", "Ubuntu, with Linux 5.15.0-91-generic", "initrd",
            "/initrd.img-5.15.0-91-generic") in rows


def test_netplan_flattened() -> None:
    text = X.UBUNTU_FILES["/etc/netplan/50-cloud-init.yaml"]
    assert isinstance(text, str)
    rows = set(unixconf.netplan(text))
    assert ("ens3", "address", "192.168.122.10/24") in rows
    assert ("ens3", "address", "2001:db8:122::10/64") in rows
    assert ("ens3", "route", "default 192.168.122.1") in rows
    assert ("ens3", "dns", "9.9.9.9") in rows and ("ens3", "dhcp4", "false") in rows
    assert ("ens4", "dhcp4", "true") in rows and ("ens3", "mac", "52:54:00:12:34:56") in rows


@pytest.mark.parametrize("text", [
    "network:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"  l{i}: &l{i} [{', '.join([f'*{p}'] * 9)}]\n"
              for i, p in enumerate(["a"] + [f"l{j}" for j in range(70)]))
    + "  ethernets: {e: {addresses: *l69}}\n",  # 71 anchors: refused before loading
    "[" * 5000 + "]" * 5000,
    "".join("  " * i + f"k{i}:\n" for i in range(300)),
    "network: {ethernets: {e: {addresses: [" + "1.2.3.4/8, " * 30000 + "]}}}",
    "network:\n  ethernets:\n    e: !!python/object/apply:os.system ['true']\n",
    "network: [unbalanced\n",
])
def test_netplan_hostile_is_a_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        list(unixconf.netplan(text))


def test_netplan_aliases_do_not_expand() -> None:
    text = ("network:\n  a: &a [1.1.1.1/8, 2.2.2.2/8]\n  b: &b [*a, *a, *a]\n"
            "  ethernets:\n    e:\n      addresses: *b\n      nameservers: {addresses: *a}\n")
    assert set(unixconf.netplan(text)) == {("e", "type", "ethernet"), ("e", "dns", "1.1.1.1/8"),
                                           ("e", "dns", "2.2.2.2/8")}


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
@pytest.mark.parametrize("line", [X.KEY_UBUNTU_ED25519, X.KEY_UBUNTU_ECDSA, X.KEY_UBUNTU_RSA,
                                  X.KEY_ALICE_RSA, X.KEY_BOB_ED25519])
def test_ssh_key_as_ssh_keygen_prints_it(line: str, tmp_path: Path) -> None:
    (tmp_path / "k.pub").write_text(line + "\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], check=True,
                         capture_output=True, text=True).stdout.split()
    [(alg, bits, fingerprint, comment)] = unixconf.ssh_key(f'no-pty,command="a b" {line}')
    assert [str(bits), fingerprint, comment] == out[:3]
    assert alg == line.split()[0]


@pytest.mark.parametrize("line", ["ssh-ed25519 not!base64", "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIA==",
                                  "ssh-ed25519 AAAA", "ssh-rsa " + "A" * 20000])
def test_ssh_key_damaged(line: str) -> None:
    with pytest.raises(ValueError):
        list(unixconf.ssh_key(line))


def test_conversions() -> None:
    assert unixconf.netmask_prefix("255.255.255.128") == 25
    assert unixconf.days_date(19579) == "2023-08-10"
    for bad in ("255.0.255.0", "256.0.0.0", "1.2.3", "a.b.c.d"):
        with pytest.raises(ValueError):
            unixconf.netmask_prefix(bad)
    with pytest.raises(ValueError):
        unixconf.days_date(10**9)
