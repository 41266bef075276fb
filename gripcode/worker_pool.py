"""Worker processes for import and autocode: started without re-running the caller's script, and a failure to
start told apart from a worker that dies while working.

A spawned worker is a new interpreter; Python's ``multiprocessing`` makes it import the script that launched the
parent (as ``__mp_main__``) before anything else. A researcher's script that calls gripcode without an
``if __name__ == "__main__":`` guard would then run again inside every worker, and the worker die in
multiprocessing's "bootstrapping phase" error. gripcode's workers need nothing from that script (what they are
sent lives in gripcode's own modules), so the pool is started with the launching script hidden from
``multiprocessing`` for that moment.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, nullcontext
from multiprocessing import get_context
from typing import Any

# How much of a worker's start-up error reaches the parent's message.
_REASON_BYTES = 400


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose ``jobs`` workers all start at once, each running ``initializer(*initargs)`` first.

    A worker whose initializer fails writes why into shared memory and ends quietly (no traceback on the user's
    terminal); the parent's :meth:`why_broken` then says that a worker could not start, and why, instead of
    guessing at memory.
    """

    def __init__(self, jobs: int, method: str, initializer: Callable[..., Any], initargs: tuple[Any, ...] = ()) -> None:
        context = get_context(method)
        self.jobs = jobs
        self._ready = context.Value("i", 0)
        self._reason = context.Array("c", _REASON_BYTES)
        hidden = _launching_script_hidden() if method != "fork" else nullcontext()
        with hidden:
            super().__init__(jobs, mp_context=context, initializer=_start,
                             initargs=(self._ready, self._reason, initializer, initargs))
            for _ in range(jobs):
                self.submit(len, "")  # the pool starts its processes for the tasks it cannot place

    @property
    def started(self) -> int:
        """How many workers have finished starting."""
        return self._ready.value

    def why_broken(self) -> str:
        """What to tell the user once the pool reported a dead worker (``BrokenProcessPool``)."""
        reason = self._reason.value.decode("utf-8", "replace").strip()
        if reason:
            return f"a worker process could not start: {reason}"
        if self.started < self.jobs:
            return "a worker process ended while it was starting (killed, or out of memory?)"
        return "a worker process ended unexpectedly (killed, or out of memory?)"


def _start(ready: Any, reason: Any, initializer: Callable[..., Any], initargs: tuple[Any, ...]) -> None:
    """Every worker's first step: its initializer, then a count of ready workers; on failure, the reason for the
    parent, and an immediate end (the pool reports a broken pool to the parent)."""
    try:
        initializer(*initargs)
    except BaseException as exc:  # noqa: BLE001 - anything that stops a worker starting is reported, not printed
        text = (f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__).encode("utf-8", "replace")
        reason.value = text[:_REASON_BYTES - 1].replace(b"\0", b" ")
        sys.stderr.flush()  # os._exit skips it: whatever the initializer printed still reaches the terminal
        os._exit(1)
    with ready.get_lock():
        ready.value += 1


@contextmanager
def _launching_script_hidden() -> Iterator[None]:
    """While workers are spawned, ``__main__`` looks like an interactive session to ``multiprocessing``, which
    then does not make the workers import the launching script (or module, with ``python -m``)."""
    main = sys.modules.get("__main__")
    if main is None:
        yield
        return
    saved = {name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__}
    main.__dict__.pop("__file__", None)
    main.__dict__["__spec__"] = None
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)
