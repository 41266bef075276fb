"""The common operations at the scale of a large study, end to end through the program, beside bare references.

    python benchmarks/scale_bench.py [--docs 2000] [--codings 200000] [--db URL] [--only NAME,...] [--keep DIR]

Builds the scenario reproducibly (seeded): ``--docs`` documents of about 500 words in four cases, written as
lines of about ten words in paragraphs of five lines; a codebook of 30 codes; and a CSV of ``--codings``
line-level codings by two coders, ana and ben, half each, ben agreeing with ana on about three quarters of
his lines. Then it times, each in a subprocess of its own (wall time, and peak resident memory of the process
and its children):

- `code import` of the CSV, beside the bare reference: the same rows (quotes included) inserted with the
  driver's executemany in one transaction, rolled back;
- `cooccur` by overlap and by unit (paragraph, sentence, document), `agreement` of ana and ben at each unit,
  `compare`, `matrix`, `retrieve`, beside a bare GROUP BY over the codings table;
- `export qdpx` of the project and `import qdpx` of that file into a new project (a SQLite file, or on
  PostgreSQL a database named after ``--db``'s with ``_qdpx`` added, which the benchmark drops and creates).

On PostgreSQL each timed command starts after a CHECKPOINT (``settle``), so that it is not charged for flushing
what the command before it wrote. Each line prints the figure, its aim (issue 21), whether the aim is met, and
the ratio to the bare reference where there is one. The aims are set for the base size (2,000 documents, 200,000 codings); at another size a
time aim grows in proportion to the codings (no worse than linear), and memory aims stay as they are. Every
run writes its figures to ``results.json`` in its folder; ``--against DIR`` names the folder of a run at another
size and prints each operation's time as a multiple of that run's, beside the size ratio.
``--docs 20000 --codings 2000000`` is the ten-times scenario; ``--db`` names an empty
database (on PostgreSQL one the benchmark may fill), default a new SQLite file. Operations can be
selected with ``--only`` (a name, or its first word: ``--only agreement,cooccur``). With ``--keep DIR`` the
scenario is built in DIR and kept; a later run with the same sizes and database reuses it without building it
again.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import run  # noqa: E402  (a script beside this one, not a package)

CASES = ("China", "Brazil", "Kazakhstan", "Importers")
KINDS = ("interview", "policy", "media")
N_CODES = 30
VOCAB = ("rare earth export quota magnet processing mining province ministry joint venture capital refinery "
         "dysprosium terbium neodymium price control state group licence tailings thorium recycling supply risk "
         "stockpile wind turbine electric vehicle defence investment policy local content subsidy mandate the a of "
         "and to in for with on by from that is was were will be has have it they we our their industry market")
WORDS = VOCAB.split()

BARE_INSERT = """
import csv, sys, time
from sqlalchemy import text
from gripcode.db.engine import make_engine
from gripcode.db.identity import new_guid, new_version
engine = make_engine(sys.argv[1])
with engine.connect() as conn:
    raw = conn.connection.driver_connection
    cur = raw.cursor()
    marker = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    texts = dict(conn.execute(text("SELECT id, text FROM documents")).tuples().all())
    codes = dict(conn.execute(text("SELECT slug, id FROM codes")).tuples().all())
    coders = {}
    for name in ("ana", "ben"):
        row = conn.execute(text("SELECT id FROM coders WHERE name = :n"), {"n": name}).first()
        if row is None:
            conn.execute(text("INSERT INTO coders (name, kind, created_at, refi_guid) "
                              "VALUES (:n, 'person', CURRENT_TIMESTAMP, :g)"), {"n": name, "g": new_guid()})
            row = conn.execute(text("SELECT id FROM coders WHERE name = :n"), {"n": name}).first()
        coders[name] = row[0]
    with open(sys.argv[2], newline="", encoding="utf-8") as fh:
        rows = [(int(r["document"]), codes[r["code"]], coders[r["coder"]], int(r["start"]), int(r["end"]),
                 texts[int(r["document"])][int(r["start"]):int(r["end"])], new_guid(), new_version())
                for r in csv.DictReader(fh)]
    sql = ('INSERT INTO codings (document_id, code_id, coder_id, start, "end", quote, origin, status, created_at, '
           "updated_at, refi_guid, version) VALUES (?, ?, ?, ?, ?, ?, 'manual', 'accepted', CURRENT_TIMESTAMP, "
           "CURRENT_TIMESTAMP, ?, ?)")
    cur.executemany(sql.replace("?", marker), rows)
    raw.rollback()
