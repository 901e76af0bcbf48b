"""Synthetic guests: distros beyond libguestfs, recognised from their real ``/etc/os-release``.

Each is a small in-memory filesystem for the fake collector (tests/rules/fakefs.py) with
the distro's os-release file as it ships (a symlink where the distro has one), and what the
inspection must conclude. ``record_synthetic(name)`` runs the real driver loop over it and
writes ``facts/synthetic/<name>/`` (``python -m tests.snapshots --synthetic``), so the
inspection can be replayed with ``guestinspect --facts facts/synthetic/<name>``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from guestinspect.collectors.base import FactSet
from tests.rules.fakefs import FakeCollector, Node
from tests.snapshots import SYNTHETIC, asked_wants, replay_wants

FS = "/dev/sda1"


@dataclass(frozen=True)
class Expected:
    distro: str
    product: str
    major: int
    minor: int
    package_format: str | None
    package_management: str | None
    osinfo: str | None
    os_family: str | None


@dataclass(frozen=True)
class SyntheticGuest:
    name: str
    files: dict[str, Node]
    expected: Expected
    hostname: str = "localhost"

    def collector(self) -> FakeCollector:
        files: dict[str, Node] = {
            "/etc/fstab": "# <file system> <mount point> <type> <options> <dump> <pass>\n"
                          "UUID=0d7a4b7e-5a56-4d6c-9b0b-3c1e2f4a5b6c / ext4 defaults 0 1\n",
            "/etc/hostname": f"{self.hostname}\n",
            "/usr/bin/ls": "\x7fELF",
            "/bin": ("symlink", "usr/bin"),
            **self.files,
        }
        facts: FactSet = {
            "Disk": {("/dev/sda", 0, 8 * 1024**3)},
            "PartitionTable": {("/dev/sda", "gpt")},
            "Partition": {(FS, "/dev/sda", 1, 1024**2, 8 * 1024**3 - 2 * 1024**2)},
            "Filesystem": {(FS, "ext4")},
            "FsUuid": {(FS, "0d7a4b7e-5a56-4d6c-9b0b-3c1e2f4a5b6c")},
            "Mounted": {(FS,)},
        }
        return FakeCollector({(FS, p): v for p, v in files.items()}, facts,
                             arch={(FS, "/usr/bin/ls"): "x86_64"})


def _g(name: str, os_release: str, expected: Expected,
       files: dict[str, Node] | None = None) -> SyntheticGuest:
    """A guest whose ``/etc/os-release`` is ``os_release``, with more ``files``."""
    return SyntheticGuest(name, {"/etc/os-release": os_release, **(files or {})}, expected,
                          hostname=name)


_KDE_NEON = """\
PRETTY_NAME="KDE neon 6.0"
NAME="KDE neon"
VERSION_ID="22.04"
VERSION="6.0"
VERSION_CODENAME=jammy
ID=neon
ID_LIKE="ubuntu debian"
HOME_URL="https://neon.kde.org/"
SUPPORT_URL="https://neon.kde.org/"
BUG_REPORT_URL="https://bugs.kde.org/"
PRIVACY_POLICY_URL="https://kde.org/privacypolicy/"
UBUNTU_CODENAME=jammy
LOGO=start-here-kde-neon
"""

_POP_OS = """\
NAME="Pop!_OS"
VERSION="22.04 LTS"
ID=pop
ID_LIKE="ubuntu debian"
PRETTY_NAME="Pop!_OS 22.04 LTS"
VERSION_ID="22.04"
HOME_URL="https://pop.system76.com"
SUPPORT_URL="https://support.system76.com"
BUG_REPORT_URL="https://github.com/pop-os/pop/issues"
PRIVACY_POLICY_URL="https://system76.com/privacy"
VERSION_CODENAME=jammy
UBUNTU_CODENAME=jammy
LOGO=distributor-logo-pop-os
"""

_LINUX_MINT = """\
NAME="Linux Mint"
VERSION="21.3 (Virginia)"
ID=linuxmint
ID_LIKE="ubuntu debian"
PRETTY_NAME="Linux Mint 21.3"
VERSION_ID="21.3"
HOME_URL="https://www.linuxmint.com/"
SUPPORT_URL="https://forums.linuxmint.com/"
BUG_REPORT_URL="http://linuxmint-troubleshooting-guide.readthedocs.io/en/latest/"
PRIVACY_POLICY_URL="https://www.linuxmint.com/"
VERSION_CODENAME=virginia
UBUNTU_CODENAME=jammy
"""

_ALMALINUX = """\
NAME="AlmaLinux"
VERSION="9.3 (Shamrock Pampas Cat)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.3 (Shamrock Pampas Cat)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
DOCUMENTATION_URL="https://wiki.almalinux.org/"
BUG_REPORT_URL="https://bugs.almalinux.org/"

