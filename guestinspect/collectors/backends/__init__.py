"""The backends: the ways of reading a guest, each made of a volume layer, filesystem views and
the answerers (docs/architecture.md).

- ``appliance``: libguestfs's appliance (a VM);
- ``direct``: the images read in-process by the libyal parsers, in a child process
  (``direct.py``, ``direct_child.py``, filesystem views in ``direct_fs``);
- ``auto``: direct for what it reads, the appliance for the rest (``auto.py``);
- ``memory``: in-memory trees, for the rule tests.
"""
