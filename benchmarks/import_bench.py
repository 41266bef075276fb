"""Import speed: `gripcode import` end to end and as a library call, against the bare spaCy sentencizer.

    python benchmarks/import_bench.py [--docs 5000] [--words 400] [--repeat 3] [--db URL]

Writes a synthetic corpus (plain texts and interview transcripts) to a temporary folder and times, on the
same texts in one run:

1. `nlp.pipe` with the sentencizer, in this process: the pipeline whose sentences gripcode stores (the
   import runs its tokenizer and applies the sentencizer's rule to token arrays, with the same result);
2. `import_items` called in this process, inside one transaction that is rolled back so that step 3 starts
   from the same empty database: Python, imports, spaCy in this process and the database connection are
   excluded, starting the import's worker process is not;
3. `gripcode import --manifest` in a subprocess, start-up included; peak memory is the largest resident set
   of that process and its worker.

The aim is stated for step 3: import at no less than half the bare pipeline's words per second.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VOCAB = ("rare earth export quota magnet processing mining province ministry joint venture capital refinery "
         "dysprosium terbium neodymium price control state group licence tailings thorium recycling supply risk "
         "stockpile wind turbine electric vehicle defence investment policy local content subsidy mandate the a of "
         "and to in for with on by from that is was were will be has have it they we our their industry market").split()
AIM = 0.5


def sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCAB) for _ in range(rng.randint(8, 20))]
    return " ".join(words).capitalize() + "."


def document(rng: random.Random, n_words: int, transcript: bool) -> str:
    paragraphs, words = [], 0
    while words < n_words:
        body = " ".join(sentence(rng) for _ in range(rng.randint(2, 5)))
        if transcript:
            body = f"{rng.choice(['Interviewer', 'R1'])}: {body}"
        paragraphs.append(body)
        words += len(body.split())
    return "\n\n".join(paragraphs) + "\n"


def write_corpus(folder: Path, docs: int, words: int) -> list[str]:
    rng = random.Random(7)
    texts = []
    with (folder / "manifest.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "title", "kind", "language"])
        for i in range(docs):
            transcript = i % 3 == 0
            text = document(rng, words, transcript)
            texts.append(text)
            (folder / f"doc{i:05d}.txt").write_text(text)
            writer.writerow([f"doc{i:05d}.txt", f"Document {i}", "interview" if transcript else "media", "en"])
    return texts


# Runs a command and reports its wall time and peak memory, from a small process of its own: on Linux a
# child's peak resident set starts from that of the process it was forked from, and this one holds spaCy
# and the corpus.
_MEASURE = """
import os, subprocess, sys, time
with open(sys.argv[1], "w") as out:
    start = time.perf_counter()
    process = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def run(command: list[str], log: Path) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of ``command`` and the processes it waited for."""
    measured = subprocess.run([sys.executable, "-c", _MEASURE, str(log), *command],
                              check=True, capture_output=True, text=True)
    elapsed, max_rss_kb, code = measured.stdout.split()
    if code != "0":
        sys.exit(f"{' '.join(command)} failed:\n{log.read_text()[-3000:]}")
    return float(elapsed), int(max_rss_kb) / 1024


def bare_sentencizer(texts: list[str]) -> tuple[float, int]:
    from gripcode.nlp.languages import sentence_pipeline

    nlp = sentence_pipeline("en")
    start = time.perf_counter()
    sentences = sum(len(list(doc.sents)) for doc in nlp.pipe(texts, batch_size=256))
    return time.perf_counter() - start, sentences


def library_import(db: str, manifest: Path) -> tuple[float, int]:
    from gripcode.corpus.importer import ImportOptions, collect_items, import_items
    from gripcode.db.engine import make_engine
    from sqlalchemy.orm import Session

    items = collect_items([], ImportOptions(), manifest)
    engine = make_engine(db)
    try:
        with Session(engine) as session:
            session.connection()
            start = time.perf_counter()
            report = import_items(session, items, actor="bench")
            session.flush()
            elapsed = time.perf_counter() - start
            session.rollback()
    finally:
        engine.dispose()
    return elapsed, len(report.imported)


def line(label: str, seconds: float, docs: int, words: int, extra: str = "") -> str:
    return (f"{label:<44} {seconds:6.2f} s  {docs / seconds:7.0f} docs/s  {words / seconds:11,.0f} words/s"
            + (f"  {extra}" if extra else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--words", type=int, default=400, help="words per document")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of all measurements; figures are medians over rounds (default 3)")
    parser.add_argument("--db", help="database URL, not yet initialised; emptied with `db downgrade base` "
                                     "between rounds (default: a new SQLite file per round)")
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts = write_corpus(folder, args.docs, args.words)
        manifest = folder / "manifest.csv"
        total_words = sum(len(t.split()) for t in texts)
        for n_round in range(max(1, args.repeat)):
            db = args.db or f"sqlite:///{folder / f'bench{n_round}.db'}"
            gripcode = [sys.executable, "-m", "gripcode", "--db", db]
            if args.db and n_round:
                subprocess.run([*gripcode, "db", "downgrade", "base"], check=True, capture_output=True)
            subprocess.run([*gripcode, "init"], check=True, capture_output=True)
            # One round times everything back to back, so that a slower spell of a shared machine weighs on
            # the bare pipeline and the import alike; the ratios are taken within a round.
            bare, sentences = bare_sentencizer(texts)
            library, imported = library_import(db, manifest)
            if imported != args.docs:
                sys.exit(f"the library import took {imported} of {args.docs} documents")
            startup, _ = run([*gripcode, "--version"], folder / "version.log")
            end_to_end, peak_mb = run([*gripcode, "import", "--manifest", str(manifest)], folder / "import.log")
            rounds.append({"bare": bare, "library": library, "startup": startup, "end_to_end": end_to_end,
                           "peak_mb": peak_mb, "ratio": bare / end_to_end, "library_ratio": bare / library})

    n, words = args.docs, total_words
    middle = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    print(f"corpus: {n} documents, {words:,} words; {os.cpu_count()} cores; median of {len(rounds)} round(s)")
    print(line("bare sentencizer (nlp.pipe, this process)", middle["bare"], n, words, f"{sentences:,} sentences"))
    print(line("import_items() in this process [1]", middle["library"], n, words))
    print(line("gripcode import, end to end [2]", middle["end_to_end"], n, words,
               f"peak RSS {max(r['peak_mb'] for r in rounds):,.0f} MB"))
    print(f"  of which start-up alone (gripcode --version): {middle['startup']:.2f} s")
    print(f"ratio to bare words/s, end to end (the aim, >= {AIM:.2f}): {middle['ratio']:.2f}"
          f"  {'met' if middle['ratio'] >= AIM else 'NOT met'}"
          f"  (rounds: {', '.join(format(r['ratio'], '.2f') for r in rounds)})")
    print(f"ratio to bare words/s, library call, start-up excluded: {middle['library_ratio']:.2f}")
    print("[1] Python, imports, spaCy here and the connection excluded; the worker's start included;"
          " rolled back, not committed.")
    print("[2] python -m gripcode import --manifest in a subprocess: everything from process start to exit.")


if __name__ == "__main__":
    main()