ALMALINUX_MANTISBT_PROJECT="AlmaLinux-9"
ALMALINUX_MANTISBT_PROJECT_VERSION="9.3"
REDHAT_SUPPORT_PRODUCT="AlmaLinux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.3"
"""

_AMAZON_LINUX_2023 = """\
NAME="Amazon Linux"
VERSION="2023"
ID="amzn"
ID_LIKE="fedora"
VERSION_ID="2023"
PLATFORM_ID="platform:al2023"
PRETTY_NAME="Amazon Linux 2023"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2023"
HOME_URL="https://aws.amazon.com/linux/amazon-linux-2023/"
DOCUMENTATION_URL="https://docs.aws.amazon.com/linux/"
SUPPORT_URL="https://aws.amazon.com/premiumsupport/"
BUG_REPORT_URL="https://github.com/amazonlinux/amazon-linux-2023"
VENDOR_NAME="AWS"
VENDOR_URL="https://aws.amazon.com/"
SUPPORT_END="2028-03-15"
"""

_AMAZON_LINUX_2 = """\
NAME="Amazon Linux"
VERSION="2"
ID="amzn"
ID_LIKE="centos rhel fedora"
VERSION_ID="2"
PRETTY_NAME="Amazon Linux 2"
ANSI_COLOR="0;33"
CPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"
HOME_URL="https://amazonlinux.com/"
SUPPORT_END="2025-06-30"
"""

_ORACLE_LINUX = """\
NAME="Oracle Linux Server"
VERSION="9.3"
ID="ol"
ID_LIKE="fedora"
VARIANT="Server"
VARIANT_ID="server"
VERSION_ID="9.3"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Oracle Linux Server 9.3"
ANSI_COLOR="0;31"
CPE_NAME="cpe:/o:oracle:linux:9:3:server"
HOME_URL="https://linux.oracle.com/"
BUG_REPORT_URL="https://github.com/oracle/oracle-linux"

