"""Python's cycle collector paused while a command builds millions of small objects that hold no cycles.

Tuples, rows, elements and dataclasses of an import or an agreement go when their last reference does; the
collector, run every few hundred new objects, scans every live one again and again, which cost a tenth of a
.qdpx import and made character agreement grow faster than its data (each full pass scans a larger heap).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cycle collector off inside the block, and back as it was after it, however the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