print(len(rows))
"""

BARE_GROUP_BY = """
import sys
from sqlalchemy import text
from gripcode.db.engine import make_engine
with make_engine(sys.argv[1]).connect() as conn:
    rows = conn.execute(text("SELECT d.case_id, c.code_id, count(*), count(DISTINCT c.document_id) FROM codings c "
                             "JOIN documents d ON d.id = c.document_id WHERE c.status = 'accepted' "
                             "GROUP BY d.case_id, c.code_id")).all()
print(len(rows))
"""


@dataclass
class Line:
    start: int
    end: int


def write_corpus(folder: Path, docs: int, rng: random.Random) -> list[list[Line]]:
    """The documents as .txt files with a manifest; each document's lines (offsets into its text)."""
    lines_of: list[list[Line]] = []
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "title", "case", "kind", "language"])
        for index in range(docs):
            paragraphs, lines, position, words = [], [], 0, 0
            while words < 500:
                paragraph = []
                for _ in range(5):
                    line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 12))).capitalize() + "."
                    paragraph.append(line)
                    lines.append(Line(position, position + len(line)))
                    position += len(line) + 1
                    words += len(line.split())
                paragraphs.append("\n".join(paragraph))
                position += 1  # the blank line between paragraphs
            name = f"doc{index:05d}.txt"
            (folder / name).write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            writer.writerow([name, f"Document {index}", CASES[index % 4], KINDS[index % 3], "en"])
            lines_of.append(lines)
    return lines_of


def write_codebook(path: Path) -> None:
    codes = "\n".join(f"  - id: code-{i:02d}\n    name: Code {i:02d}\n    definition: Passages of kind {i}."
                      for i in range(N_CODES))
    path.write_text(f"codebook: scale\nlanguages: [en]\ncodes:\n{codes}\n", encoding="utf-8")


def write_codings(path: Path, lines_of: list[list[Line]], total: int, rng: random.Random) -> int:
    """``total`` line-level codings, half by ana, half by ben, ben agreeing with ana on about 3/4."""
    per_doc = max(1, total // 2 // len(lines_of))
    written = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["document", "code", "start", "end", "coder"])
        for doc, lines in enumerate(lines_of, start=1):
            if written >= total:
                break
            ana = set()
            while len(ana) < min(per_doc, len(lines) * N_CODES):
                ana.add((rng.randrange(len(lines)), rng.randrange(N_CODES)))
            ben = set()
            for line, code in ana:
                if rng.random() < 0.75:
                    ben.add((line, code))
            while len(ben) < len(ana):
                ben.add((rng.randrange(len(lines)), rng.randrange(N_CODES)))
            for coder, chosen in (("ana", ana), ("ben", ben)):
                for line, code in sorted(chosen):
                    span = lines[line]
                    writer.writerow([doc, f"code-{code:02d}", span.start, span.end, coder])
                    written += 1
    return written


AIMS = {
    "code import": "within 2x of the bare insert",
    "cooccur": "under 2 s",
    "agreement": "under 5 s and 300 MB",
    "export qdpx": "under 8 s and 300 MB",
    "import qdpx": "under 10 s and 400 MB",
    "compare": "under 1 s", "matrix": "under 1 s", "retrieve": "under 1 s",
}


def empty_target(db: str, folder: Path) -> str:
    """A new, empty database of the same kind as ``db`` for the import of the exported .qdpx: a SQLite file in
    ``folder``, or on PostgreSQL a database named after ``db``'s with ``_qdpx`` added (dropped and created)."""
    if not db.startswith("postgresql"):
        (folder / "from-qdpx.db").unlink(missing_ok=True)
        return f"sqlite:///{folder / 'from-qdpx.db'}"
    from sqlalchemy import create_engine, make_url, text

    url = make_url(db)
    name = f"{url.database}_qdpx"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


