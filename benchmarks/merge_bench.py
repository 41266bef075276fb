"""Merge speed: a coder's copy with N new codings merged into a project that holds M.

    python benchmarks/merge_bench.py [--project 200000] [--copy 50000] [--db URL]

Builds a project (SQLite in a scratch folder, or the PostgreSQL database --db, which is wiped) with M codings by
one coder over 2,000 documents, makes a blind copy for another coder (`copy-for`), adds N codings there, and
times `merge` of the copy (reads keyed by GUID, bulk inserts). The baseline is a bare bulk insert of the same N
rows into the same project (`db/bulk.insert_rows`), so the ratio says what the merge's reads and checks cost.
Peak memory is the process's resident peak (ru_maxrss) during each step.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select, text  # noqa: E402

from gripcode.codebook.loader import parse_codebook  # noqa: E402
from gripcode.codebook.sync import sync_codebook  # noqa: E402
from gripcode.db.bulk import insert_rows  # noqa: E402
from gripcode.db.engine import make_engine, transaction  # noqa: E402
from gripcode.db.migrate import init_database  # noqa: E402
from gripcode.db.models import Code, Coder, Document  # noqa: E402
from gripcode.team.copy import copy_for  # noqa: E402
from gripcode.team.merge import merge_project  # noqa: E402

CODEBOOK = "codebook: bench\ncodes:\n" + "".join(f"  - id: c{i}\n    name: Code {i}\n" for i in range(10))
DOCUMENTS = 2_000
COLUMNS = ["document_id", "code_id", "coder_id", "start", "end", "quote", "origin", "status", "created_at",
           "updated_at"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def codings(doc_ids: list[int], code_ids: list[int], coder_id: int, count: int, shift: int) -> list[tuple]:
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = []
    for n in range(count):
        doc = doc_ids[n % len(doc_ids)]
        slot = n // len(doc_ids)
        code = code_ids[slot % len(code_ids)]
        start = (slot // len(code_ids)) * 7 + shift
        rows.append((doc, code, coder_id, start, start + 5, "x" * 5, "manual", "accepted", now, now))
    return rows


def build(url: str, coders: int) -> None:
    engine = make_engine(url)
    init_database(engine)
    body = "word " * 2_000
    with transaction(engine) as s:
        sync_codebook(s, parse_codebook(CODEBOOK), CODEBOOK, actor="bench")
        s.execute(Document.__table__.insert(), [
            {"title": f"doc {i}", "kind": "other", "language": "en", "meta": {}, "text": f"{i} {body}",
             "sha256": hashlib.sha256(f"{i} {body}".encode()).hexdigest(), "word_count": 2000}
            for i in range(DOCUMENTS)])
        s.add(Coder(name="lead"))
        s.flush()
        doc_ids = list(s.scalars(select(Document.id).order_by(Document.id)))
        code_ids = list(s.scalars(select(Code.id).order_by(Code.id)))
        lead = s.scalar(select(Coder.id).where(Coder.name == "lead"))
        rows = codings(doc_ids, code_ids, lead, coders, 0)
        conn = s.connection()
        for at in range(0, len(rows), 50_000):
            insert_rows(conn, "codings", COLUMNS, rows[at:at + 50_000])
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--project", type=int, default=200_000)
    parser.add_argument("--copy", type=int, default=50_000)
    parser.add_argument("--db", help="a PostgreSQL URL for the team project (wiped); default: a SQLite file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gripcode-merge-bench-"))
    try:
        url = args.db or f"sqlite:///{folder / 'team.db'}"
        if args.db:
            engine = make_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        began = time.perf_counter()
        build(url, args.project)
        print(f"project: {args.project:,} codings on {DOCUMENTS:,} documents "
              f"({'PostgreSQL' if args.db else 'SQLite'}), built in {time.perf_counter() - began:.1f} s")
        engine = make_engine(url)
        began = time.perf_counter()
        copy_for(engine, "ana", folder / "ana.db", actor="lead", blind=True)
        print(f"copy-for ana --blind: {time.perf_counter() - began:.1f} s")
        copy = make_engine(f"sqlite:///{folder / 'ana.db'}")
        with transaction(copy) as s:
            ana = s.scalar(select(Coder.id).where(Coder.name == "ana"))
            doc_ids = list(s.scalars(select(Document.id).order_by(Document.id)))
            code_ids = list(s.scalars(select(Code.id).order_by(Code.id)))
            new = codings(doc_ids, code_ids, ana, args.copy, 3)
            insert_rows(s.connection(), "codings", COLUMNS, new)
        copy.dispose()
        print(f"copy: {args.copy:,} new codings by ana")

        # baseline: the same rows bulk-inserted into the project, rolled back
        before = peak_mb()
        began = time.perf_counter()
        session_rows = new
        with engine.connect() as conn:
            with conn.begin() as tx:
                insert_rows(conn, "codings", COLUMNS, session_rows)
                baseline = time.perf_counter() - began
                tx.rollback()
        print(f"baseline bulk insert of {args.copy:,} rows: {baseline:.2f} s (peak {peak_mb():.0f} MB, "
              f"was {before:.0f} MB)")

        before = peak_mb()
        began = time.perf_counter()
        with transaction(engine) as s:
            report = merge_project(s, folder / "ana.db", actor="lead")
        merged = time.perf_counter() - began
        print(f"merge: {merged:.2f} s, {dict((k, v) for k, v in report.counts.items() if v)}, "
              f"peak {peak_mb():.0f} MB (was {before:.0f} MB)")
        began = time.perf_counter()
        with transaction(engine) as s:
            again = merge_project(s, folder / "ana.db", actor="lead")
        print(f"merge again (nothing new): {time.perf_counter() - began:.2f} s, changed={again.changed}")
        print(f"ratio merge / bare bulk insert: {merged / baseline:.1f}x")
        print("The machine is shared (2 cores, other work running): figures vary from run to run.")
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
