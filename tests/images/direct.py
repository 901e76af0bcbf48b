"""Guests for the direct backend (issue 11), laid out as Debian 12's installer lays them out.

- ``debian12-lvm``: MBR; sda1 ext2 /boot; sda2 an LVM PV of VG ``bookworm-vg`` with LVs
  ``root`` (ext4), ``var`` (xfs), ``home`` (ext4) and ``swap_1``; fstab names them as the
  installer does (``/dev/mapper/bookworm--vg-root``). Merged /usr (``/bin -> usr/bin``), and a
  dpkg status database of a real Debian 12 system's shape on the xfs /var: 290 packages (the
  names, versions, architectures, sections, sources, sizes, priorities and Multi-Arch of packages
  of Debian 12), epochs, native versions, binNMUs with ``Source: name (version)``,
  conffiles, a held package and two removed ones whose configuration files are left
  (``deinstall ok config-files``: not installed). It is also the benchmark guest of issue 11.
- ``debian12-efi``: GPT; sda1 the EFI system partition (vfat, mounted on /boot/efi), sda2 ext4
  root, sda3 swap; fstab by UUID.

Every UUID, label and serial is set by the builder, so that the committed oracles
(``tests/expected/<guest>.xml``) hold for every build. The qcow2 (with a backing file), vmdk,
vhd and vhdx forms of ``debian12-lvm`` are derived from its raw image by ``derived.py``.
"""

from __future__ import annotations

import hashlib

from guestinspect.phony.build import Ctx, Guest, MiB
from tests.images.guests import DEBIAN12_OS_RELEASE, GPT_ESP, _vfat

GPT_LINUX_SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"

LVM_BOOT_UUID = "d1e2c3b4-0001-4a5b-8c7d-1e2f3a4b5c01"
LVM_ROOT_UUID = "d1e2c3b4-0002-4a5b-8c7d-1e2f3a4b5c02"
LVM_VAR_UUID = "d1e2c3b4-0003-4a5b-8c7d-1e2f3a4b5c03"
LVM_HOME_UUID = "d1e2c3b4-0004-4a5b-8c7d-1e2f3a4b5c04"
LVM_SWAP_UUID = "d1e2c3b4-0005-4a5b-8c7d-1e2f3a4b5c05"
EFI_SERIAL = "B00C-E5F1"
EFI_ROOT_UUID = "d1e2c3b4-0011-4a5b-8c7d-1e2f3a4b5c11"
EFI_SWAP_UUID = "d1e2c3b4-0012-4a5b-8c7d-1e2f3a4b5c12"

LVM_HOSTNAME = "bookworm-lvm"
EFI_HOSTNAME = "bookworm-efi"

_FSTAB_HEAD = """\
# /etc/fstab: static file system information.
#
# Use 'blkid' to print the universally unique identifier for a
# device; this may be used with UUID= as a more robust way to name devices
# that works even if disks are added and removed. See fstab(5).
#
# systemd generates mount units based on this file, see systemd.mount(5).
# Please run 'systemctl daemon-reload' after you make changes to use the new version.
#
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
"""

LVM_FSTAB = _FSTAB_HEAD + f"""\
/dev/mapper/bookworm--vg-root /               ext4    errors=remount-ro 0       1
# /boot was on /dev/sda1 during installation
UUID={LVM_BOOT_UUID} /boot           ext2    defaults        0       2
/dev/mapper/bookworm--vg-home /home           ext4    defaults        0       2
/dev/mapper/bookworm--vg-var /var            xfs     defaults        0       2
/dev/mapper/bookworm--vg-swap_1 none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
"""

EFI_FSTAB = _FSTAB_HEAD + f"""\
# / was on /dev/sda2 during installation
UUID={EFI_ROOT_UUID} /               ext4    errors=remount-ro 0       1
# /boot/efi was on /dev/sda1 during installation
UUID={EFI_SERIAL}  /boot/efi       vfat    umask=0077      0       1
# swap was on /dev/sda3 during installation
UUID={EFI_SWAP_UUID} none            swap    sw              0       0
"""

