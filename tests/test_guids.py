"""New GUIDs are RFC 9562 version 7: valid REFI-QDA GUIDs, distinct, and in the order they were made (so that a
unique index on them grows at its end), also across threads, a spent counter and a clock that goes back."""

from __future__ import annotations

import re
import threading
import uuid

import pytest

from gripcode.db import identity
from gripcode.db.identity import new_guid, new_guids

# The GUID pattern of the REFI-QDA project schema (Project-mrt2019.xsd, GUIDType).
REFI_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def test_new_guids_are_version_7_in_the_order_they_were_made() -> None:
    made = [new_guid() for _ in range(3000)] + new_guids(20_000) + [new_guid()]
    assert len(set(made)) == len(made) and made == sorted(made)
    assert all(REFI_GUID.fullmatch(g) for g in made)
    parsed = [uuid.UUID(g) for g in made]
    assert {u.version for u in parsed} == {7} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert new_guids(0) == []


def test_the_time_leads_and_the_random_part_differs() -> None:
    import time

    before = time.time_ns() // 1_000_000
    guids = new_guids(1000)
    after = time.time_ns() // 1_000_000
    assert all(before <= int(g.replace("-", "")[:12], 16) <= after + 1 for g in guids)
    assert len({g[-8:] for g in guids}) > 990  # the last 32 bits are random


def test_threads_get_distinct_guids_each_in_order() -> None:
    results: list[list[str]] = [[] for _ in range(4)]

    def make(slot: int) -> None:
        for _ in range(200):
            results[slot] += new_guids(25)

    threads = [threading.Thread(target=make, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [g for result in results for g in result]
    assert len(set(every)) == len(every) == 20_000
    assert all(result == sorted(result) for result in results)


def test_a_spent_counter_and_a_clock_that_goes_back_keep_the_order(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    first = new_guids(3)
    ahead = time.time_ns() // 1_000_000 + 60_000
    monkeypatch.setattr(identity, "_last_ms", ahead)  # the clock went back a minute
    monkeypatch.setattr(identity, "_counter", identity._COUNTER_LIMIT - 2)  # two left in that millisecond
    spent = new_guids(5)
    assert {int(g.replace("-", "")[:12], 16) for g in spent} == {ahead + 1}
    monkeypatch.setattr(identity.time, "time_ns", lambda: 1_000_000_000)  # 1970: further back still
    back = new_guids(5)
    made = first + spent + back
    assert made == sorted(made) and len(set(made)) == len(made)
