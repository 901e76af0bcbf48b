"""Serving the appliance's tree on a local directory through FUSE (libguestfs's
``mount_local`` and ``mount_local_run``), in the foreground until it is unmounted.

The FUSE loop runs in the main thread (libguestfs's error handler is per thread, and only the
main thread's is silenced by the Python bindings: elsewhere every failed lookup through the
mount would print a libguestfs error). SIGINT, SIGTERM and SIGHUP are blocked meanwhile and
taken by a watcher thread with ``sigwait``: the first unmounts (lazily if the mount is still
busy after a few tries), which ends the loop (once nothing uses the mount); a second one stops
the appliance at once.
"""

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from guestinspect.collectors.appliance import first_line
from guestinspect.errors import ImageError, UnmountError
from guestinspect.mount.umount import EXIT_NOT_MOUNTED, fusermount, unmount

_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
#: Sent by the main thread to its watcher once the loop has ended.
_WAKE = signal.SIGUSR2


def _unmount_on_signal(mountpoint: Path, warn: Callable[[str], None]) -> None:
    """Unmount after a signal: a few quick tries, then lazily (the loop then ends when the
    last process using the mount lets go of it)."""
    try:
        unmount(mountpoint, retries=3, sleep=lambda _: time.sleep(0.5))
        return
    except UnmountError as e:
        if e.exit_code == EXIT_NOT_MOUNTED:
            return  # unmounted meanwhile: the loop ends by itself
        why = str(e)
    ok, error = fusermount(mountpoint, lazy=True)
    if ok:
        warn(f"{why}; unmounted lazily: the appliance stops when the processes using it let "
             "go (interrupt again to stop it now)")
    else:
        warn(f"{why}; lazily neither: {error} (interrupt again to stop the appliance)")


def _stop_now(handle: Any) -> None:
    """A second signal: kill the appliance and exit (the kernel ends the FUSE connection)."""
    for pid in getattr(handle, "qemu_pids", set()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    sys.stderr.write("guestinspect: error: interrupted again: the appliance was stopped\n")
    sys.stderr.flush()
    os._exit(130)


class _Watcher(threading.Thread):
    """Takes the blocked signals while the FUSE loop runs (see the module's docstring)."""

    def __init__(self, handle: Any, mountpoint: Path, warn: Callable[[str], None]) -> None:
        super().__init__(name="guestinspect-signals", daemon=True)
        self._handle = handle
        self._mountpoint = mountpoint
        self._warn = warn
        self.done = False

    def run(self) -> None:
        received = 0
        while True:
            sig = signal.sigwait(_SIGNALS | {_WAKE})
            if self.done:
                return
            if sig == _WAKE:
                continue  # not ours: someone else's SIGUSR2
            received += 1
            if received == 1:
                _unmount_on_signal(self._mountpoint, self._warn)
            else:
                _stop_now(self._handle)

    def stop(self) -> None:
        self.done = True
        signal.pthread_kill(self.ident or 0, _WAKE)
        self.join()


def serve(
    handle: Any,
    mountpoint: Path,
    options: str | None,
    ready: Callable[[], None],
    warn: Callable[[str], None],
) -> None:
    """Expose the appliance's ``/`` (read-only) on ``mountpoint`` until it is unmounted;
    ``ready`` is called once the mount exists (to write a pid file, tell a parent)."""
    try:
        handle.mount_local(str(mountpoint.absolute()), readonly=True, options=options)
    except RuntimeError as e:
        raise ImageError(f"{mountpoint}: cannot mount through FUSE: {first_line(e)}") from e
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS | {_WAKE})
    watcher = _Watcher(handle, mountpoint, warn)
    watcher.start()
    try:
        ready()
        handle.mount_local_run()
    except RuntimeError as e:
        raise ImageError(f"{mountpoint}: the FUSE loop failed: {first_line(e)}") from e
    finally:
        watcher.stop()
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
