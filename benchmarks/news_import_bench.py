"""News exports: `gripcode import` of Nexis and Factiva exports, against the same articles as a media CSV.

    python benchmarks/news_import_bench.py [--files 50] [--articles 100] [--words 350] [--factiva-share 0.3]
                                           [--repeat 3]

Writes ``--files`` exports of ``--articles`` articles each (5,000 articles by default): Nexis text exports
(a cover page, "N of M DOCUMENTS", centred outlet and date, BYLINE/SECTION/LENGTH fields, a body wrapped at 78
characters, LOAD-DATE/LANGUAGE fields and a copyright notice) and, for ``--factiva-share`` of the files, Factiva
HTML pages saved with indexing (a table of field codes per article, the style sheet of a saved page in front).
The same articles, as one row each, go to a media CSV (title, date, outlet, byline, section, text), the bare
baseline: the same documents and units to store, read by the simplest reader. On the same texts, in one round:

1. the news readers alone, in this process (``read_file`` over every export): articles/s of reading;
2. `gripcode import` of the exports into a new SQLite project, in a subprocess, start-up included;
3. `gripcode import` of the media CSV into another new project, the same way.

Peak memory is the largest resident set of the import process and the workers it waited for (``os.wait4``
of the child, taken from a small process of its own, since a forked child starts from its parent's peak).
Figures are medians over rounds, and the ratio is taken within each round.
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import run  # noqa: E402  (a script beside this one, not a package)

VOCAB = ("rare earth export quota magnet processing mining province ministry joint venture capital refinery "
         "dysprosium terbium neodymium price control state group licence tailings thorium recycling supply risk "
         "stockpile wind turbine electric vehicle defence investment policy local content subsidy mandate the a of "
         "and to in for with on by from that is was were will be has have it they we our their industry market").split()
OUTLETS = ("Mining Weekly Review", "Eurasia Metals Bulletin", "Latin Mining Journal", "Circular Industry News",
           "Steppe Business Review", "Cerrado Dispatch", "Asia Metals Review")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(rng.randint(8, 20))).capitalize() + "."


def article(rng: random.Random, number: int, words: int) -> dict[str, object]:
    paragraphs, count = [], 0
    while count < words:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    year, month, day = rng.randint(2010, 2023), rng.randint(1, 12), rng.randint(1, 28)
    return {"headline": f"{sentence(rng)[:-1]} ({number})", "outlet": rng.choice(OUTLETS),
            "year": year, "month": month, "day": day, "byline": f"Reporter {number % 97}",
            "section": rng.choice(("MARKETS", "INDUSTRY", "POLICY")), "paragraphs": paragraphs, "words": count}


def iso(item: dict[str, object]) -> str:
    return f"{item['year']}-{item['month']:02d}-{item['day']:02d}"


def nexis_export(items: list[dict[str, object]]) -> str:
    lines = ["", f"Download Request: Selected Items: 1-{len(items)}", "Time Of Request: Monday, March 9, 2026",
             "", "Terms: (\"rare earth*\" and quota*)", "", "Source: News sources", "", ""]
    for number, item in enumerate(items, start=1):
        month = MONTHS[int(item["month"]) - 1]  # type: ignore[call-overload]
        weekday = WEEKDAYS[(int(item["day"]) + number) % 7]  # type: ignore[call-overload]
        lines += [f"{number} of {len(items)} DOCUMENTS".center(80).rstrip(), "", "",
                  str(item["outlet"]).center(80).rstrip(), "",
                  f"{month} {item['day']}, {item['year']} {weekday}".center(80).rstrip(), "",
                  *textwrap.wrap(str(item["headline"]), 78), "", f"BYLINE: {item['byline']}", "",
                  f"SECTION: {item['section']}", "", f"LENGTH: {item['words']} words", ""]
        for paragraph in item["paragraphs"]:  # type: ignore[attr-defined]
            lines += [*textwrap.wrap(paragraph, 78), ""]
        lines += [f"LOAD-DATE: {month} {item['day']}, {item['year']}", "", "LANGUAGE: ENGLISH", "", "",
                  f"Copyright {item['year']} {item['outlet']}".center(80).rstrip(),
                  "All Rights Reserved".center(80).rstrip(), ""]
    return "\r\n".join(lines)


def factiva_export(items: list[dict[str, object]]) -> str:
    def row(code: str, value: str) -> str:
        return f"<tr><td align=\"right\" valign=\"top\" class=\"index\"><b>{code}</b>&nbsp;</td><td>{value}</td></tr>"

    style = "".join(f".c{n}{{margin:{n % 9}px;background:url('../img/s.gif?47.7.0') no-repeat -{n}px 0;}}"
                    for n in range(1500))  # a saved page's style sheet: about 100,000 characters
    parts = [("<!DOCTYPE html>\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\"/>"
              f"<title>Factiva</title><style type=\"text/css\">{style}</style></head><body><form><div>")]
    for number, item in enumerate(items, start=1):
        month = MONTHS[int(item["month"]) - 1]  # type: ignore[call-overload]
        lead, *rest = item["paragraphs"]  # type: ignore[misc]
        cells = [row("SE", str(item["section"]).title()),
                 row("HD", f"<b class='enHeadline'>{html.escape(str(item['headline']))}</b>"),
                 row("BY", f"By {item['byline']}"), row("WC", f"{item['words']} words"),
                 row("PD", f"{item['day']} {month} {item['year']}"), row("SN", html.escape(str(item["outlet"]))),
                 row("SC", "MWKREV"), row("LA", "English"), row("CY", f"(c) {item['year']} {item['outlet']}"),
                 row("LP", f"<p class=\"articleParagraph enarticleParagraph\">{lead}</p>"),
                 row("TD", "".join(f"<p class=\"articleParagraph enarticleParagraph\">{p}</p>\n" for p in rest)),
                 row("AN", f"<br/>Document MWKREV00{iso(item).replace('-', '')}e{number:010d}")]
        parts.append("<div class=\"article enArticle\"><table>" + "\n".join(cells) + "</table></div>\n")
    parts.append("<div id=\"pageFooter\">&copy; 2026 Factiva, Inc. All rights reserved.</div></div></form>"
                 "</body></html>")
    return "".join(parts)


def write_corpus(folder: Path, files: int, per_file: int, words: int, factiva_share: float) -> tuple[list[Path], Path, int]:
    rng = random.Random(11)
    exports: list[Path] = []
    total_words = 0
    factiva_files = round(files * factiva_share)
    with (folder / "articles.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "date", "outlet", "byline", "section", "kind", "text"])
        for file_number in range(files):
            items = [article(rng, file_number * per_file + n, words) for n in range(per_file)]
            total_words += sum(int(item["words"]) for item in items)  # type: ignore[call-overload]
            for item in items:
                writer.writerow([item["headline"], iso(item), item["outlet"], item["byline"], item["section"],
                                 "media", "\n\n".join(item["paragraphs"])])  # type: ignore[arg-type]
            if file_number < factiva_files:
                path = folder / f"factiva-{file_number:03d}.html"
                path.write_text(factiva_export(items), encoding="utf-8")
            else:
                path = folder / f"nexis-{file_number:03d}.txt"
                path.write_bytes(b"\xef\xbb\xbf" + nexis_export(items).encode("utf-8"))
            exports.append(path)
    return exports, folder / "articles.csv", total_words


def read_only(exports: list[Path]) -> tuple[float, int]:
    from gripcode.corpus.readers import read_file

    start = time.perf_counter()
    articles = sum(len(read_file(path)) for path in exports)
    return time.perf_counter() - start, articles


def imported(log: Path) -> int:
    last = log.read_text().strip().splitlines()[-1]  # "5000 document(s), ... imported; 0 skipped"
    return int(last.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--articles", type=int, default=100, help="articles per export")
    parser.add_argument("--words", type=int, default=350, help="words per article")
    parser.add_argument("--factiva-share", type=float, default=0.3, help="share of the exports that are Factiva")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        exports, csv_path, words = write_corpus(folder, args.files, args.articles, args.words, args.factiva_share)
        n = args.files * args.articles
        size_mb = sum(path.stat().st_size for path in exports) / 1e6
        for n_round in range(max(1, args.repeat)):
            news_db, csv_db = folder / f"news{n_round}.db", folder / f"csv{n_round}.db"
            for db in (news_db, csv_db):
                subprocess.run([sys.executable, "-m", "gripcode", "--db", f"sqlite:///{db}", "init"], check=True,
                               capture_output=True)
            reading, read_articles = read_only(exports)
            news, news_peak = run([sys.executable, "-m", "gripcode", "--db", f"sqlite:///{news_db}", "import",
                                   *map(str, exports)], folder / "news.log")
            bare, bare_peak = run([sys.executable, "-m", "gripcode", "--db", f"sqlite:///{csv_db}", "import",
                                   str(csv_path), "--title-column", "title"], folder / "csv.log")
            if read_articles != n or imported(folder / "news.log") != n or imported(folder / "csv.log") != n:
                sys.exit(f"expected {n} articles: read {read_articles}, imported {imported(folder / 'news.log')} "
                         f"from the exports and {imported(folder / 'csv.log')} from the CSV")
            rounds.append({"reading": reading, "news": news, "bare": bare, "news_peak": news_peak,
                           "bare_peak": bare_peak, "ratio": bare / news})
    middle = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    factiva_files = round(args.files * args.factiva_share)
    print(f"corpus: {args.files} exports ({args.files - factiva_files} Nexis .txt, {factiva_files} Factiva .html; "
          f"{size_mb:.1f} MB), {n:,} articles, {words:,} words; {os.cpu_count()} cores; median of {len(rounds)} "
          "round(s)")
    print(f"{'news readers alone (read_file, this process)':<46} {middle['reading']:6.2f} s "
          f"{n / middle['reading']:8,.0f} articles/s")
    print(f"{'gripcode import of the exports, end to end':<46} {middle['news']:6.2f} s "
          f"{n / middle['news']:8,.0f} articles/s  peak RSS {max(r['news_peak'] for r in rounds):,.0f} MB")
    print(f"{'gripcode import of the same as a media CSV':<46} {middle['bare']:6.2f} s "
          f"{n / middle['bare']:8,.0f} articles/s  peak RSS {max(r['bare_peak'] for r in rounds):,.0f} MB")
    print(f"ratio of articles/s, exports to CSV: {middle['ratio']:.2f} "
          f"(rounds: {', '.join(format(r['ratio'], '.2f') for r in rounds)})")


if __name__ == "__main__":
    main()
