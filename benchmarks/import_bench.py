"""Import speed: `gripcode import` end to end against the bare spaCy sentencizer on the same texts.

    python benchmarks/import_bench.py [--docs 5000] [--words 400] [--db URL]

Writes a synthetic corpus (plain texts and interview transcripts) to a temporary folder, times
`gripcode import --manifest` in a subprocess (peak memory from the child's max RSS), then times
`nlp.pipe` with the sentencizer over the same texts in this process, and prints both.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VOCAB = ("rare earth export quota magnet processing mining province ministry joint venture capital refinery "
         "dysprosium terbium neodymium price control state group licence tailings thorium recycling supply risk "
         "stockpile wind turbine electric vehicle defence investment policy local content subsidy mandate the a of "
         "and to in for with on by from that is was were will be has have it they we our their industry market").split()


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--words", type=int, default=400, help="words per document")
    parser.add_argument("--db", help="database URL (default: a new SQLite file in the temporary folder)")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        texts = []
        with (folder / "manifest.csv").open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["path", "title", "kind", "language"])
            for i in range(args.docs):
                transcript = i % 3 == 0
                text = document(rng, args.words, transcript)
                texts.append(text)
                (folder / f"doc{i:05d}.txt").write_text(text)
                writer.writerow([f"doc{i:05d}.txt", f"Document {i}", "interview" if transcript else "media", "en"])
        total_words = sum(len(t.split()) for t in texts)
        db = args.db or f"sqlite:///{folder / 'bench.db'}"
        gripcode = [sys.executable, "-m", "gripcode", "--db", db]
        subprocess.run([*gripcode, "init"], check=True, capture_output=True)

        start = time.perf_counter()
        run = subprocess.run([*gripcode, "import", "--manifest", str(folder / "manifest.csv")],
                             capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if run.returncode != 0:
            sys.exit(run.stderr)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

        from gripcode.nlp.languages import sentence_pipeline

        nlp = sentence_pipeline("en")
        start = time.perf_counter()
        sentences = sum(len(list(doc.sents)) for doc in nlp.pipe(texts, batch_size=256))
        bare = time.perf_counter() - start

    print(f"corpus: {args.docs} documents, {total_words:,} words")
    print(f"gripcode import:   {elapsed:7.2f} s  {args.docs / elapsed:8.0f} docs/s  {total_words / elapsed:10,.0f} words/s"
          f"  peak RSS {peak_mb:,.0f} MB")
    print(f"bare sentencizer:  {bare:7.2f} s  {args.docs / bare:8.0f} docs/s  {total_words / bare:10,.0f} words/s"
          f"  ({sentences:,} sentences)")
    print(f"ratio import/bare words/s: {bare / elapsed:.2f} (aim: >= 0.50)")


if __name__ == "__main__":
    main()
