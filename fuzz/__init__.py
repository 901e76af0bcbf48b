"""guestinspect's fuzz suite: every parser of guest bytes or user text, fed mutated inputs.

`python -m fuzz` (or `make fuzz`) runs every target; docs/security.md describes it.
"""
