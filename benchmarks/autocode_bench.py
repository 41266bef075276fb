"""Autocoding speed: `gripcode autocode` end to end against the bare spaCy rule pipeline on the same texts.

    python benchmarks/autocode_bench.py [--docs 20000] [--words 420] [--jobs 0,auto] [--batch-size 256] [--repeat 3]

Writes a synthetic corpus (mostly English, some Portuguese and Russian; a third of it interview transcripts)
whose sentences carry the GRIP-ARM codebook's terms at a realistic rate, imports it into a new SQLite project
and syncs codebooks/grip-arm.yaml (both timed apart from autocoding). Then, each run on its own copy of that
database and once per ``--jobs`` value (``auto`` is the command's default):

- the bare pipeline: ``build_pipeline(codebook, lang)`` and ``nlp.pipe`` over the same texts with the same
  batch size, no database;
- the library call ``gripcode.nlp.autocode.autocode`` in this process (no interpreter or spaCy start-up);
- `gripcode autocode` in a subprocess, end to end: the program's own entry point, run by a small wrapper that
  prints at exit its peak RSS (getrusage RUSAGE_SELF) and that of its worker processes (RUSAGE_CHILDREN), so
  the memory of the import subprocess run before it does not count.

Every rate is the stored word count over wall time. ``--repeat N`` runs N rounds, each timing all of the above
back to back, so that a slower spell of a shared machine weighs on the bare pipeline and on autocode alike;
ratios are taken within a round, and every figure is the median over rounds (the per-round ratios and the
load averages before and after are printed too). The summary names the ``--jobs`` setting with the best median
ratio end to end. The aim: end to end at least 0.75 of the
bare rate, and peak memory under 1 GB whatever the corpus size, because documents stream.

The default corpus (20,000 documents, 9M words) is long enough for the rate of the stream to show. The
command also pays a fixed start that the bare pipeline does not (Python, the command line, importing spaCy:
about 0.9 s, printed as end to end minus in process); on --docs 5000 (2.25M words) that start is over a third
of the run.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CODEBOOK = REPO / "codebooks" / "grip-arm.yaml"

FILLER = {
    "en": ("the a of and to in for with on by from that is was were will be has have it they we our their this "
           "those which about after before while because however also more less new old local national central "
           "government company province ministry officials industry market price prices plant mine project "
           "region country workers report year years plan demand supply output production buyers sellers trade "
           "said says told interview meeting village river road truck contract oxide metal metals tonnes "
           "engineers investors costs rules agency board council decade growth sector firms").split(),
    "pt": ("o a os as de do da dos das em no na para com por que é foi são será tem governo empresa estado "
           "mina minas projeto região país trabalhadores relatório ano anos plano demanda produção preço "
           "mercado setor investidores cidade rio estrada contrato metal ministério conselho").split(),
    "ru": ("и в на с по для что это был была были будет есть правительство компания область министерство "
           "рынок цена цены завод шахта проект регион страна рабочие отчёт год годы план спрос добыча "
           "производство покупатели торговля металл тонн инвесторы сектор совет").split(),
}
SPEAKERS = ("Interviewer", "R1", "R2")
# The `gripcode` program itself (its console-script entry point, arguments from sys.argv), with a last word at
# exit: its own peak RSS and that of its largest worker.
WRAPPER = """\
import atexit, resource, sys

def peaks():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"@@peak-rss-kb {own} {workers}", file=sys.stderr)

