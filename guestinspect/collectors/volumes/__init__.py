"""The volume layer: disk formats, partition tables, LVM, md, LUKS; yields the start facts
(Disk, Partition…, Lvm…, Luks…, Filesystem, FsUuid, FsLabel, FsVersion) and, for each
filesystem it can read, a block device to read it from."""