#: Packages of a Debian 12 system: name version architecture section source installed-size
#: priority multi-arch ("-": none).
PACKAGES = """\
adduser 3.134 all admin adduser 686 important foreign
adwaita-icon-theme 43-1 all gnome adwaita-icon-theme 20899 optional foreign
alsa-topology-conf 1.2.5.1-2 all libs alsa-topology-conf 420 optional foreign
appstream 0.16.1-2 amd64 admin appstream 2502 optional foreign
apt 2.6.1 amd64 admin apt 4232 required -
at-spi2-core 2.46.0-5 amd64 misc at-spi2-core 210 optional foreign
attr 1:2.5.1-4 amd64 utils attr 154 optional foreign
binutils 2.40-2 amd64 devel binutils 109 optional -
binutils-x86-64-linux-gnu 2.40-2 amd64 devel binutils 11428 optional allowed
bsdextrautils 2.38.1-5+deb12u3 amd64 utils util-linux 337 optional foreign
btrfs-progs 6.2-1+deb12u2 amd64 admin btrfs-progs 4483 optional foreign
bzip2 1.0.8-5+b1 amd64 utils bzip2 121 standard foreign
bzip2-doc 1.0.8-5 all doc bzip2 612 optional foreign
cmake-data 3.25.1-1 all devel cmake 10456 optional foreign
cscope 15.9-1 amd64 devel cscope 1230 optional -
curl 7.88.1-10+deb12u14 amd64 web curl 489 optional foreign
dbus-system-bus-common 1.14.10-1~deb12u1 all admin dbus 119 optional foreign
dbus-user-session 1.14.10-1~deb12u1 amd64 admin dbus 111 optional foreign
debian-archive-keyring 2023.3+deb12u2 all misc debian-archive-keyring 293 important foreign
dmeventd 2:1.02.185-2 amd64 admin lvm2 224 optional -
dmsetup 2:1.02.185-2 amd64 admin lvm2 246 optional foreign
dpkg-dev 1.21.22 all utils dpkg 1728 optional foreign
e2fsprogs 1.47.0-2 amd64 admin e2fsprogs 1496 required foreign
ed 1.19-1 amd64 editors ed 108 optional foreign
extlinux 3:6.04~git20190206.bf6db5b4+dfsg1-3+b1 amd64 admin syslinux 345 optional -
f2fs-tools 1.15.0-1 amd64 admin f2fs-tools 599 optional -
fontconfig 2.14.1-4 amd64 fonts fontconfig 617 optional foreign
fonts-dejavu-core 2.37-6 all fonts fonts-dejavu 2960 optional foreign
fonts-dejavu-extra 2.37-6 all fonts fonts-dejavu 7229 optional foreign
gcc 4:12.2.0-3 amd64 devel gcc-defaults 47 optional -
gcc-12 12.2.0-14+deb12u1 amd64 devel gcc-12 68236 optional -
gdb 13.1-3 amd64 devel gdb 11629 optional -
gir1.2-packagekitglib-1.0 1.2.6-5+deb12u1 amd64 introspection packagekit 110 optional -
git 1:2.39.5-0+deb12u3 amd64 vcs git 44890 optional foreign
gnupg 2.2.40-1.1+deb12u2 all utils gnupg2 886 optional foreign
groff-base 1.22.4-10 amd64 text groff 3673 important foreign
gtk-update-icon-cache 3.24.38-2~deb12u3 amd64 misc gtk+3.0 125 optional foreign
hicolor-icon-theme 0.17-2 all misc hicolor-icon-theme 441 optional foreign
icoutils 0.32.3-4 amd64 graphics icoutils 221 optional foreign
initramfs-tools 0.142+deb12u3 all utils initramfs-tools 58 optional foreign
iproute2 6.1.0-3 amd64 net iproute2 3516 important foreign
ipxe-qemu 1.0.0+git-20190125.36a4c85-5.1 all admin ipxe 2556 optional foreign
iso-codes 4.15.0-1 all misc iso-codes 20086 optional foreign
jq 1.6-2.1+deb12u1 amd64 utils jq 110 optional foreign
kpartx 0.9.4-3+deb12u2 amd64 admin multipath-tools 74 optional -
ldmtool 0.2.5-1 amd64 otherosfs libldm 52 optional -
libabsl20220623 20220623.1-1+deb12u2 amd64 libs abseil 1913 optional same
libacl1 2.3.1-3 amd64 libs acl 73 optional same
libafflib0v5 3.7.20-1 amd64 libs afflib 565 optional same
libaopalliance-java 20070526-7 all java libaopalliance-java 30 optional -
libappstream4 0.16.1-2 amd64 libs appstream 656 optional same
libapt-pkg6.0 2.6.1 amd64 libs apt 3297 optional same
libarchive13 3.6.2-1+deb12u5 amd64 libs libarchive 865 optional same
libargon2-1 0~20171227-0.3+deb12u1 amd64 libs argon2 56 optional same
libatk-bridge2.0-0 2.46.0-5 amd64 libs at-spi2-core 274 optional same
libatk-wrapper-java 0.40.0-3 all java java-atk-wrapper 78 optional foreign
libatm1 1:2.5.1-4+b2 amd64 libs linux-atm 107 optional same
libaudit-common 1:3.0.9-1 all libs audit 22 optional foreign
libavahi-common3 0.8-10+deb12u1 amd64 libs avahi 94 optional same
libavif15 0.11.1-1+deb12u1 amd64 libs libavif 203 optional same
libbfio1 20170123-6 amd64 libs libbfio 885 optional same
libbinutils 2.40-2 amd64 devel binutils 2469 optional same
libboost-iostreams1.74.0 1.74.0+ds1-21 amd64 libs boost1.74 2113 optional same
libbrlapi0.8 6.5-7+deb12u1 amd64 libs brltty 143 optional same
libbz2-1.0 1.0.8-5+b1 amd64 libs bzip2 106 optional same
libc-l10n 2.36-9+deb12u14 all localization glibc 4350 standard foreign
libc6 2.36-9+deb12u14 amd64 libs glibc 13001 optional same
libcairo2 1.16.0-7 amd64 libs cairo 1307 optional same
libcap-ng0 0.8.3-1+b3 amd64 libs libcap-ng 65 optional same
libcap2-bin 1:2.66-4+deb12u2+b2 amd64 utils libcap2 133 important foreign
libcbor0.8 0.8.0-2+b1 amd64 libs libcbor 98 optional same
libclang-cpp14 1:14.0.6-12 amd64 libs llvm-toolchain-14 57487 optional -
libcommons-parent-java 56-1 all java commons-parent 85 optional -
libconfig9 1.5-0.4 amd64 libs libconfig 74 optional same
libcrypt1 1:4.4.33-2 amd64 libs libxcrypt 233 optional same
libcryptsetup12 2:2.6.1-4~deb12u2 amd64 libs cryptsetup 563 optional same
libcurl3-gnutls 7.88.1-10+deb12u14 amd64 libs curl 828 optional same
libdate-manip-perl 6.91-1 all perl libdate-manip-perl 11400 optional foreign
libdaxctl1 76.1-1 amd64 libs ndctl 68 optional same
libdb5.3 5.3.28+dfsg2-1 amd64 libs db5.3 1833 optional same
libdbus-1-3 1.14.10-1~deb12u1 amd64 libs dbus 468 optional same
libdconf1 0.40.0-4 amd64 libs dconf 112 optional same
libdebconfclient0 0.270 amd64 libs cdebconf 37 optional same
libdebuginfod1 0.188-2.1 amd64 libs elfutils 65 optional same
libdpkg-perl 1.21.22 all perl dpkg 1987 optional foreign
libdrm-amdgpu1 2.4.114-1+b1 amd64 libs libdrm 76 optional same
libdrm-common 2.4.114-1 all libs libdrm 42 optional foreign
libdrm-nouveau2 2.4.114-1+b1 amd64 libs libdrm 74 optional same
libdrm-radeon1 2.4.114-1+b1 amd64 libs libdrm 83 optional same
libduktape207 2.7.0-2 amd64 libs duktape 314 optional same
libedit2 3.1-20221030-2 amd64 libs libedit 258 optional same
libefivar1 37-6 amd64 libs efivar 170 optional same
libegl-dev 1.6.0-1 amd64 libs libglvnd 118 optional same
libelf1 0.188-2.1 amd64 libs elfutils 1036 optional same
libewf2 20140813-1+b1 amd64 libs libewf 1780 optional -
libexecs0 1.3-2 amd64 libs libexecs 43 optional same
libexpat1-dev 2.5.0-1+deb12u1 amd64 libdevel expat 808 optional same
libfmt9 9.1.0+ds1-2 amd64 libs fmtlib 208 optional same
libfontconfig-dev 2.14.1-4 amd64 libdevel fontconfig 833 optional same
libfontenc1 1:1.1.4-1 amd64 libs libfontenc 60 optional same
libfreetype-dev 2.12.1+dfsg-5+deb12u4 amd64 libdevel freetype 2060 optional same
libfreetype6 2.12.1+dfsg-5+deb12u4 amd64 libs freetype 886 optional same
libgail-common 2.24.33-2+deb12u1 amd64 libs gtk+2.0 415 optional same
libgail18 2.24.33-2+deb12u1 amd64 libs gtk+2.0 67 optional same
libgav1-1 0.18.0-1+b1 amd64 libs libgav1 945 optional same
libgcc-12-dev 12.2.0-14+deb12u1 amd64 libdevel gcc-12 14284 optional same
libgdbm-compat4 1.23-3 amd64 libs gdbm 70 optional same
libgdk-pixbuf2.0-common 2.42.10+dfsg-1+deb12u2 all libs gdk-pixbuf 2516 optional foreign
libgeronimo-annotation-1.3-spec-java 1.3-1 all java geronimo-annotation-1.3-spec 40 optional -
libgfapi0 10.3-5 amd64 libs glusterfs 3234 optional same
libgif7 5.2.1-2.5 amd64 libs giflib 84 optional same
libgl1 1.6.0-1 amd64 libs libglvnd 652 optional same
libgl1-mesa-dri 22.3.6-1+deb12u1 amd64 libs mesa 25250 optional same
libglib2.0-data 2.74.6-2+deb12u8 all libs glib2.0 9406 optional foreign
libglu1-mesa 9.0.2-1.1 amd64 libs libglu 478 optional same
libglvnd-dev 1.6.0-1 amd64 libdevel libglvnd 19 optional same
libglx-mesa0 22.3.6-1+deb12u1 amd64 libs mesa 518 optional same
libglx0 1.6.0-1 amd64 libs libglvnd 162 optional same
libgmp-dev 2:6.2.1+dfsg1-1.1 amd64 libdevel gmp 1834 optional same
libgmp10 2:6.2.1+dfsg1-1.1 amd64 libs gmp 855 optional same
libgmpxx4ldbl 2:6.2.1+dfsg1-1.1 amd64 libs gmp 371 optional same
libgnutls-openssl27 3.7.9-2+deb12u6 amd64 libs gnutls28 492 optional same
libgpg-error0 1.46-1 amd64 libs libgpg-error 192 optional same
libgpm2 1.20.7-10+b1 amd64 libs gpm 45 optional same
libgraphite2-3 1.3.14-1 amd64 libs graphite2 203 optional same
libgssapi-krb5-2 1.20.1-2+deb12u3 amd64 libs krb5 425 optional same
libgstreamer-plugins-base1.0-0 1.22.0-3+deb12u7 amd64 libs gst-plugins-base1.0 3443 optional same
libgstreamer1.0-0 1.22.0-2+deb12u1 amd64 libs gstreamer1.0 4418 optional same
libguice-java 4.2.3-2 all java guice 1703 optional -
libharfbuzz0b 6.0.0+dfsg-3 amd64 libs harfbuzz 2609 optional same
libhivex-bin 1.3.23-1+b1 amd64 otherosfs hivex 242 optional -
libhogweed6 3.8.1-2 amd64 libs nettle 463 optional same
libhttp-negotiate-perl 6.01-2 all perl libhttp-negotiate-perl 36 optional -
libicu-dev 72.1-3+deb12u1 amd64 libdevel icu 47784 optional same
libicu72 72.1-3+deb12u1 amd64 libs icu 36170 optional same
libio-html-perl 1.004-3 all perl libio-html-perl 41 optional foreign
libip4tc2 1.8.9-2 amd64 libs iptables 66 optional same
libipt2 2.0.5-1 amd64 libs intel-processor-trace 140 optional -
libisl23 0.25-1.1 amd64 libs isl 2302 optional same
libitm1 12.2.0-14+deb12u1 amd64 libs gcc-12 115 optional same
libjpeg-dev 1:2.1.5-2 amd64 libdevel libjpeg-turbo 107 optional same
libjpeg62-turbo-dev 1:2.1.5-2 amd64 libdevel libjpeg-turbo 1096 optional same
libjs-sphinxdoc 5.3.0-4 all javascript sphinx 184 optional foreign
libjs-underscore 1.13.4~dfsg+~1.11.4-3 all javascript underscore 349 optional foreign
libjson-glib-1.0-0 1.6.6-1 amd64 libs json-glib 204 optional same
libk5crypto3 1.20.1-2+deb12u3 amd64 libs krb5 261 optional same
libkeyutils1 1.6.3-2 amd64 libs keyutils 40 optional same
libklibc 2.0.12-1 amd64 libs klibc 97 optional same
libkrb5-3 1.20.1-2+deb12u3 amd64 libs krb5 1077 optional same
libkrb5support0 1.20.1-2+deb12u3 amd64 libs krb5 134 optional same
liblcms2-2 2.14-2 amd64 libs lcms2 428 optional same
liblerc4 4.0.0+ds-2 amd64 libs lerc 649 optional same
liblocale-gettext-perl 1.07-5 amd64 perl liblocale-gettext-perl 51 required -
liblsan0 12.2.0-14+deb12u1 amd64 libs gcc-12 2942 optional same
liblua5.3-0 5.3.6-2 amd64 libs lua5.3 495 optional same
liblwp-mediatypes-perl 6.04-2 all perl liblwp-mediatypes-perl 74 optional -
libmaven-parent-java 35-1 all java maven-parent 69 optional -
libmaven-resolver-java 1.6.3-1 all java maven-resolver 753 optional -
libmaven-shared-utils-java 3.3.4-1 all java maven-shared-utils 173 optional -
libmaven3-core-java 3.8.7-1 all java maven 1949 optional -
libmd0 1.0.4-2 amd64 libs libmd 79 optional same
libmount1 2.38.1-5+deb12u3 amd64 libs util-linux 454 optional same
libncurses5-dev 6.4-4 amd64 oldlibs ncurses 6 optional same
libncursesw5-dev 6.4-4 amd64 oldlibs ncurses 6 optional same
libndctl6 76.1-1 amd64 libs ndctl 214 optional same
libnetpbm11 2:11.01.00-2 amd64 libs netpbm-free 396 optional same
libnfs13 4.0.0-1+deb12u1 amd64 libs libnfs 384 optional same
libnss-systemd 252.39-1~deb12u2 amd64 admin systemd 389 standard same
liborc-0.4-0 1:0.4.33-2 amd64 libs orc 662 optional same
libp11-kit-dev 0.24.1-2 amd64 libdevel p11-kit 267 optional same
libpackagekit-glib2-18 1.2.6-5+deb12u1 amd64 libs packagekit 448 optional same
libpam-cap 1:2.66-4+deb12u2+b2 amd64 admin libcap2 53 optional same
libpam-runtime 1.5.2-6+deb12u1 all admin pam 876 required foreign
libpam0g 1.5.2-6+deb12u1 amd64 libs pam 215 optional same
libpci3 1:3.9.0-4 amd64 libs pciutils 124 optional same
libpcsclite1 1.9.9-2 amd64 libs pcsc-lite 91 optional same
libpfm4 4.13.0-1 amd64 libs libpfm4 2723 optional same
libpkgconf3 1.8.1-1 amd64 libs pkgconf 101 optional same
libplexus-utils2-java 3.4.2-1 all java plexus-utils2 302 optional -
libpmem1 1.12.1-2 amd64 libs pmdk 378 optional same
libpng-dev 1.6.39-2+deb12u4 amd64 libdevel libpng1.6 853 optional same
libpolkit-gobject-1-0 122-3 amd64 libs policykit-1 148 optional same
libpopt0 1.19+dfsg-1 amd64 libs popt 245 optional same
libpsl5 0.21.2-1 amd64 libs libpsl 96 optional same
libpython3-dev 3.11.2-1+b1 amd64 libdevel python3-defaults 37 optional same
libpython3.11 3.11.2-6+deb12u6 amd64 libs python3.11 7623 optional same
libpython3.11-dev 3.11.2-6+deb12u6 amd64 libdevel python3.11 25781 optional same
librados2 16.2.15+ds-0+deb12u2 amd64 libs ceph 12451 optional -
libreadline-dev 8.2-1.3 amd64 libdevel readline 790 optional same
librpm9 4.18.0+dfsg-1+deb12u1 amd64 libs rpm 2030 optional -
librsvg2-2 2.54.7+dfsg-1~deb12u1 amd64 libs librsvg 10909 optional same
libsasl2-modules-db 2.1.28+dfsg-10 amd64 libs cyrus-sasl2 77 optional same
libseccomp2 2.5.4-1+deb12u1 amd64 libs libseccomp 148 optional same
libselinux1 3.4-1+b6 amd64 libs libselinux 199 optional same
libsensors-config 1:3.6.0-7.1 all utils lm-sensors 33 optional foreign
libslf4j-java 1.7.32-1 all java libslf4j-java 281 optional -
libsm-dev 2:1.2.3-1 amd64 libdevel libsm 106 optional same
libsm6 2:1.2.3-1 amd64 libs libsm 73 optional same
libsmartcols1 2.38.1-5+deb12u3 amd64 libs util-linux 289 optional same
libsndio7.0 1.9.0-0.3+b2 amd64 libs sndio 88 optional same
libsodium23 1.0.18-1+deb12u1 amd64 libs libsodium 415 optional same
libsqlite3-dev 3.40.1-2+deb12u2 amd64 libdevel sqlite3 3150 optional same
libss2 1.47.0-2 amd64 libs e2fsprogs 70 optional same
libssl3 3.0.19-1~deb12u2 amd64 libs openssl 6029 optional same
libstdc++6 12.2.0-14+deb12u1 amd64 libs gcc-12 2686 optional same
libstemmer0d 2.2.0-2 amd64 libs snowball 818 optional same
libstring-shellquote-perl 1.04-3 all perl libstring-shellquote-perl 33 optional foreign
libsystemd-shared 252.39-1~deb12u2 amd64 libs systemd 5350 optional same
libtasn1-6 4.19.0-2+deb12u1 amd64 libs libtasn1-6 116 optional same
libthai-data 0.1.29-1 all libs libthai 626 optional foreign
libthai0 0.1.29-1 amd64 libs libthai 99 optional same
libtk8.6 8.6.13-2 amd64 libs tk8.6 2413 optional same
libuchardet0 0.0.7-1 amd64 libs uchardet 208 optional same
libunbound8 1.17.1-2+deb12u4 amd64 libs unbound 1236 optional same
libusb-1.0-0 2:1.0.26-1 amd64 libs libusb-1.0 155 optional same
libusbredirparser1 0.13.0-2 amd64 libs usbredir 61 optional same
libvdeplug2 4.0.1-4 amd64 libs vdeplug4 278 optional same
libvhdi1 20210425-1+b2 amd64 libs libvhdi 1182 optional same
libwayland-server0 1.21.0-1 amd64 libs wayland 111 optional same
libwww-robotrules-perl 6.02-1 all perl libwww-robotrules-perl 36 optional -
libx11-6 2:1.8.4-2+deb12u2 amd64 libs libx11 1562 optional same
libx11-data 2:1.8.4-2+deb12u2 all x11 libx11 1577 optional foreign
libx11-dev 2:1.8.4-2+deb12u2 amd64 libdevel libx11 2600 optional same
libxau-dev 1:1.0.9-1 amd64 libdevel libxau 65 optional same
libxcb-dri3-0 1.15-1 amd64 libs libxcb 136 optional same
libxcb-randr0 1.15-1 amd64 libs libxcb 192 optional same
libxcb-sync1 1.15-1 amd64 libs libxcb 145 optional same
libxcb-xkb1 1.15-1 amd64 libs libxcb 243 optional same
libxcb1-dev 1.15-1 amd64 libdevel libxcb 771 optional same
libxdamage1 1:1.1.6-1 amd64 libs libxdamage 38 optional same
libxdmcp6 1:1.1.2-3 amd64 libs libxdmcp 53 optional same
libxext6 2:1.3.4-1+b1 amd64 libs libxext 132 optional same
libxfixes3 1:6.0.0-2 amd64 libs libxfixes 57 optional same
libxmu6 2:1.1.3-3 amd64 libs libxmu 140 optional same
libxrender1 1:0.9.10-1.1 amd64 libs libxrender 78 optional same
libxv1 2:1.0.11-1.1 amd64 libs libxv 53 optional same
libzstd1 1.5.4+dfsg2-5 amd64 libs libzstd 785 optional same
llvm-14-dev 1:14.0.6-12 amd64 devel llvm-toolchain-14 271679 optional -
llvm-14-tools 1:14.0.6-12 amd64 devel llvm-toolchain-14 1900 optional -
logsave 1.47.0-2 amd64 admin e2fsprogs 49 optional foreign
lsscsi 0.31-1+b1 amd64 admin lsscsi 116 optional -
media-types 10.0.0 all net media-types 92 standard foreign
ncurses-base 6.4-4 all misc ncurses 379 required foreign
packagekit 1.2.6-5+deb12u1 amd64 admin packagekit 2952 optional foreign
passwd 1:4.13+dfsg1-1+deb12u1 amd64 admin shadow 2827 required foreign
patch 2.7.6-7 amd64 vcs patch 248 optional foreign
pciutils 1:3.9.0-4 amd64 admin pciutils 210 standard foreign
perl-openssl-defaults 7+b1 amd64 perl perl-openssl-defaults 29 optional same
pkgconf-bin 1.8.1-1 amd64 devel pkgconf 81 optional foreign
procps 2:4.0.2-3 amd64 admin procps 2091 important foreign
publicsuffix 20230209.2326-1 all net publicsuffix 339 optional foreign
python-apt-common 2.6.0 all python python-apt 527 optional foreign
python3-apt 2.6.0 amd64 python python-apt 685 optional allowed
python3-blinker 1.5-1 all python blinker 58 optional -
python3-dbus 1.3.2-4+b1 amd64 python dbus-python 405 optional -
python3-dev 3.11.2-1+b1 amd64 python python3-defaults 155 optional allowed
python3-distro 1.8.0-1 all python python-distro 83 optional foreign
python3-gi 3.42.2-3+b1 amd64 python pygobject 730 optional allowed
python3-lazr.restfulclient 0.14.5-1 all python lazr.restfulclient 178 optional -
python3-pygments 2.14.0+dfsg-1 all python pygments 4225 optional foreign
python3-pyparsing 3.0.9-1 all python pyparsing 453 optional foreign
python3-six 1.16.0-4 all python six 63 optional foreign
python3-venv 3.11.2-1+b1 amd64 python python3-defaults 6 optional allowed
python3-xmltodict 0.13.0-1 all python python-xmltodict 51 optional -
python3-yaml 6.0-3+b2 amd64 python pyyaml 493 optional allowed
qemu-system-data 1:7.2+dfsg-7+deb12u18 all otherosfs qemu 7993 optional foreign
qemu-system-x86 1:7.2+dfsg-7+deb12u18+b3 amd64 otherosfs qemu 43488 optional foreign
qemu-utils 1:7.2+dfsg-7+deb12u18+b3 amd64 otherosfs qemu 6911 optional foreign
runit-helper 2.15.2 all admin dh-runit 19 optional foreign
scrub 2.6.1-1+b1 amd64 utils scrub 113 extra -
seabios 1.16.2-1 all misc seabios 862 optional foreign
sed 4.9-1 amd64 utils sed 987 required foreign
sensible-utils 0.0.17+nmu1 all utils sensible-utils 56 required foreign
sgml-base 1.31 all text sgml-base 70 optional foreign
systemd 252.39-1~deb12u2 amd64 admin systemd 9668 important foreign
tar 1.34+dfsg-1.2+deb12u1 amd64 utils tar 3144 required foreign
tcl 8.6.13 amd64 interpreters tcltk-defaults 20 optional foreign
tcl-dev 8.6.13 amd64 libdevel tcltk-defaults 39 optional same
tcl8.6-dev 8.6.13+dfsg-2 amd64 libdevel tcl8.6 4725 optional same
tk 8.6.13 amd64 interpreters tcltk-defaults 20 optional foreign
tk8.6-dev 8.6.13-2 amd64 libdevel tk8.6 3342 optional same
udev 252.39-1~deb12u2 amd64 admin systemd 10925 important foreign
universal-ctags 5.9.20210829.0-1 amd64 editors universal-ctags 3386 optional -
usr-is-merged 37~deb12u1 all oldlibs usrmerge 13 optional foreign
valgrind 1:3.19.0-1 amd64 devel valgrind 77683 optional -
vim 2:9.0.1378-2+deb12u2 amd64 editors vim 3650 optional -
x11-common 1:7.7+23 all x11 xorg 308 optional foreign
x11-utils 7.7+5 amd64 x11 x11-utils 712 optional foreign
xorg-sgml-doctools 1:1.11-1.1 all x11 xorg-sgml-doctools 89 optional foreign
zlib1g 1:1.2.13.dfsg-1 amd64 libs zlib 168 optional same
"""