atexit.register(peaks)
from gripcode.console import main
main()
"""


def codebook_terms() -> dict[str, list[str]]:
    from gripcode.codebook.loader import load_codebook

    terms: dict[str, list[str]] = {}
    for fc in load_codebook(CODEBOOK).flat():
        if fc.code.rules is not None and not fc.code.retired and fc.code.merged_into is None:
            for lang, values in fc.code.rules.terms.items():
                terms.setdefault(lang, []).extend(values)
    return terms


def sentence(rng: random.Random, lang: str, terms: list[str], term_rate: float) -> str:
    words = [rng.choice(FILLER[lang]) for _ in range(rng.randint(8, 22))]
    if terms and rng.random() < term_rate:
        words.insert(rng.randrange(len(words) + 1), rng.choice(terms))
    return " ".join(words).capitalize() + "."


def document(rng: random.Random, lang: str, terms: list[str], n_words: int, transcript: bool,
             term_rate: float) -> str:
    paragraphs, words = [], 0
    while words < n_words:
        body = " ".join(sentence(rng, lang, terms, term_rate) for _ in range(rng.randint(2, 5)))
        if transcript:
            body = f"{SPEAKERS[len(paragraphs) % 2]}: {body}"
        paragraphs.append(body)
        words += len(body.split())
    return "\n\n".join(paragraphs) + "\n"


def language_of(i: int) -> str:
    return {7: "pt", 13: "ru"}.get(i % 20, "en")  # 90% English, 5% Portuguese, 5% Russian


def write_corpus(folder: Path, docs: int, words: int, term_rate: float) -> None:
    rng = random.Random(11)
    terms = codebook_terms()
    with (folder / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "title", "kind", "language"])
        for i in range(docs):
            lang, transcript = language_of(i), i % 3 == 0
            text = document(rng, lang, terms.get(lang, []), words, transcript, term_rate)
            (folder / f"doc{i:05d}.txt").write_text(text, encoding="utf-8")
            writer.writerow([f"doc{i:05d}.txt", f"Document {i}", "interview" if transcript else "media", lang])


def gripcode(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    run = subprocess.run([sys.executable, "-m", "gripcode", "--db", db, *args], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"gripcode {' '.join(args)} failed:\n{run.stdout}{run.stderr}")
    return run


def end_to_end(db: str, jobs: str, batch_size: int) -> tuple[float, int, int, str]:
    """Wall seconds, peak RSS (KB) of the CLI process and of its largest worker, and the CLI's summary."""
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", WRAPPER, "--db", db, "--coder", "bench", "autocode",
                          "--jobs", jobs, "--batch-size", str(batch_size), "--no-progress"],
                         capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != 0:
        sys.exit(f"gripcode autocode failed:\n{run.stdout}{run.stderr}")
    marker = next(line for line in run.stderr.splitlines() if line.startswith("@@peak-rss-kb"))
    own, workers = (int(v) for v in marker.split()[1:])
    return elapsed, own, workers, run.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--words", type=int, default=420, help="words per document (at least)")
    parser.add_argument("--jobs", default="0,auto",
                        help="worker process counts (autocode --jobs, or auto) to time, comma separated")
    parser.add_argument("--batch-size", type=int, default=256, help="documents per batch (autocode and nlp.pipe)")
    parser.add_argument("--term-rate", type=float, default=0.3, help="share of sentences holding a codebook term")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of all measurements; figures are medians over rounds (default 3)")
    parser.add_argument("--profile", metavar="FILE",
                        help="also profile one extra in-process run (first --jobs value) into FILE for pstats")
    args = parser.parse_args()
    jobs_list = [j.strip() for j in args.jobs.split(",") if j.strip()]
    load_before = os.getloadavg()

    import spacy  # noqa: F401 - loaded before any timing, like a warm library

    from sqlalchemy import func, select

    from gripcode.codebook.loader import load_codebook
    from gripcode.db.engine import make_engine
    from gripcode.db.models import Document
    from gripcode.nlp.autocode import autocode
    from gripcode.nlp.pipelines import build_pipeline
    from gripcode.nlp.rules import DEFAULT_SPANS_KEY

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_corpus(folder, args.docs, args.words, args.term_rate)
        written = time.perf_counter() - start

        base = folder / "base.db"
        gripcode(f"sqlite:///{base}", "init")
        start = time.perf_counter()
        gripcode(f"sqlite:///{base}", "import", "--manifest", str(folder / "manifest.csv"))
        imported = time.perf_counter() - start
        gripcode(f"sqlite:///{base}", "codebook", "sync", str(CODEBOOK))

        engine = make_engine(f"sqlite:///{base}")
        with engine.connect() as conn:
            total_words = int(conn.scalar(select(func.sum(Document.word_count))) or 0)
            by_lang: dict[str, list[str]] = {}
            for lang, text in conn.execute(select(Document.language, Document.text).order_by(Document.id)):
                by_lang.setdefault(lang, []).append(text)
        engine.dispose()
        n_docs = sum(map(len, by_lang.values()))

        cb = load_codebook(CODEBOOK)

        def bare_run() -> tuple[float, int]:
            """The same rule component per language over the same texts, no database."""
            start = time.perf_counter()
            spans = 0
            for lang, texts in by_lang.items():
                nlp = build_pipeline(cb, lang)
                for doc in nlp.pipe(texts, batch_size=args.batch_size):
                    spans += len(doc.spans[DEFAULT_SPANS_KEY])
            return time.perf_counter() - start, spans

        def library_run(jobs: str) -> tuple[float, Any]:
            """The library call in this process, on a fresh copy of the project."""
            shutil.copy(base, folder / "inproc.db")
            engine = make_engine(f"sqlite:///{folder / 'inproc.db'}")
            start = time.perf_counter()
            report = autocode(engine, actor="bench", jobs=None if jobs == "auto" else int(jobs),
                              batch_size=args.batch_size)
            seconds = time.perf_counter() - start
            engine.dispose()
            return seconds, report

        def command_run(jobs: str) -> tuple[float, int, int, str]:
            """The command, end to end, on a fresh copy of the project."""
            shutil.copy(base, folder / "e2e.db")
            return end_to_end(f"sqlite:///{folder / 'e2e.db'}", jobs, args.batch_size)

        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.runcall(library_run, jobs_list[0])
            profiler.dump_stats(args.profile)
        # Each round times everything back to back, so that a slower spell of a shared machine weighs on the
        # bare pipeline and on autocode alike; ratios are taken within a round, and the figures are medians.
        rounds: list[dict[str, Any]] = []
        for _ in range(max(1, args.repeat)):
            bare, bare_spans = bare_run()
            rounds.append({"bare": bare, "library": {jobs: library_run(jobs) for jobs in jobs_list},
                           "command": {jobs: command_run(jobs) for jobs in jobs_list}})

    def rate(seconds: float) -> str:
        return f"{seconds:7.2f} s  {n_docs / seconds:7.0f} docs/s  {total_words / seconds:10,.0f} words/s"

    def listed(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    bare = statistics.median([r["bare"] for r in rounds])
    print(f"corpus: {n_docs} documents, {total_words:,} words (written in {written:.1f} s, "
          f"imported in {imported:.1f} s); batch size {args.batch_size}; median of {len(rounds)} round(s)")
    print(f"bare pipeline (nlp.pipe, no database):   {rate(bare)}  {bare_spans:,} spans")
    for jobs in jobs_list:
        seconds = statistics.median([r["library"][jobs][0] for r in rounds])
        report = rounds[-1]["library"][jobs][1]
        print(f"autocode in process (library), jobs {jobs}: {rate(seconds)}  {report.matches:,} matches, "
              f"{report.suggestions:,} suggestions")
        if report.matches != bare_spans:
            print(f"  WARNING: {report.matches:,} matches in autocode but {bare_spans:,} spans in the bare pipeline")
    peaks: dict[str, tuple[int, int]] = {}
    for jobs in jobs_list:
        seconds = statistics.median([r["command"][jobs][0] for r in rounds])
        own = max(r["command"][jobs][1] for r in rounds)
        workers = max(r["command"][jobs][2] for r in rounds)
        peaks[jobs] = (own, workers)
        memory = f"peak RSS {own / 1024:,.0f} MB" + (f", worker {workers / 1024:,.0f} MB" if workers else "")
        print(f"gripcode autocode --jobs {jobs} (end to end): {rate(seconds)}  {memory}")
        print(f"  {rounds[-1]['command'][jobs][3]}")
    for jobs in jobs_list:
        ratios = [r["bare"] / r["library"][jobs][0] for r in rounds]
        print(f"ratio in-process jobs {jobs} / bare words/s: {statistics.median(ratios):.2f}  "
              f"(rounds: {listed(ratios)})")
    for jobs in jobs_list:
        starts = [r["command"][jobs][0] - r["library"][jobs][0] for r in rounds]
        print(f"fixed start of the command, --jobs {jobs} (end to end minus in process): "
              f"{statistics.median(starts):.2f} s  (rounds: {listed(starts)})")
    end_ratios = {jobs: [r["bare"] / r["command"][jobs][0] for r in rounds] for jobs in jobs_list}
    for jobs, ratios in end_ratios.items():
        print(f"ratio end-to-end --jobs {jobs} / bare words/s: {statistics.median(ratios):.2f} (aim: >= 0.75)  "
              f"(rounds: {listed(ratios)})")
    if end_ratios:
        best = max(end_ratios, key=lambda jobs: statistics.median(end_ratios[jobs]))
        print(f"best end to end: --jobs {best}, median ratio {statistics.median(end_ratios[best]):.2f} (aim: >= 0.75)")
    peak = max(max(own, workers) for own, workers in peaks.values()) / 1024 if peaks else 0.0
    print(f"largest peak RSS of one process: {peak:,.0f} MB (aim: < 1024 MB)")
    load_after = os.getloadavg()
    print(f"{os.cpu_count()} cores; load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