ORACLE_BUGZILLA_PRODUCT="Oracle Linux 9"
ORACLE_BUGZILLA_PRODUCT_VERSION=9.3
ORACLE_SUPPORT_PRODUCT="Oracle Linux"
ORACLE_SUPPORT_PRODUCT_VERSION=9.3
"""

_NIXOS = """\
ANSI_COLOR="1;34"
BUG_REPORT_URL="https://github.com/NixOS/nixpkgs/issues"
BUILD_ID="23.11.20240115.b8dd8be"
DOCUMENTATION_URL="https://nixos.org/learn.html"
HOME_URL="https://nixos.org/"
ID=nixos
IMAGE_ID=""
IMAGE_VERSION=""
LOGO="nix-snowflake"
NAME=NixOS
PRETTY_NAME="NixOS 23.11 (Tapir)"
SUPPORT_END="2024-06-30"
SUPPORT_URL="https://nixos.org/community.html"
VERSION="23.11 (Tapir)"
VERSION_CODENAME=tapir
VERSION_ID="23.11"
"""

_FLATCAR = """\
NAME="Flatcar Container Linux by Kinvolk"
ID=flatcar
ID_LIKE=coreos
VERSION=3760.2.0
VERSION_ID=3760.2.0
BUILD_ID=2024-01-19-1455
SYSEXT_LEVEL=1.0
PRETTY_NAME="Flatcar Container Linux by Kinvolk 3760.2.0 (Oklo)"
ANSI_COLOR="38;5;75"
HOME_URL="https://flatcar.org/"
BUG_REPORT_URL="https://issues.flatcar.org"
FLATCAR_BOARD="amd64-usr"
CPE_NAME="cpe:2.3:o:flatcar-linux:flatcar_linux:3760.2.0:*:*:*:*:*:*:*"
"""

_TUMBLEWEED = """\
NAME="openSUSE Tumbleweed"
# VERSION="20240115"
ID="opensuse-tumbleweed"
ID_LIKE="opensuse suse"
VERSION_ID="20240115"
PRETTY_NAME="openSUSE Tumbleweed"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:tumbleweed:20240115"
BUG_REPORT_URL="https://bugzilla.opensuse.org"
SUPPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Tumbleweed"
LOGO="distributor-logo-Tumbleweed"
"""

_AZURE_LINUX = """\
NAME="Microsoft Azure Linux"
VERSION="3.0.20240824"
ID=azurelinux
VERSION_ID="3.0"
PRETTY_NAME="Microsoft Azure Linux 3.0"
ANSI_COLOR="1;34"
HOME_URL="https://aka.ms/azurelinux"
BUG_REPORT_URL="https://aka.ms/azurelinux"
SUPPORT_URL="https://aka.ms/azurelinux"
"""

#: An Arch derivative no table knows: the generic ID_LIKE fallback (distro = its ID).
_MANJARO = """\
NAME="Manjaro Linux"
PRETTY_NAME="Manjaro Linux"
ID=manjaro
ID_LIKE=arch
BUILD_ID=rolling
ANSI_COLOR="32;1;24;144;200"
HOME_URL="https://manjaro.org/"
DOCUMENTATION_URL="https://wiki.manjaro.org/"
SUPPORT_URL="https://forum.manjaro.org/"
BUG_REPORT_URL="https://docs.manjaro.org/reporting-bugs/"
PRIVACY_POLICY_URL="https://manjaro.org/privacy-policy/"
LOGO=manjarolinux
"""

_USR_OS_RELEASE: dict[str, Node] = {"/etc/os-release": ("symlink", "../usr/lib/os-release")}


def _usr(name: str, text: str, expected: Expected) -> SyntheticGuest:
    """os-release in /usr/lib, /etc/os-release a relative symlink to it."""
    return SyntheticGuest(name, {**_USR_OS_RELEASE, "/usr/lib/os-release": text}, expected,
                          hostname=name)


_NIX_ETC = "/nix/store/q3mbwa1sqa1mb8dbgz4l4hgz8r7ymr1v-etc/etc"

_ALL = [
    _g("kde-neon", _KDE_NEON,
       Expected("kdeneon", "KDE neon 6.0", 22, 4, "deb", "apt", None, "debian")),
    _g("pop-os", _POP_OS,
       Expected("popos", "Pop!_OS 22.04 LTS", 22, 4, "deb", "apt", None, "debian")),
    _g("linuxmint", _LINUX_MINT,
       Expected("linuxmint", "Linux Mint 21.3", 21, 3, "deb", "apt", "linuxmint21.3", "debian")),
    _g("almalinux", _ALMALINUX,
       Expected("almalinux", "AlmaLinux 9.3 (Shamrock Pampas Cat)", 9, 3, "rpm", "dnf",
                "almalinux9", "redhat"),
       {"/etc/almalinux-release": "AlmaLinux release 9.3 (Shamrock Pampas Cat)\n",
        "/etc/redhat-release": ("symlink", "almalinux-release")}),
    _usr("amazonlinux-2023", _AMAZON_LINUX_2023,
         Expected("amazonlinux", "Amazon Linux 2023", 2023, 0, "rpm", "dnf", None, "redhat")),
    _usr("amazonlinux-2", _AMAZON_LINUX_2,
         Expected("amazonlinux", "Amazon Linux 2", 2, 0, "rpm", "yum", None, "redhat")),
    _g("oraclelinux", _ORACLE_LINUX,
       Expected("oraclelinux", "Oracle Linux Server 9.3", 9, 3, "rpm", "dnf", "oraclelinux9.3",
                "redhat"),
       {"/etc/oracle-release": "Oracle Linux Server release 9.3\n",
        "/etc/redhat-release": "Red Hat Enterprise Linux release 9.3 (Plow)\n"}),
    SyntheticGuest("nixos", {"/etc/os-release": ("symlink", "/etc/static/os-release"),
                             "/etc/static": ("symlink", _NIX_ETC),
                             f"{_NIX_ETC}/os-release": _NIXOS},
                   Expected("nixos", "NixOS 23.11 (Tapir)", 23, 11, "nix", "nix", "nixos-23.11",
                            "nixos"), hostname="nixos"),
    _usr("flatcar", _FLATCAR,
         Expected("flatcar", "Flatcar Container Linux by Kinvolk 3760.2.0 (Oklo)", 3760, 2,
                  None, None, None, "coreos")),
    _usr("opensuse-tumbleweed", _TUMBLEWEED,
         Expected("opensuse", "openSUSE Tumbleweed", 0, 0, "rpm", "zypper",
                  "opensusetumbleweed", "suse")),
    _usr("azurelinux", _AZURE_LINUX,
         Expected("azurelinux", "Microsoft Azure Linux 3.0", 3, 0, "rpm", "tdnf", None,
                  "azurelinux")),
    _usr("manjaro", _MANJARO,
         Expected("manjaro", "Manjaro Linux", 0, 0, "pacman", "pacman", None, "arch")),
]

GUESTS: dict[str, SyntheticGuest] = {g.name: g for g in _ALL}


def record_synthetic(name: str, directory: Path | None = None) -> Path:
    """Run the driver loop over the synthetic guest and write its facts."""
    from guestinspect.inspection.driver import load_program, run_collector

    out = directory if directory is not None else SYNTHETIC / name
    db = run_collector(load_program(), GUESTS[name].collector())
    for old in out.glob("*.facts"):
        old.unlink()
    db.write_facts_dir(out, skip_empty=True)
    unanswered = replay_wants(out) - asked_wants(db)
    if unanswered:
        raise RuntimeError(f"{out}: incomplete recording, never asked {sorted(unanswered)[:5]}")
    return out


def check_synthetic(name: str) -> list[str]:
    """What differs between ``facts/synthetic/<name>/`` and a fresh recording."""
    from tests.snapshots import differences

    committed = SYNTHETIC / name
    if not committed.is_dir():
        return [f"{committed}: missing (python -m tests.snapshots --synthetic)"]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = record_synthetic(name, Path(tmp) / name)
        return differences(committed, fresh)