#: Installed packages held at their version, and removed ones whose conffiles are left.
HELD = {"openssh-client"}
REMOVED = (("nano", "7.2-1+deb12u1", "editors"), ("popularity-contest", "1.76", "misc"))

_SUMMARIES = {
    "libs": "shared library from {source}",
    "admin": "system administration tool from {source}",
    "utils": "utility from {source}",
    "devel": "development files from {source}",
    "doc": "documentation of {source}",
    "net": "network tool from {source}",
}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _stanza(name: str, version: str, arch: str, section: str, source: str, size: str,
            priority: str, multi_arch: str, status: str = "install ok installed") -> str:
    lines = [f"Package: {name}", f"Status: {status}", f"Priority: {priority}",
             f"Section: {section}", f"Installed-Size: {size}",
             f"Maintainer: Debian {source} maintainers <{source}@packages.debian.invalid>",
             f"Architecture: {arch}"]
    if multi_arch != "-":
        lines.append(f"Multi-Arch: {multi_arch}")
    if "+b" in version:  # a binNMU: the source's version is the binary's without +bN
        lines.append(f"Source: {source} ({version.rsplit('+b', 1)[0]})")
    elif source != name:
        lines.append(f"Source: {source}")
    lines.append(f"Version: {version}")
    if arch != "all" and name != "libc6":
        lines.append("Depends: libc6 (>= 2.34)")
    if section in ("admin", "net", "utils") and not name.startswith("lib"):
        conffile = f"/etc/{name}/{name}.conf"
        lines += ["Conffiles:", f" {conffile} {_md5(conffile)}"]
    summary = _SUMMARIES.get(section, "{source} ({section})").format(source=source,
                                                                     section=section)
    lines += [f"Description: {name} - {summary}",
              f" The {name} package of Debian 12 (bookworm), built from the {source} source",
              f" package, in section {section}.",
              " .",
              " This record stands in for the real one in a test image."]
    lines.append(f"Homepage: https://tracker.debian.org/pkg/{source}")
    return "\n".join(lines) + "\n"


