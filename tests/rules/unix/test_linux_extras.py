"""The Unix extra fields (issue 13) on the recorded snapshots of the guests of
tests/images/linux_extras.py (facts/ubuntu-server, rhel-server, debian-sysv): exact values,
the fingerprints ssh-keygen prints, the files --explain shows, the extended XML's schema.
Re-record with ``python -m tests.snapshots ubuntu-server rhel-server debian-sysv``."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from guestinspect.api import Inspector
from guestinspect.cli import cli
from tests.images import linux_extras as X
from tests.oracles import ROOT

FACTS = ROOT / "facts"
EXTENDED_SCHEMA = ROOT / "schema" / "guestinspect-extended.rng"


def inspect(name: str) -> dict[str, Any]:
    with Inspector.from_facts(FACTS / name) as insp:
        [os] = insp.inspect()
    return dict(os)


@pytest.fixture(scope="module")
def ubuntu() -> dict[str, Any]:
    return inspect("ubuntu-server")


@pytest.fixture(scope="module")
def rhel() -> dict[str, Any]:
    return inspect("rhel-server")


@pytest.fixture(scope="module")
def debian() -> dict[str, Any]:
    return inspect("debian-sysv")


def by(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def keygen(line: str, tmp: Path) -> tuple[int, str]:
    """(bits, fingerprint) as ssh-keygen -lf prints them for the key."""
    (tmp / "k.pub").write_text(line + "\n")
    out = subprocess.run(["ssh-keygen", "-lf", str(tmp / "k.pub")], check=True,
                         capture_output=True, text=True).stdout.split()
    return int(out[0]), out[1]


# ---- users, groups, admins, keys -------------------------------------------------------------

def test_users(ubuntu: dict[str, Any], rhel: dict[str, Any], debian: dict[str, Any]) -> None:
    users = by(ubuntu["users"], "name")
    assert [u["name"] for u in ubuntu["users"]][:2] == ["root", "daemon"]
    assert users["alice"] == {"name": "alice", "uid": 1001, "gid": 1001, "home": "/home/alice",
                              "shell": "/bin/bash", "password": "set",
                              "last_password_change": "2023-10-20"}
    assert users["bob"]["password"] == "none" and users["ubuntu"]["password"] == "locked"
    assert users["nobody"]["uid"] == 65534
    assert by(rhel["users"], "name")["postgres"]["password"] == "locked"  # "!!"
    assert by(debian["users"], "name")["dave"]["password"] == "locked"  # "!" before a hash
    for os in (ubuntu, rhel, debian):
        assert X.HASH not in repr(os)  # never the hash


def test_groups_and_admins(ubuntu: dict[str, Any], rhel: dict[str, Any],
                           debian: dict[str, Any]) -> None:
    assert by(ubuntu["groups"], "name")["sudo"] == {"name": "sudo", "gid": 27,
                                                   "members": ["alice", "ubuntu"]}
    assert ubuntu["admins"] == [
        {"name": "alice", "via": ["/etc/sudoers", "group sudo"]},
        {"name": "bob", "via": ["/etc/sudoers.d/bob"]},
        {"name": "root", "via": ["/etc/sudoers"]},
        {"name": "ubuntu", "via": ["/etc/sudoers", "/etc/sudoers.d/90-cloud-init-users",
                                   "group sudo"]},
    ]
    assert by(rhel["admins"], "name")["carol"]["via"] == ["/etc/sudoers", "group wheel"]
    assert "admins" not in debian  # no sudoers, an empty sudo group


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
def test_ssh_keys_as_ssh_keygen_prints_them(ubuntu: dict[str, Any], rhel: dict[str, Any],
                                            tmp_path: Path) -> None:
    hosts = by(ubuntu["ssh_host_keys"], "path")
    for kind, line, type_ in (("ed25519", X.KEY_UBUNTU_ED25519, "ED25519"),
                              ("ecdsa", X.KEY_UBUNTU_ECDSA, "ECDSA"),
                              ("rsa", X.KEY_UBUNTU_RSA, "RSA")):
        bits, fingerprint = keygen(line, tmp_path)
        assert hosts[f"/etc/ssh/ssh_host_{kind}_key.pub"] == {
            "type": type_, "bits": bits, "fingerprint": fingerprint,
            "path": f"/etc/ssh/ssh_host_{kind}_key.pub"}
    alice = [k for k in ubuntu["authorized_keys"] if k["user"] == "alice"]
    assert sorted((k["comment"], k["bits"], k["fingerprint"]) for k in alice) == sorted(
        (line.split()[-1], *keygen(line, tmp_path))
        for line in (X.KEY_ALICE_RSA, X.KEY_BOB_ED25519))
    [root_key] = rhel["authorized_keys"]
    assert (root_key["user"], root_key["type"], root_key["fingerprint"]) == (
        "root", "ED25519", keygen(X.KEY_BOB_ED25519, tmp_path)[1])
    assert len(rhel["ssh_host_keys"]) == 2


# ---- settings --------------------------------------------------------------------------------

def test_settings(ubuntu: dict[str, Any], rhel: dict[str, Any], debian: dict[str, Any]) -> None:
    assert ubuntu["timezone"] == {"name": "Europe/Berlin", "source": "/etc/localtime"}
    assert rhel["timezone"] == {"name": "America/New_York", "source": "/etc/localtime"}
    assert debian["timezone"] == {"name": "Etc/UTC", "source": "/etc/timezone"}
    assert ubuntu["locale"] == {"lang": "en_US.UTF-8", "settings": ["LC_TIME=de_DE.UTF-8"],
                                "source": "/etc/default/locale"}
    assert rhel["locale"] == {"lang": "en_US.UTF-8", "source": "/etc/locale.conf"}
    assert ubuntu["keyboard"] == {"layout": "de", "model": "pc105", "variant": "nodeadkeys",
                                  "sources": ["/etc/default/keyboard"]}
    assert rhel["keyboard"] == {"keymap": "us", "sources": ["/etc/vconsole.conf"]}
    assert ubuntu["machine_id"] == "4f8c2d1e9b7a4c3d8e6f5a4b3c2d1e0f"
    assert rhel["selinux"] == {"mode": "enforcing", "policy": "targeted"}
    assert "selinux" not in ubuntu
    assert ubuntu["cloud_init"] == {"installed": True, "evidence": ["/etc/cloud/cloud.cfg"]}
    assert "cloud_init" not in rhel
    # the installer's accounts (2023-08-10) beat dpkg.log's first line (the same day)
    assert ubuntu["install_date"] == {"date": "2023-08-10",
                                      "source": "earliest password change in /etc/shadow"}
    assert rhel["install_date"]["date"] == "2023-04-22"


# ---- network ---------------------------------------------------------------------------------

def test_network_netplan_and_networkd(ubuntu: dict[str, Any]) -> None:
    nics = by(ubuntu["network"], "name")
    assert nics["ens3"] == {
        "name": "ens3", "dhcp": False, "addresses": ["192.168.122.10/24", "2001:db8:122::10/64"],
        "gateways": ["192.168.122.1"], "dns": ["192.168.122.1", "9.9.9.9"],
        "search": ["example.com"], "mac": "52:54:00:12:34:56", "type": "ethernet",
        "source": "/etc/netplan/50-cloud-init.yaml"}
    assert nics["ens4"]["dhcp"] is True and nics["ens4"]["dhcp6"] is True
    # a [Route] with a Destination is not a default gateway
    assert nics["ens5"] == {"name": "ens5", "dhcp": False, "addresses": ["10.10.0.5/16"],
                            "dns": ["10.10.0.2"],
                            "source": "/etc/systemd/network/10-backup.network"}
    assert by(ubuntu["hosts"], "address")["127.0.1.1"]["names"] == ["web01", "web01.example.com"]
    assert "resolver" not in ubuntu  # a link into /run, empty on disk


def test_network_ifcfg_and_networkmanager(rhel: dict[str, Any]) -> None:
    nics = by(rhel["network"], "name")
    assert set(nics) == {"eth0", "eth1"}  # not lo
    assert nics["eth0"] == {
        "name": "eth0", "dhcp": False, "addresses": ["10.0.0.21/24"], "gateways": ["10.0.0.1"],
        "dns": ["10.0.0.2", "10.0.0.3"], "search": ["example.com", "lab.example.com"],
        "mac": "52:54:00:AB:CD:EF", "source": "/etc/sysconfig/network-scripts/ifcfg-eth0"}
    assert nics["eth1"] == {
        "name": "eth1", "dhcp": False, "addresses": ["172.16.5.21/22"],
        "gateways": ["172.16.4.1"], "dns": ["172.16.4.2"], "mac": "52:54:00:11:22:33",
        "type": "ethernet",
        "source": "/etc/NetworkManager/system-connections/storage.nmconnection"}
    assert rhel["resolver"] == {"nameservers": ["10.0.0.2", "10.0.0.3"], "search": ["example.com"]}


def test_network_ifupdown(debian: dict[str, Any]) -> None:
    nics = by(debian["network"], "name")
    assert nics["eth0"] == {
        "name": "eth0", "dhcp": False, "dhcp6": True, "addresses": ["192.0.2.50/25"],
        "gateways": ["192.0.2.1"], "dns": ["192.0.2.1", "192.0.2.2"], "search": ["example.org"],
        "source": "/etc/network/interfaces"}
    assert nics["eth1"] == {"name": "eth1", "dhcp": True, "mac": "52:54:00:de:ad:01",
                            "source": "/etc/network/interfaces.d/eth1"}
    assert debian["resolver"] == {"nameservers": ["192.0.2.1"], "search": ["example.org"],
                                  "domain": "example.org"}


# ---- kernels, boot loader, init, services ----------------------------------------------------

def test_kernels_and_virtio(ubuntu: dict[str, Any], rhel: dict[str, Any],
                            debian: dict[str, Any]) -> None:
    k = by(ubuntu["kernels"], "version")
    assert set(k) == {"5.15.0-91-generic", "6.5.0-14-generic"}  # not vmlinuz, vmlinuz.old
    assert k["5.15.0-91-generic"]["initramfs"] == "/boot/initrd.img-5.15.0-91-generic"
    assert k["5.15.0-91-generic"]["virtio"] == [
        f"virtio_{d}: module /lib/modules/5.15.0-91-generic/kernel/drivers/{p}/virtio_{d}.ko.zst"
        for d, p in (("blk", "block"), ("net", "net"), ("scsi", "scsi"))]
    assert k["6.5.0-14-generic"]["virtio"] == [
        "virtio_blk: built in", "virtio_net: built in", "virtio_scsi: built in"]
    for kernel in ubuntu["kernels"] + rhel["kernels"]:
        if "rescue" not in kernel["version"]:
            assert kernel["virtio_blk"] and kernel["virtio_net"] and kernel["virtio_scsi"]
    [d] = debian["kernels"]
    assert (d["virtio_blk"], d["virtio_net"], d["virtio_scsi"]) == (False, False, False)
    assert by(rhel["kernels"], "version")["5.14.0-362.8.1.el9_3.x86_64"]["initramfs"] == \
        "/boot/initramfs-5.14.0-362.8.1.el9_3.x86_64.img"


def test_bootloaders(ubuntu: dict[str, Any], rhel: dict[str, Any], debian: dict[str, Any]) -> None:
    assert ubuntu["bootloader"] == {
        "type": "grub2", "config": "/boot/grub/grub.cfg", "default": "1>1",
        "default_title": "Ubuntu, with Linux 5.15.0-91-generic",
        "default_kernel": "/vmlinuz-5.15.0-91-generic",
        "default_cmdline": f"root=UUID={X.UBUNTU_ROOT_UUID} ro  console=ttyS0,115200n8 "
                           "net.ifnames=0",
        "default_source": "/boot/grub/grub.cfg"}
    assert len(ubuntu["boot_entries"]) == 3
    bls = "a1b2c3d4e5f60718293a4b5c6d7e8f90-5.14.0-362.8.1.el9_3.x86_64"
    assert rhel["bootloader"]["default"] == bls
    assert rhel["bootloader"]["default_title"] == \
        "Rocky Linux (5.14.0-362.8.1.el9_3.x86_64) 9.3 (Blue Onyx)"
    assert rhel["bootloader"]["default_source"] == f"/boot/loader/entries/{bls}.conf"
    assert "console=ttyS0" in rhel["bootloader"]["default_cmdline"]
    assert {e["id"] for e in rhel["boot_entries"]} == {bls, bls.split("-")[0] + "-0-rescue"}
    assert debian["bootloader"]["type"] == "extlinux"
    assert debian["bootloader"]["default_title"] == "Debian GNU/Linux, kernel 6.1.0-17-amd64"
    assert debian["bootloader"]["default_cmdline"].endswith("ro quiet")


def test_init_and_services(ubuntu: dict[str, Any], rhel: dict[str, Any],
                           debian: dict[str, Any]) -> None:
    assert ubuntu["init_system"] == {"name": "systemd",
                                     "evidence": "/sbin/init -> /usr/lib/systemd/systemd"}
    assert debian["init_system"] == {"name": "sysvinit", "evidence": "/etc/inittab"}
    assert [(s["name"], s["enabled_by"]) for s in ubuntu["services"]] == [
        ("apt-daily.timer", ["timers.target"]), ("cron.service", ["multi-user.target"]),
        ("nginx.service", ["multi-user.target"]), ("ssh.service", ["multi-user.target"]),
        ("systemd-networkd.service", ["multi-user.target"]),
        ("uuidd.socket", ["sockets.target"])]
    assert by(rhel["services"], "name")["getty@tty1.service"]["enabled_by"] == ["getty.target"]
    assert [(s["name"], s["init"], s["enabled_by"]) for s in debian["services"]] == [
        ("cron", "sysv", ["runlevel 2"]), ("networking", "sysv", ["runlevel S"]),
        ("ssh", "sysv", ["runlevel 2", "runlevel 3"])]  # K01nfs-common is not enabled


# ---- explain, extended XML -------------------------------------------------------------------

@pytest.mark.parametrize(("field", "name", "files"), [
    ("users", "ubuntu-server", ["/etc/passwd", "/etc/shadow"]),
    ("network", "ubuntu-server", ["/etc/netplan/50-cloud-init.yaml",
                                  "/etc/systemd/network/10-backup.network"]),
    ("network", "rhel-server", ["/etc/sysconfig/network-scripts/ifcfg-eth0",
                                "/etc/NetworkManager/system-connections/storage.nmconnection"]),
    ("network", "debian-sysv", ["/etc/network/interfaces", "/etc/network/interfaces.d/eth1"]),
    ("kernels", "ubuntu-server", ["/vmlinuz-5.15.0-91-generic", "modules.builtin",
                                  "virtio_blk.ko.zst"]),
])
def test_explain_shows_the_files(field: str, name: str, files: list[str]) -> None:
    with Inspector.from_facts(FACTS / name) as insp:
        text = insp.explain(field)
    for f in files:
        assert f in text, f


def test_extended_xml_validates() -> None:
    out = CliRunner().invoke(cli, ["--facts", str(FACTS / "ubuntu-server"), "--extended"])
    assert out.exit_code == 0, out.output
    doc = etree.fromstring(out.stdout.encode())
    rng = etree.RelaxNG(etree.parse(str(EXTENDED_SCHEMA)))
    assert rng.validate(doc), rng.error_log
    assert b"SHA256:" in etree.tostring(doc)
