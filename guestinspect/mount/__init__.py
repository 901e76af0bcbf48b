"""``guestinspect mount`` and ``guestinspect umount``: the inspected guest, read-only, through
FUSE (what ``guestmount -i`` and ``guestunmount`` do)."""