BASE_CODINGS = 200_000


def settle(db: str) -> None:
    """On PostgreSQL, a CHECKPOINT before each timed command, so that the server does not flush the previous
    command's writes during this one's time (the import of the .qdpx took 8.1-10.2 s after one, 11-12 s
    straight after another import). Needs a superuser or the pg_checkpoint role; without one, nothing."""
    if not db.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(db, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    except SQLAlchemyError:
        pass
    finally:
        engine.dispose()


def met(name: str, seconds: float, peak: float, bare: float | None, scale: float = 1.0) -> str:
    """Whether the aim is met; at ``scale`` times the base size a time aim is ``scale`` times as long."""
    family = next(key for key in AIMS if name.startswith(key))
    limits = {"cooccur": (2, None), "agreement": (5, 300), "export qdpx": (8, 300), "import qdpx": (10, 400),
              "compare": (1, None), "matrix": (1, None), "retrieve": (1, None)}
    if family == "code import":
        ok, aim = bare is not None and seconds <= 2 * bare, AIMS[family]
    else:
        most_s, most_mb = limits[family]
        ok = seconds < most_s * scale and (most_mb is None or peak < most_mb)
        aim = AIMS[family] if scale == 1 else (f"under {most_s * scale:g} s" + (f" and {most_mb} MB" if most_mb else "")
                                               + f" ({scale:g}x the base aim)")
    return f"{aim}: {'met' if ok else 'NOT met'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--codings", type=int, default=200_000)
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    parser.add_argument("--only", help="comma-separated operation names to time (default: all)")
    parser.add_argument("--keep", type=Path, help="build the scenario in this folder and keep it")
    parser.add_argument("--against", type=Path, help="the folder of a run at another size, to compare times with")
    args = parser.parse_args()
    scale = args.codings / BASE_CODINGS
    folder = args.keep or Path(tempfile.mkdtemp(prefix="gripcode-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = args.db or f"sqlite:///{folder / 'scale.db'}"
    gripcode = [sys.executable, "-m", "gripcode", "--db", db, "--coder", "ana"]
    built = folder / "scenario.txt"
    scenario = f"{args.docs} {args.codings} {db}"
    if built.exists() and built.read_text(encoding="utf-8") == scenario:
        # A kept scenario of the same size and database: reused as it is (its codings, once imported, stay:
        # `code import` then finds every row present; time it on a new scenario).
        print(f"reusing the scenario in {folder}: {scenario}")
    else:
        rng = random.Random(21)
        lines_of = write_corpus(folder, args.docs, rng)
        write_codebook(folder / "scale.yaml")
        count = write_codings(folder / "codings.csv", lines_of, args.codings, rng)
        subprocess.run([*gripcode, "init"], check=True, capture_output=True)
        setup_s, setup_mb = run([*gripcode, "import", "--manifest", str(folder / "manifest.csv"), "--create-cases"],
                                folder / "setup.log")
        subprocess.run([*gripcode, "codebook", "sync", str(folder / "scale.yaml")], check=True, capture_output=True)
        built.write_text(scenario, encoding="utf-8")
        print(f"{args.docs:,} documents imported in {setup_s:.1f} s (peak {setup_mb:,.0f} MB); {count:,} codings "
              f"in the CSV; database {db}")

    only = set(args.only.split(",")) if args.only else None
    results: list[tuple[str, float, float, float | None]] = []
    recorded_path = folder / "results.json"
    recorded = json.loads(recorded_path.read_text(encoding="utf-8")) if recorded_path.exists() else {}
    other: dict[str, Any] = {}
    if args.against:
        other = json.loads((args.against / "results.json").read_text(encoding="utf-8"))

    def wanted(name: str) -> bool:
        return not only or name in only or name.split(" ")[0] in only

    def timed(name: str, command: list[str], bare: float | None = None) -> None:
        if not wanted(name):
            return
        settle(db)  # (for the whole server: the .qdpx import's database too)
        try:
            seconds, peak = run(command, folder / f"{name.replace(' ', '_')}.log")
        except SystemExit as failed:  # the command failed: say how, and go on with the others
            last = str(failed.code).strip().splitlines()[-1]
            print(f"{name:34s} FAILED: {last}", flush=True)
            results.append((name, float("inf"), float("inf"), bare))
            return
        results.append((name, seconds, peak, bare))
        ratio = f"  {seconds / bare:5.2f}x bare" if bare else ""
        if name in other.get("operations", {}):
            then = other["operations"][name]
            ratio += (f"  {seconds / then['seconds']:5.2f}x the run in {args.against} "
                      f"({args.codings / other['codings']:g}x the codings; peak {then['peak_mb']:,.0f} MB there)")
        print(f"{name:34s} {seconds:7.2f} s  peak {peak:7,.0f} MB{ratio}   "
              f"[{met(name, seconds, peak, bare, scale)}]", flush=True)
        recorded.update(docs=args.docs, codings=args.codings, db=db)
        recorded.setdefault("operations", {})[name] = {"seconds": round(seconds, 3), "peak_mb": round(peak, 1),
                                                       "bare_seconds": bare}
        recorded_path.write_text(json.dumps(recorded, indent=1), encoding="utf-8")

    if wanted("code import"):
        # Only beside `code import`: on a kept scenario whose codings are in already, the bare insert of the same
        # rows fails on the unique key (and stopped every other operation with it).
        settle(db)
        bare_insert, bare_insert_mb = run([sys.executable, "-c", BARE_INSERT, db, str(folder / "codings.csv")],
                                          folder / "bare_insert.log")
        print(f"{'bare: executemany insert (rolled back)':34s} {bare_insert:7.2f} s  peak {bare_insert_mb:7,.0f} MB")
        timed("code import", [*gripcode, "code", "import", str(folder / "codings.csv")], bare_insert)
    settle(db)
    bare_group, bare_group_mb = run([sys.executable, "-c", BARE_GROUP_BY, db], folder / "bare_group.log")
    print(f"{'bare: GROUP BY case, code':34s} {bare_group:7.2f} s  peak {bare_group_mb:7,.0f} MB")
    out = ["-o", str(folder / "out.csv"), "--format", "csv"]
    timed("cooccur overlap", [*gripcode, "cooccur", "--by", "overlap", *out], bare_group)
    for unit in ("paragraph", "sentence", "document"):
        timed(f"cooccur unit {unit}", [*gripcode, "cooccur", "--by", "unit", "--unit", unit, *out], bare_group)
    for unit in ("paragraph", "sentence", "document", "character"):
        timed(f"agreement {unit}", [*gripcode, "agreement", "--coders", "ana,ben", "--unit", unit, *out], bare_group)
    timed("compare", [*gripcode, "compare", "--by", "case", *out], bare_group)
    timed("matrix", [*gripcode, "matrix", "--codes", "code-01,code-02,code-03", "-o",
                     str(folder / "matrix.xlsx")], bare_group)
    timed("retrieve", [*gripcode, "retrieve", "--codes", "code-01", *out], bare_group)
    qdpx = folder / "scale.qdpx"
    timed("export qdpx", [*gripcode, "export", "qdpx", str(qdpx)])
    if qdpx.exists():
        target = empty_target(db, folder)
        subprocess.run([sys.executable, "-m", "gripcode", "--db", target, "init"], check=True, capture_output=True)
        timed("import qdpx", [sys.executable, "-m", "gripcode", "--db", target, "import", "qdpx", str(qdpx)])
    missed = [name for name, seconds, peak, bare in results if "NOT" in met(name, seconds, peak, bare, scale)]
    print(f"aims met: {len(results) - len(missed)} of {len(results)}" + (f"; not met: {', '.join(missed)}"
                                                                          if missed else ""))


if __name__ == "__main__":
    main()
