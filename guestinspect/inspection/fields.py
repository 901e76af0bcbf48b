"""Every output field, one declaration each: virt-inspector's fields, then the extra ones.

``VIRT_INSPECTOR_FIELDS`` (``core.py``) are virt-inspector's fields, in the order of its XML;
their relations are declared in ``rules/output.dl``. ``EXTRA_FIELDS`` (``extras.py``) are the
fields beyond virt-inspector. A field several operating systems have (``users``,
``timezone``, ``network``, ``services``, ``install_date``) is declared once, with the
attributes of all of them: each attribute is present only where the guest has it. Every
extra relation is declared (``.decl``, ``.output``) in ``rules/extras.dl``. docs/api.md lists
the fields and where each comes from (``tests/test_docs.py`` checks the core table against
these declarations).
"""

from guestinspect.inspection.core import CoreField
from guestinspect.inspection.extras import Attr, ExtraField

VIRT_INSPECTOR_FIELDS: tuple[CoreField, ...] = (
    CoreField("root", "Root", "root"),
    CoreField("name", "OsType", "text"),
    CoreField("arch", "Arch", "text"),
    CoreField("distro", "OsDistro", "text"),
    CoreField("product_name", "ProductName", "text"),
    CoreField("product_variant", "ProductVariant", "text"),
    CoreField("major_version", "MajorVersion", "number"),
    CoreField("minor_version", "MinorVersion", "number"),
    CoreField("package_format", "PackageFormat", "text"),
    CoreField("package_management", "PackageManagement", "text"),
    CoreField("windows_systemroot", "WindowsSystemroot", "text"),
    CoreField("windows_current_control_set", "WindowsCurrentControlSet", "text"),
    CoreField("windows_group_policy", "WindowsGroupPolicy", "flag"),
    CoreField("hostname", "Hostname", "text"),
    CoreField("build_id", "BuildId", "text"),
    CoreField("osinfo", "Osinfo", "text"),
    CoreField("mountpoints", "Mountpoint", "mountpoints", item_element="mountpoint"),
    CoreField("filesystems", "RootFilesystem", "filesystems", item_element="filesystem"),
    CoreField("drive_mappings", "DriveMapping", "drive_mappings", item_element="drive_mapping"),
    CoreField(
        "applications", "Application", "applications", item_element="application",
        detail=("ApplicationField", ("symbol", "symbol", "symbol", "symbol")),
        attrs=(
            Attr("name"), Attr("display_name"), Attr("epoch", "int"), Attr("version"),
            Attr("release"), Attr("arch"), Attr("install_path"), Attr("publisher"),
            Attr("url"), Attr("source_package"), Attr("summary"), Attr("description"),
            Attr("class"),
        ),
    ),
    CoreField("icon", "Icon", "icon"),
)

#: The output relations of ``rules/output.dl`` that are no field, with their column types:
#: ``Extra``'s strings are merged into the dict (never over a field), ``Warning``s are warnings.
OTHER_OUTPUTS: dict[str, tuple[str, ...]] = {
    "Extra": ("symbol", "symbol", "symbol"),
    "Warning": ("symbol", "symbol"),
}

