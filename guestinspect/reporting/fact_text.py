"""How ``--explain`` describes each base fact to a person: a table beside the fact schema.

One row per base relation of ``rules/facts.dl`` (docs/facts.md), read by
``guestinspect/reporting/explain.py``: a template over the relation's column names, and what
the fact is about (a path of a filesystem), so that a fact another one implies can be left
out (``/etc`` exists, when ``/etc/fstab`` is shown). A relation without a row is shown as
``Relation(values…)``. ``READINGS`` describe the tuples of Python relations that decode a
base fact's value (a MountedDevices value read as an MBR signature and offset); they are
shown beside the fact whose value they read. Every value is made safe for a terminal
before it is put in a template (``explain.shorten``).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class FactText:
    """How one base relation reads.

    ``template`` names columns in braces (``{path}``); ``{col:bytes}`` is the size of a
    base64 column. ``subject`` is the filesystem and path columns the fact is about (path
    ``""``: the whole filesystem). An ``implied`` fact is left out when another fact shown is
    about a path below its own, or about the same path and not implied itself. ``text`` is a
    column holding a file's text: the lines the conclusion rests on are shown under it.
    ``empty`` replaces an empty value of the columns it names.
    """

    template: str
    subject: tuple[str, str] | None = None
    implied: bool = False
    text: str | None = None
    empty: tuple[tuple[str, str], ...] = ()


FACT_TEXT: dict[str, FactText] = {
    # block devices, partitions, volume managers
    "Disk": FactText("disk {dev} (number {index} on the command line), {size} bytes"),
    "PartitionTable": FactText("disk {dev} has partition table type {type}"),
    "MbrSignature": FactText("disk {dev} has MBR signature {sig}"),
    "Partition": FactText("partition {part} is number {num} of {dev}, at offset {start}, "
                          "{size} bytes"),
    "PartitionMbrType": FactText("partition {part} has MBR type {type}"),
    "PartitionGptType": FactText("partition {part} has GPT type {guid}"),
    "PartitionGptGuid": FactText("partition {part} has GPT GUID {guid}"),
    "PartitionName": FactText("partition {part} is named {name}"),
    "PartitionDisklabel": FactText("partition {part} is {letter} of the disklabel in slice "
                                   "{slice} (DUID {duid})", empty=(("duid", "none"),)),
    "LvmVg": FactText("LVM volume group {vg} (UUID {uuid})"),
    "LvmPv": FactText("{pv} is a physical volume of {vg}"),
    "LvmLv": FactText("logical volume {lv}: {name} of {vg} (UUID {uuid})"),
    "MdArray": FactText("md array {md} (UUID {uuid})"),
    "MdMember": FactText("{dev} is a member of {md}"),
    "LuksContainer": FactText("{dev} is a LUKS container (UUID {uuid})"),
    "LuksOpened": FactText("LUKS container {dev} opened as {mapped}"),
    "LuksLocked": FactText("LUKS container {dev} left locked: {reason}"),
    # filesystems
    "Filesystem": FactText("filesystem {fs} is {vfs}"),
    "FsUuid": FactText("filesystem {fs} has UUID {uuid}"),
    "FsLabel": FactText("filesystem {fs} has label {label}"),
    "FsVersion": FactText("filesystem {fs} is version {version}"),
    "BtrfsSubvolume": FactText("btrfs subvolume {path} (id {id}) of {dev} is {fs}"),
    "Mounted": FactText("filesystem {fs} mounted", subject=("fs", ""), implied=True),
    "MountFailed": FactText("filesystem {fs} could not be mounted: {message}"),
    # paths
    "Entry": FactText("{kind} {fs}:{path} exists", subject=("fs", "path"), implied=True),
    "Symlink": FactText("symlink {fs}:{path} -> {target}", subject=("fs", "path")),
    "FileSize": FactText("file {fs}:{path} is {size} bytes", subject=("fs", "path"),
                         implied=True),
    "Missing": FactText("{fs}:{path} does not exist", subject=("fs", "path")),
    "Listed": FactText("directory {fs}:{path} listed", subject=("fs", "path"), implied=True),
    "Content": FactText("file {fs}:{path}", subject=("fs", "path"), text="text"),
    "ContentTruncated": FactText("file {fs}:{path} read in part (longer than 1 MiB)",
                                 subject=("fs", "path")),
    "BinaryArch": FactText("binary {fs}:{path} is {arch}", subject=("fs", "path")),
    "Blob": FactText("file {fs}:{path} read ({data:bytes} bytes)", subject=("fs", "path")),
    "PeResource": FactText("resource type {type} name {name} of {fs}:{path} "
                           "({data:bytes} bytes)", subject=("fs", "path")),
    # registry
    "RegistryKeyFound": FactText("registry key {fs}:{hive} {key} exists",
                                 subject=("fs", "hive"), implied=True),
    "RegistryKeyMissing": FactText("registry key {fs}:{hive} {key} does not exist",
                                   subject=("fs", "hive")),
    "RegistryValue": FactText("registry {fs}:{hive} {key}\\{name} = {data} ({type})",
                              subject=("fs", "hive"), empty=(("name", "(default)"),)),
    "RegistrySubkey": FactText("registry key {fs}:{hive} {key} has subkey {child}",
                               subject=("fs", "hive")),
    "HiveError": FactText("registry {fs}:{hive} could not be read: {message}",
                          subject=("fs", "hive")),
    # packages
    "PackageField": FactText("{kind} package record {pkg} on {fs}: {field} = {value}"),
    "PackageDbError": FactText("{kind} package database {fs}:{path} could not be read: "
                               "{message}", subject=("fs", "path")),
}

#: Python relations that decode a base fact's value: shown beside the fact whose value is
#: their first column. Others (Lines, KeyValue, …: what a file's line says) only tell which
#: lines of a file the conclusion rests on.
READINGS: dict[str, str] = {
    "WinMountedDeviceMbr": "MBR signature {sig}, offset {offset}",
    "WinMountedDeviceGpt": "GPT partition GUID {guid}",
    "WinVersionParts": "version {major}.{minor}",
    "WinBootIniSystemroot": "entry {n}: {path}",
    "MajorMinor": "version {major}.{minor}",
    "Evr": "epoch {epoch}, version {version}, release {release}",
}
