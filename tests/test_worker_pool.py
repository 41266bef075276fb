"""Worker pools: a worker that cannot start says why; one that dies while working is told apart; the launching
script is hidden only while workers are spawned."""

from __future__ import annotations

import os
import sys
from concurrent.futures.process import BrokenProcessPool

import pytest

from gripcode.worker_pool import WorkerPool, _launching_script_hidden


def _refuse(reason: str) -> None:
    raise ValueError(reason)


def _die() -> None:
    os._exit(3)


def _broken(pool: WorkerPool, task: object = len, *args: object) -> str:
    with pytest.raises(BrokenProcessPool):
        pool.submit(task, *args).result(timeout=120)
    message = pool.why_broken()
    pool.shutdown(wait=True, cancel_futures=True)
    return message


def test_a_worker_whose_start_fails_reports_the_reason_forked() -> None:
    pool = WorkerPool(1, "fork", _refuse, ("the codebook has no rules",))
    assert _broken(pool, len, "") == "a worker process could not start: ValueError: the codebook has no rules"


def test_a_spawned_autocode_worker_with_a_bad_codebook_reports_the_reason() -> None:
    """The real spawned start of autocode's workers, given a codebook it cannot load."""
    from gripcode.nlp.pipelines import start_worker

    pool = WorkerPool(1, "spawn", start_worker, ("codes: [", {}, "char"))
    message = _broken(pool, len, "")
    assert message.startswith("a worker process could not start: ") and "out of memory" not in message


def test_a_worker_that_dies_while_working_is_told_apart() -> None:
    pool = WorkerPool(1, "fork", len, ("",))
    assert pool.submit(len, "abc").result(timeout=60) == 3
    assert pool.started == 1
    assert _broken(pool, _die) == "a worker process ended unexpectedly (killed, or out of memory?)"


def test_the_launching_script_is_hidden_only_while_workers_start() -> None:
    main = sys.modules["__main__"]
    before = (main.__dict__.get("__file__"), main.__dict__.get("__spec__"))
    with _launching_script_hidden():
        assert getattr(main, "__file__", None) is None and main.__spec__ is None
    assert (main.__dict__.get("__file__"), main.__dict__.get("__spec__")) == before