def dpkg_status() -> str:
    """/var/lib/dpkg/status of the debian12-lvm guest (about 160 KB)."""
    stanzas = []
    for row in PACKAGES.splitlines():
        name, version, arch, section, source, size, priority, multi_arch = row.split()
        status = "hold ok installed" if name in HELD else "install ok installed"
        stanzas.append(_stanza(name, version, arch, section, source, size, priority, multi_arch,
                               status))
    for name, version, section in REMOVED:
        stanzas.append(_stanza(name, version, "amd64", section, name, "0", "optional", "-",
                               "deinstall ok config-files"))
    return "\n".join(stanzas)


def _debian12_files(ctx: Ctx, hostname: str, fstab: str) -> None:
    """The files of a Debian 12 root (merged /usr); /boot, /var and /home mounted already."""
    g = ctx.g
    ctx.mkdirs("/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/etc/apt", "/root",
               "/var/lib/dpkg", "/var/log", "/var/cache/apt", "/home/debian", "/tmp")
    for link in ("bin", "sbin", "lib"):
        g.ln_s(f"usr/{link}", f"/{link}")
    g.ln_s("usr/lib64", "/lib64")
    ctx.mkdirs("/usr/lib64")
    for exe in ("/usr/bin/ls", "/usr/bin/bash", "/usr/bin/dpkg", "/usr/sbin/init"):
        ctx.elf(exe)
    ctx.write("/usr/lib/os-release", DEBIAN12_OS_RELEASE)
    g.ln_s("../usr/lib/os-release", "/etc/os-release")
    ctx.write("/etc/debian_version", "12.4\n")
    ctx.write("/etc/hostname", hostname + "\n")
    ctx.write("/etc/hosts", f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n")
    ctx.write("/etc/fstab", fstab)
    ctx.write("/etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\n")
    ctx.write("/etc/machine-id", _md5(hostname) + "\n")
    ctx.write("/var/lib/dpkg/status", dpkg_status())
    ctx.write("/var/log/dpkg.log", "2024-01-01 00:00:00 startup archives install\n")


def _mkfs_xfs(ctx: Ctx, dev: str, fs_uuid: str) -> None:
    """An xfs with its UUID given to mkfs.xfs, as an installer makes it: changing the UUID of a
    v5 xfs afterwards (``xfs_admin -U``, what ``g.set_uuid`` runs) sets its incompatible
    feature ``meta_uuid``, a filesystem that was cloned, which libfsxfs refuses to open."""
    ctx.g.debug("sh", [f"mkfs.xfs -q -f -m uuid={fs_uuid} {dev}"])


def build_debian12_lvm(ctx: Ctx) -> None:
    g, dev = ctx.g, ctx.disks[0]
    g.part_init(dev, "mbr")
    g.part_add(dev, "p", 2048, 2048 + 48 * 2048 - 1)  # /boot, 48 MiB
    g.part_add(dev, "p", 2048 + 48 * 2048, -1)
    g.part_set_mbr_id(dev, 2, 0x8E)
    g.part_set_bootable(dev, 1, True)
    pv = ctx.part(2)
    g.pvcreate(pv)
    g.vgcreate("bookworm-vg", [pv])
    for lv, mb in (("root", 160), ("var", 320), ("home", 32), ("swap_1", 16)):
        g.lvcreate(lv, "bookworm-vg", mb)
    g.mkfs("ext2", ctx.part(1), blocksize=1024)
    g.set_uuid(ctx.part(1), LVM_BOOT_UUID)
    for lv, fs_uuid in (("root", LVM_ROOT_UUID), ("home", LVM_HOME_UUID)):
        g.mkfs("ext4", f"/dev/bookworm-vg/{lv}")
        g.set_uuid(f"/dev/bookworm-vg/{lv}", fs_uuid)
    _mkfs_xfs(ctx, "/dev/bookworm-vg/var", LVM_VAR_UUID)
    g.mkswap("/dev/bookworm-vg/swap_1", uuid=LVM_SWAP_UUID)
    g.mount("/dev/bookworm-vg/root", "/")
    for mp, mdev in (("/boot", ctx.part(1)), ("/var", "/dev/bookworm-vg/var"),
                     ("/home", "/dev/bookworm-vg/home")):
        g.mkdir(mp)
        g.mount(mdev, mp)
    _debian12_files(ctx, LVM_HOSTNAME, LVM_FSTAB)
    ctx.mkdirs("/boot/grub")
    ctx.write("/boot/grub/grub.cfg", "set default=0\n")
    ctx.write("/boot/vmlinuz-6.1.0-17-amd64", "kernel\n")


def build_debian12_efi(ctx: Ctx) -> None:
    g, dev = ctx.g, ctx.disks[0]
    g.part_init(dev, "gpt")
    g.part_add(dev, "p", 2048, 2048 + 64 * 2048 - 1)  # ESP, 64 MiB
    g.part_add(dev, "p", 2048 + 64 * 2048, 2048 + 224 * 2048 - 1)  # root, 160 MiB
    g.part_add(dev, "p", 2048 + 224 * 2048, -2048)  # swap
    g.part_set_gpt_type(dev, 1, GPT_ESP)
    g.part_set_gpt_type(dev, 3, GPT_LINUX_SWAP)
    _vfat(ctx, ctx.part(1), EFI_SERIAL)
    g.mkfs("ext4", ctx.part(2))
    g.set_uuid(ctx.part(2), EFI_ROOT_UUID)
    g.mkswap(ctx.part(3), uuid=EFI_SWAP_UUID)
    g.mount(ctx.part(2), "/")
    ctx.mkdirs("/boot/efi")
    g.mount(ctx.part(1), "/boot/efi")
    ctx.mkdirs("/boot/efi/EFI/debian", "/boot/efi/EFI/BOOT")
    ctx.write("/boot/efi/EFI/debian/grub.cfg", f"search.fs_uuid {EFI_ROOT_UUID} root\n")
    ctx.write("/boot/efi/EFI/BOOT/BOOTX64.EFI", b"MZ" + bytes(510))
    _debian12_files(ctx, EFI_HOSTNAME, EFI_FSTAB)
    ctx.mkdirs("/boot/grub")
    ctx.write("/boot/grub/grub.cfg", "set default=0\n")


#: The guests of this module (a registry name: left out of the images' hash).
_ALL: list[Guest] = [
    Guest("debian12-lvm", "Debian 12 on LVM: ext4 root and /home, xfs /var, swap LV, /boot "
          "sda1; dpkg status of 290 packages", (640 * MiB,), build_debian12_lvm),
    Guest("debian12-efi", "Debian 12 on GPT: ESP vfat /boot/efi sda1, ext4 root sda2, swap "
          "sda3", (256 * MiB,), build_debian12_efi),
]
DIRECT = _ALL
