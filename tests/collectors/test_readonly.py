"""Images are opened read-only everywhere (docs/security.md, "Read-only"): a static check of
every libguestfs call the collectors and ``guestinspect mount`` make, so that a new call has to
be looked at here."""

import ast
from pathlib import Path

import guestinspect.collectors
import guestinspect.mount

COLLECTORS = Path(guestinspect.collectors.__file__).parent
MOUNT = Path(guestinspect.mount.__file__).parent

#: The libguestfs calls the collectors may make: none writes to a guest's disk. (The drives
#: are read-only anyway; ``mkmountpoint`` works in the appliance's own root, ``lvm_scan``
#: activates volumes; ``debug`` is the deadline test's hook: a ``sleep`` in the appliance;
#: ``umount_all`` undoes read-only mounts; ``mount_local`` must say ``readonly=True``; the
#: launch's settings of the handle itself: its verbose flag, backend settings (``force_tcg``),
#: qemu's path, the console's event callback.)
READ_ONLY_CALLS = {
    "add_drive_opts", "launch", "shutdown", "close", "user_cancel", "debug",
    "get_verbose", "set_verbose", "get_backend_settings", "set_backend_settings", "get_hv",
    "set_event_callback",
    "list_devices", "list_partitions", "blockdev_getsize64", "list_md_devices", "lvm_scan",
    "pvs_full", "vgs_full",
    "lvs_full", "vgpvuuids", "vglvuuids", "cryptsetup_open",
    "mkmountpoint", "mount_ro", "mount_options",
    "pread", "pread_device", "lstatnslist", "readlink", "readlinklist", "readdir", "ls0",
    "case_sensitive_path", "file_architecture", "download", "download_offset", "tar_out",
    "umount_all", "mount_local", "mount_local_run",
}
#: Calls that must say ``readonly=True``.
NEEDS_READONLY = {"add_drive_opts", "add_drive", "add_drive_ro_with_if", "cryptsetup_open",
                  "luks_open", "mount_local"}


def _guestfs_calls() -> list[tuple[str, str, ast.Call, str]]:
    """Every call ``g.x(...)``, ``handle.x(...)``, ``self.g.x(...)`` or ``self._g.x(...)`` of
    the collectors and of guestinspect.mount."""
    found = []
    for path in sorted([*COLLECTORS.rglob("*.py"), *MOUNT.glob("*.py")]):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            is_g = (isinstance(owner, ast.Name) and owner.id in ("g", "handle")) or (
                isinstance(owner, ast.Attribute) and owner.attr in ("g", "_g")
                and isinstance(owner.value, ast.Name) and owner.value.id == "self"
            )
            if is_g:
                found.append((f"{path.name}:{node.lineno}", node.func.attr, node, source))
    return found


def test_only_read_only_libguestfs_calls() -> None:
    calls = _guestfs_calls()
    assert len(calls) > 20  # the check sees the collectors' calls
    unknown = {f"{where}: {name}" for where, name, _, _ in calls if name not in READ_ONLY_CALLS}
    assert unknown == set()


def test_drives_and_luks_opened_read_only() -> None:
    checked = 0
    for where, name, call, _ in _guestfs_calls():
        if name in NEEDS_READONLY:
            kw = {k.arg: k.value for k in call.keywords}
            assert isinstance(kw.get("readonly"), ast.Constant), where
            assert kw["readonly"].value is True, where
            checked += 1
    assert checked >= 3  # add_drive_opts, cryptsetup_open, mount_local


def test_mount_options_are_read_only() -> None:
    """Every mount option string starts with ``ro`` (a literal, an f-string or the journal
    fallbacks' dict)."""
    checked = 0
    for where, name, call, source in _guestfs_calls():
        if name != "mount_options":
            continue
        text = ast.get_source_segment(source, call.args[0]) or ""
        if text == "fallback":  # {"xfs": "ro,norecovery", …}.get(vfs)
            tree = ast.parse(source)
            dicts = [d for d in ast.walk(tree) if isinstance(d, ast.Dict)
                     and any(isinstance(k, ast.Constant) and k.value == "xfs" for k in d.keys)]
            assert dicts, where
            values = [v.value for d in dicts for v in d.values if isinstance(v, ast.Constant)]
            assert values and all(str(v).startswith("ro,") for v in values), where
        else:
            assert text.lstrip("f").strip("\"'").startswith("ro,"), where
        checked += 1
    assert checked >= 1
