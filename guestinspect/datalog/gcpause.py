"""Keep Python's cyclic garbage collector out of loading and evaluation.

Evaluation allocates millions of tuples, sets and index lists and frees none of them in a
cycle; with the collector on, its young-generation passes walk every one of them as they are
made, and its full passes walk them all again. Paused, they are freed by reference counting as
usual; only the cycle detector waits. At the end the objects made in the block join the oldest
generation unscanned (``gc.freeze`` then ``gc.unfreeze``), as objects that live on do anyway,
unless the caller has frozen objects itself (then they stay young: unfreezing would release
the caller's). The caller's setting is restored.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic garbage collector for the block (if it was enabled); re-enable it
    after, whatever happens in the block."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()  # every object tracked now: out of the young generation, unscanned
            gc.unfreeze()  # then into the oldest one, scanned by the next full collection
        gc.enable()
