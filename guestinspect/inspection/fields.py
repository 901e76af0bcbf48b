"""The extra fields (beyond virt-inspector), one declaration each (see ``extras.py``).

A field several operating systems have (``users``, ``timezone``, ``network``, ``services``,
``install_date``) is declared once, with the attributes of all of them: each attribute is
present only where the guest has it. Every relation here is declared (``.decl``, ``.output``)
in ``rules/extras.dl``; docs/api.md lists the fields and where each comes from.
"""

from guestinspect.inspection.extras import Attr, ExtraField

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
        ),
        doc="the system's time zone",
    ),
    ExtraField(
        "install_date", "InstallDate", "record",
        attrs=(
            Attr("date", doc="UTC time, ISO 8601 (2017-10-12T08:40:21Z)"),
            Attr("source", doc="what the date rests on"),
        ),
        doc="when the operating system was installed, and how that is known",
    ),
    ExtraField(
        "domain", "Domain", "record",
        attrs=(
            Attr("name", doc="DNS domain or workgroup name"),
            Attr("type", doc="`domain` or `workgroup`"),
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
        ),
        doc="services (Windows: the Services keys of the current control set)",
    ),
    ExtraField(
        "virtio_drivers", "VirtioDrivers", "values", item_element="driver",
        doc="Windows: virtio drivers installed as services (viostor, vioscsi, netkvm, …)",
    ),
)
