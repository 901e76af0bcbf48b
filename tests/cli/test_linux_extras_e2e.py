"""The Unix extra fields end to end: each image of tests/images/linux_extras.py recorded afresh
by the collectors over the appliance (the launch the session shares with
tests/snapshots/test_snapshots.py::test_snapshot_matches_its_image, no launch of its own),
then the real command line over the recording."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from guestinspect.cli import cli
from tests.images import linux_extras as X


def run(directory: Path) -> dict[str, Any]:
    out = CliRunner().invoke(cli, ["--facts", str(directory), "--json"])
    assert out.exit_code == 0, out.output
    assert X.HASH not in out.stdout
    [os_] = json.loads(out.stdout)
    return dict(os_)


@pytest.mark.appliance
def test_ubuntu_server_image(recorded: Callable[[str], Path], tmp_path: Path) -> None:
    ubuntu = run(recorded("ubuntu-server"))
    alice = next(u for u in ubuntu["users"] if u["name"] == "alice")
    assert (alice["uid"], alice["password"], alice["last_password_change"]) == (
        1001, "set", "2023-10-20")
    ens3 = next(n for n in ubuntu["network"] if n["name"] == "ens3")
    assert (ens3["addresses"], ens3["gateways"]) == (
        ["192.168.122.10/24", "2001:db8:122::10/64"], ["192.168.122.1"])
    assert {(k["version"], k["virtio_blk"], k["virtio_scsi"]) for k in ubuntu["kernels"]} == {
        ("5.15.0-91-generic", True, True), ("6.5.0-14-generic", True, True)}
    assert ubuntu["bootloader"]["default_title"] == "Ubuntu, with Linux 5.15.0-91-generic"
    assert "ssh.service" in {s["name"] for s in ubuntu["services"]}
    (tmp_path / "k.pub").write_text(X.KEY_UBUNTU_ED25519 + "\n")
    keygen = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "k.pub")], check=True,
                            capture_output=True, text=True).stdout.split()
    ed = next(k for k in ubuntu["ssh_host_keys"] if k["type"] == "ED25519")
    assert [str(ed["bits"]), ed["fingerprint"]] == keygen[:2]


@pytest.mark.appliance
def test_rhel_server_image(recorded: Callable[[str], Path]) -> None:
    rhel = run(recorded("rhel-server"))
    eth0 = next(n for n in rhel["network"] if n["name"] == "eth0")
    assert (eth0["addresses"], eth0["dns"]) == (["10.0.0.21/24"], ["10.0.0.2", "10.0.0.3"])
    assert rhel["bootloader"]["default_kernel"] == "/vmlinuz-5.14.0-362.8.1.el9_3.x86_64"
    assert rhel["selinux"] == {"mode": "enforcing", "policy": "targeted"}
    assert [a["name"] for a in rhel["admins"]] == ["carol", "root"]


@pytest.mark.appliance
def test_debian_sysv_image(recorded: Callable[[str], Path]) -> None:
    debian = run(recorded("debian-sysv"))
    assert debian["init_system"] == {"name": "sysvinit", "evidence": "/etc/inittab"}
    eth0 = next(n for n in debian["network"] if n["name"] == "eth0")
    assert eth0["addresses"] == ["192.0.2.50/25"]
    assert [k["virtio_blk"] for k in debian["kernels"]] == [False]
    assert debian["bootloader"]["type"] == "extlinux"
