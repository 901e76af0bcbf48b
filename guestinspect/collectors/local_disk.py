"""What either backend says of a local file given as a disk before it reads it: the same
ImageError words whether qemu-img (the appliance, appliance.probe_disk) or the volume layer
(the direct backend, backends/direct.check_disk) would read it next."""

import os
import stat
from pathlib import Path

from guestinspect.errors import ImageError


def check_local_disk(path: Path) -> os.stat_result:
    """The stat of ``path`` if it may be a disk image (ImageError if not: no such file, a
    directory, a FIFO or other special file (it would hang a reader), no permission, an empty
    file)."""
    try:
        st = path.stat()
    except FileNotFoundError as e:
        raise ImageError(f"{path}: no such file") from e
    except OSError as e:  # a symlink loop, permission denied…
        raise ImageError(f"{path}: {(e.strerror or 'cannot stat').lower()}") from e
    if stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{path}: is a directory, not a disk image")
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISBLK(st.st_mode)):
        raise ImageError(f"{path}: not a regular file or a block device, not a disk image")
    if not os.access(path, os.R_OK):
        raise ImageError(f"{path}: permission denied")
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        raise ImageError(f"{path}: empty file, not a disk image")
    return st
