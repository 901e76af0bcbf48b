"""Phony guest disk images: small sparse disks made by libguestfs to look like installed
operating systems, built on demand and cached (``~/.cache/guestinspect/images/``).

``build`` is the machinery (cache, staleness, locks, batched appliance launches), ``content``
what the builders read from the host, ``debian`` the sample guest that ``python -m
guestinspect.sample`` (``make setup``) inspects. The test guests (``tests/images``) are built
by the same machinery; the package never imports them.
"""
