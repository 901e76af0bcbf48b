"""Fleets: inspect many disk images in parallel worker processes (or on a Dask cluster), with
a fact cache and an SQLite inventory (docs/fleet.md).

| module | what |
|---|---|
| ``detect`` | is this file a disk image? (by content); a qcow2 image's backing file |
| ``inputs`` | the guests to inspect, from arguments, ``--from`` files and directories |
| ``cache`` | the fact cache: keys from the images' identity, entries, the caching collector |
| ``worker`` | inspect one guest through the public API: its JSON Lines record and its facts |
| ``pool`` | worker processes with a deadline and a memory limit each |
| ``dask`` | the same per-guest task on a ``dask.distributed`` cluster |
| ``inventory`` | the SQLite inventory (schema version 1) |
| ``progress`` | a progress bar on a terminal, plain lines otherwise |
| ``command`` | the ``guestinspect fleet`` click command |
"""