EXTRA_FIELDS: tuple[ExtraField, ...] = (
    ExtraField(
        "users", "Users", "records", item_element="user",
        attrs=(
            Attr("name", doc="account name"),
            Attr("uid", "int", doc="Unix user id"),
            Attr("gid", "int", doc="Unix primary group id"),
            Attr("rid", "int", doc="Windows relative id (500: Administrator)"),
            Attr("sid", doc="Windows security identifier"),
            Attr("full_name", doc="full name (Windows SAM)"),
            Attr("comment", doc="description (Windows SAM)"),
            Attr("home", doc="home directory; Windows: the profile path"),
            Attr("shell", doc="login shell"),
            Attr("disabled", "bool", doc="Windows: the account is disabled"),
            Attr("password", doc="`set` (a hash is present), `none` (empty: no password "
                 "needed), `locked`; never the hash itself"),
            Attr("last_password_change", doc="date (YYYY-MM-DD) or UTC time of the last "
                 "password change"),
            Attr("last_login", doc="Windows: UTC time of the last logon"),
            Attr("login_count", "int", doc="Windows: number of logons"),
        ),
        doc="local accounts, and Windows profiles (ProfileList) of other accounts",
    ),
    ExtraField(
        "timezone", "Timezone", "record",
        attrs=(
            Attr("name", doc="time zone name (Linux: IANA, e.g. Europe/Paris; Windows: "
                 "the registry's key name, e.g. Pacific Standard Time)"),
            Attr("bias", "int", doc="Windows: minutes to add to local time to get UTC"),
            Attr("standard_name", doc="Windows: name of standard time"),
            Attr("daylight_name", doc="Windows: name of daylight saving time"),
            Attr("source", doc="Unix: the file it comes from (/etc/localtime, …)"),
        ),
        doc="the system's time zone",
    ),
    ExtraField(
        "install_date", "InstallDate", "record",
        attrs=(
            Attr("date", doc="UTC time, ISO 8601 (2017-10-12T08:40:21Z); Unix: a day "
                 "(2023-08-10)"),
            Attr("source", doc="what the date rests on"),
        ),
        doc="when the operating system was installed, and how that is known",
    ),
    ExtraField(
        "domain", "Domain", "record",
        attrs=(
            Attr("name", doc="DNS domain or workgroup name"),
            Attr("type", doc="`domain` or `workgroup`"),
            Attr("netbios_name", doc="Windows: NetBIOS name of the domain or workgroup"),
            Attr("sid", doc="Windows: the domain's SID"),
        ),
        doc="the domain (or workgroup) the machine belongs to",
    ),
    ExtraField(
        "network", "Network", "records", item_element="interface",
        attrs=(
            Attr("name", doc="interface name; Windows: the interface GUID"),
            Attr("display_name", doc="Windows: the connection's name (Ethernet, …)"),
            Attr("dhcp", "bool", doc="the address comes from DHCP"),
            Attr("addresses", multi=True, element="address",
                 doc="static addresses with prefix length (10.0.0.5/24)"),
            Attr("gateways", multi=True, element="gateway", doc="default gateways"),
            Attr("dns", multi=True, element="dns", doc="DNS servers, in order"),
            Attr("domain", doc="DNS domain of the interface"),
            Attr("dhcp_address", doc="Windows: the last address DHCP gave"),
            Attr("dhcp6", "bool", doc="Unix: IPv6 addresses from DHCPv6 or autoconfiguration"),
            Attr("search", multi=True, element="search", doc="Unix: DNS search domains"),
            Attr("mac", doc="Unix: the MAC address the configuration names"),
            Attr("type", doc="Unix: ethernet, bond, bridge, vlan, wifi (netplan, "
                 "NetworkManager)"),
            Attr("source", doc="Unix: the configuration file"),
        ),
        doc="network interfaces and their configuration",
    ),
    ExtraField(
        "services", "Services", "records", item_element="service",
        attrs=(
            Attr("name", doc="service (or unit) name"),
            Attr("display_name", doc="Windows: display name"),
            Attr("start", doc="Windows: boot, system, automatic, manual or disabled"),
            Attr("type", doc="Windows: kernel_driver, filesystem_driver, service, "
                 "shared_service, …"),
            Attr("image", doc="Windows: the image path"),
            Attr("init", doc="Unix: systemd, sysv or openrc"),
            Attr("enabled_by", multi=True, element="enabled_by", doc="Unix: the systemd "
                 "targets (multi-user.target) or runlevels (runlevel 2) that start it"),
        ),
        doc="services (Windows: the Services keys of the current control set)",
    ),
    ExtraField(
        "virtio_drivers", "VirtioDrivers", "values", item_element="driver",
        doc="Windows: virtio drivers installed as services (viostor, vioscsi, netkvm, …)",
    ),
    # ---- Linux and the other Unix-likes (rules/unix/extras.dl) ----
    ExtraField(
        "groups", "Groups", "records", item_element="group",
        attrs=(
            Attr("name", doc="group name"),
            Attr("gid", "int", doc="group id"),
            Attr("members", multi=True, element="member", doc="members listed in /etc/group"),
        ),
        doc="Unix groups (/etc/group)",
    ),
    ExtraField(
        "admins", "Admins", "records", item_element="admin",
        attrs=(
            Attr("name", doc="user name"),
            Attr("via", multi=True, element="via", doc="what makes the user an administrator: "
                 "`group sudo` (wheel, admin) or the sudoers file naming the user or a group"),
        ),
        doc="Unix users who may become root (sudo, wheel, admin groups; sudoers rules)",
    ),
    ExtraField(
        "locale", "Locale", "record",
        attrs=(
            Attr("lang", doc="LANG"),
            Attr("settings", multi=True, element="setting", doc="the other settings "
                 "(LC_TIME=de_DE.UTF-8, LANGUAGE=…)"),
            Attr("source", doc="the file"),
        ),
        doc="the system locale",
    ),
    ExtraField(
        "keyboard", "Keyboard", "record",
        attrs=(
            Attr("layout", doc="X11 layout (de)"),
            Attr("model", doc="X11 model (pc105)"),
            Attr("variant", doc="X11 variant"),
            Attr("options", doc="X11 options"),
            Attr("keymap", doc="console keymap (us)"),
            Attr("sources", multi=True, element="source", doc="the files"),
        ),
        doc="the keyboard layout",
    ),
    ExtraField(
        "hosts", "Hosts", "records", item_element="host",
        attrs=(
            Attr("address", doc="IP address"),
            Attr("names", multi=True, element="name", doc="host names and aliases"),
        ),
        doc="the static host table (/etc/hosts)",
    ),
    ExtraField(
        "resolver", "Resolver", "record",
        attrs=(
            Attr("nameservers", multi=True, element="nameserver", doc="DNS servers"),
            Attr("search", multi=True, element="search", doc="search domains"),
            Attr("domain", doc="local domain"),
            Attr("options", multi=True, element="option", doc="resolver options"),
        ),
        doc="the DNS resolver configuration (/etc/resolv.conf)",
    ),
    ExtraField(
        "kernels", "Kernels", "records", item_element="kernel",
        attrs=(
            Attr("version", doc="kernel version (5.15.0-91-generic)"),
            Attr("image", doc="the kernel image (/boot/vmlinuz-VERSION)"),
            Attr("initramfs", doc="its initramfs (/boot/initrd.img-VERSION, initramfs-…img)"),
            Attr("virtio_blk", "bool", doc="the virtio block driver is there (module or built in)"),
            Attr("virtio_net", "bool", doc="the virtio network driver is there"),
            Attr("virtio_scsi", "bool", doc="the virtio SCSI driver is there"),
            Attr("virtio", multi=True, element="virtio", doc="how each driver is there: "
                 "`virtio_blk: module /lib/modules/…/virtio_blk.ko.zst` or `virtio_blk: built in`"),
        ),
        doc="installed Linux kernels and the virtio drivers each has",
    ),
    ExtraField(
        "bootloader", "BootloaderInfo", "record",
        attrs=(
            Attr("type", doc="grub2, systemd-boot or extlinux"),
            Attr("config", doc="its configuration file"),
            Attr("default", doc="what the configuration names as the default entry"),
            Attr("default_title", doc="the default entry's title"),
            Attr("default_kernel", doc="the default entry's kernel (as the entry writes it)"),
            Attr("default_cmdline", doc="the default entry's kernel command line"),
            Attr("default_source", doc="the file of the default entry (grub.cfg, a BLS file)"),
        ),
        doc="the boot loader and its default entry",
    ),
    ExtraField(
        "boot_entries", "BootEntries", "records", item_element="entry",
        attrs=(
            Attr("id", doc="GRUB's index (1>0), a BLS entry's file name, an extlinux label"),
            Attr("title", doc="the menu title"),
            Attr("kernel", doc="the kernel (as the entry writes it)"),
            Attr("cmdline", doc="the kernel command line"),
            Attr("source", doc="the file"),
        ),
        doc="the boot menu entries (GRUB 2, BLS, extlinux)",
    ),
    ExtraField(
        "init_system", "InitSystemInfo", "record",
        attrs=(
            Attr("name", doc="systemd, sysvinit, openrc or upstart"),
            Attr("evidence", doc="what shows it (/sbin/init -> …/systemd, /etc/inittab, …)"),
        ),
        doc="the init system",
    ),
    ExtraField("machine_id", "MachineIdValue", "scalar", doc="/etc/machine-id"),
    ExtraField(
        "selinux", "Selinux", "record",
        attrs=(
            Attr("mode", doc="enforcing, permissive or disabled"),
            Attr("policy", doc="SELINUXTYPE (targeted, mls, …)"),
        ),
        doc="SELinux's configured mode (/etc/selinux/config)",
    ),
    ExtraField(
        "cloud_init", "CloudInitInfo", "record",
        attrs=(
            Attr("installed", "bool", doc="cloud-init is installed"),
            Attr("evidence", multi=True, element="evidence", doc="the files that show it"),
        ),
        doc="cloud-init",
    ),
    ExtraField(
        "ssh_host_keys", "SshHostKeys", "records", item_element="key",
        attrs=(
            Attr("type", doc="RSA, ECDSA, ED25519, … as ssh-keygen -l prints it"),
            Attr("bits", "int", doc="key size"),
            Attr("fingerprint", doc="SHA256:… as ssh-keygen -l prints it"),
            Attr("path", doc="the public key file"),
        ),
        doc="the SSH server's host keys (/etc/ssh/ssh_host_*_key.pub)",
    ),
    ExtraField(
        "authorized_keys", "AuthorizedKeys", "records", item_element="key",
        attrs=(
            Attr("user", doc="the user whose ~/.ssh/authorized_keys lists the key"),
            Attr("type", doc="RSA, ECDSA, ED25519, …"),
            Attr("bits", "int", doc="key size"),
            Attr("fingerprint", doc="SHA256:… as ssh-keygen -l prints it"),
            Attr("comment", doc="the key's comment"),
        ),
        doc="SSH keys that may log in, per user",
    ),
)
