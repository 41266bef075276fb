"""Analysis speed: `compare_cases` against the bare SQL GROUP BY it runs, on a project with 1M+ codings.

    python benchmarks/analysis_bench.py [--codings 1000000] [--documents 5000] [--db URL] [--repeat 3]

Builds a project (SQLite in a temporary folder unless --db names an empty database) with four cases,
documents, 30 codes and the codings, written with the driver's executemany. Then, in the same run, times:

- compare_cases with the count measures (documents coded, share, codings, per 10,000 words), beside the bare
  SQL of the same two queries (the counts GROUP BY and the per-group denominators) run on a raw DBAPI cursor;
- compare_cases with the coverage measure, beside its bare window-function query.

Each figure is the best of --repeat runs; the ratio compare_cases / bare is the overhead of building the
DataFrame. Aim: under 2 s on SQLite and within 1.5x of the bare query.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from gripcode.analysis.compare import compare_cases, counts_query, coverage_query, denominators_query
from gripcode.analysis.filters import Filters
from gripcode.db.engine import make_engine, transaction
from gripcode.db.identity import new_guid, new_version
from gripcode.db.migrate import init_database

CASES = ("China", "Brazil", "Kazakhstan", "Importers")
N_CODES = 30


def build(url: str, n_docs: int, n_codings: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    engine = make_engine(url)
    init_database(engine)
    with engine.begin() as conn:
        raw = conn.connection.driver_connection
        cur = raw.cursor()
        marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"

        def insert(sql: str, rows: list[tuple]) -> None:
            cur.executemany(sql.replace("?", marker), rows)

        # every row carries its GUID (and a coding its version), as gripcode's own inserts give them
        insert("INSERT INTO cases (id, name, created_at, refi_guid) VALUES (?, ?, ?, ?)",
               [(i + 1, name, "2026-01-01 00:00:00", new_guid()) for i, name in enumerate(CASES)])
        insert("INSERT INTO coders (id, name, kind, created_at, refi_guid) VALUES (?, ?, 'person', ?, ?)",
               [(i + 1, name, "2026-01-01 00:00:00", new_guid()) for i, name in enumerate(("ana", "ben", "cy"))])
        insert('INSERT INTO codes (id, slug, name, definition, include, exclude, examples, status, position, '
               "refi_guid) VALUES (?, ?, ?, '', '', '', '{}', 'active', ?, ?)",
               [(i + 1, f"code-{i:02d}", f"Code {i}", i, new_guid()) for i in range(N_CODES)])
        body = "word " * 400
        insert('INSERT INTO documents (id, title, kind, case_id, language, metadata, text, sha256, word_count, '
               "imported_at, refi_guid) VALUES (?, ?, ?, ?, 'en', '{}', ?, ?, 400, ?, ?)",
               [(d + 1, f"Document {d}", ("interview", "policy", "media")[d % 3], d % len(CASES) + 1, body,
                 f"{d:064x}", "2026-01-01 00:00:00", new_guid()) for d in range(n_docs)])
        length = len(body)
        sql = ('INSERT INTO codings (document_id, code_id, coder_id, start, "end", quote, origin, status, '
               "created_at, updated_at, refi_guid, version) VALUES (?, ?, ?, ?, ?, ?, 'manual', 'accepted', ?, ?, ?, ?)")
        seen: set[tuple[int, int, int, int]] = set()
        while len(seen) < n_codings:
            chunk = []
            while len(chunk) < 200_000 and len(seen) < n_codings:
                doc, code, coder = rng.randrange(n_docs) + 1, rng.randrange(N_CODES) + 1, rng.randrange(3) + 1
                start = rng.randrange(length - 60)
                if (doc, code, coder, start) in seen:
                    continue
                seen.add((doc, code, coder, start))
                chunk.append((doc, code, coder, start, start + rng.randint(10, 60), "x",
                              "2026-01-01 00:00:00", "2026-01-01 00:00:00", new_guid(), new_version()))
            insert(sql, chunk)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))  # both backends: fresh statistics for the planner
    engine.dispose()


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codings", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=5_000)
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'analysis.db'}"
        started = time.perf_counter()
        build(url, args.documents, args.codings)
        print(f"built: {args.documents:,} documents, {args.codings:,} codings, {N_CODES} codes "
              f"in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})")
        engine = make_engine(url)
        filters = Filters()
        with transaction(engine) as session:
            dialect = sqlite.dialect() if engine.dialect.name == "sqlite" else postgresql.dialect()

            def compiled(query: object) -> str:
                return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]

            counts_sql = [compiled(counts_query(session, filters, "case")),
                          compiled(denominators_query(session, filters, "case"))]
            coverage_sql = [compiled(coverage_query(session, filters, "case"))]
            raw = session.connection().connection.driver_connection

            def bare(statements: list[str]) -> None:
                cursor = raw.cursor()
                for statement in statements:
                    cursor.execute(statement)
                    cursor.fetchall()

            measures = ["documents", "share", "codings", "per10k"]
            t_counts = best(lambda: compare_cases(session, filters, measures=measures), args.repeat)
            t_counts_bare = best(lambda: bare(counts_sql), args.repeat)
            t_cov = best(lambda: compare_cases(session, filters, measures=["coverage"]), args.repeat)
            t_cov_bare = best(lambda: bare(coverage_sql), args.repeat)
        engine.dispose()
    print(f"compare_cases (documents, share, codings, per10k): {t_counts:6.3f} s   bare SQL: {t_counts_bare:6.3f} s"
          f"   ratio {t_counts / t_counts_bare:4.2f}  (aim: < 2 s, ratio <= 1.5)")
    print(f"compare_cases (coverage):                          {t_cov:6.3f} s   bare SQL: {t_cov_bare:6.3f} s"
          f"   ratio {t_cov / t_cov_bare:4.2f}")


if __name__ == "__main__":
    main()
