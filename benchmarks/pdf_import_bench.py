"""Speed and memory of importing typeset PDFs: `gripcode import *.pdf` against reading their characters alone.

    python benchmarks/pdf_import_bench.py [--pages 1000] [--per-file 100] [--db URL]

Typesets ``--pages`` pages of invented policy prose (tests/typeset.py: justified lines, headings, a running
header, page numbers; half the files in two columns) in files of ``--per-file`` pages, then runs, each in a
subprocess of its own so that peak resident memory is that command's:

1. a baseline: PDFium's plain text of every page (pypdfium2 ``get_text_range``), the least any reader of
   these files does;
2. the same files through pypdf's ``extract_text`` (the plain-text extraction gripcode used before it rebuilt
   paragraphs), when pypdf is installed;
3. with ``--libraries``, the layout analyses gripcode could have used instead of PDFium's characters, where
   installed: pdfminer.six's text boxes (LAParams) and pdfplumber's words with size and font;
4. `gripcode import *.pdf --jobs 0` into a new project, start-up included (paragraphs rebuilt, units stored).

It prints pages per second and peak RSS of each, and the import's time as a multiple of the baseline's.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from import_bench import run  # noqa: E402  (scripts beside this one, not a package)
from typeset import Typeset  # noqa: E402

PDFIUM = """
import sys
import pypdfium2
pages = chars = 0
for name in sys.argv[1:]:
    document = pypdfium2.PdfDocument(name)
    for page in document:
        textpage = page.get_textpage()
        chars += len(textpage.get_text_range())
        pages += 1
print(pages, chars)
"""

PDFMINER = """
import sys
from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTTextContainer
pages = boxes = 0
for name in sys.argv[1:]:
    for page in extract_pages(name, laparams=LAParams()):
        boxes += sum(1 for element in page if isinstance(element, LTTextContainer))
        pages += 1
print(pages, boxes)
"""

PDFPLUMBER = """
import sys
import pdfplumber
pages = words = 0
for name in sys.argv[1:]:
    with pdfplumber.open(name) as pdf:
        for page in pdf.pages:
            words += len(page.extract_words(extra_attrs=["size", "fontname"]))
            page.flush_cache()
            pages += 1
print(pages, words)
"""

PYPDF = """
import sys
import pypdf
pages = chars = 0
for name in sys.argv[1:]:
    for page in pypdf.PdfReader(name).pages:
        chars += len(page.extract_text())
        pages += 1
print(pages, chars)
"""

WORDS = ("the federal agency granted licences for strategic minerals after reviewing deposits processing plans "
         "and buyers while separation plants in Goias and Minas Gerais waited for long contracts with foreign "
         "partners who offered prices for neodymium and dysprosium oxide in exchange for a share of output "
         "industrialisation of the mining district followed").split()


def paragraph(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(40, 140))]
    return " ".join(words).capitalize() + "."


def write_pdfs(folder: Path, pages: int, per_file: int) -> list[Path]:
    rng = random.Random(17)
    paths: list[Path] = []
    while len(paths) * per_file < pages:
        columns = 2 if len(paths) % 2 else 1
        typeset = Typeset(columns=columns, size=10.0, header="Strategic Minerals Review - {page}", page_numbers=True)
        section = 0
        while typeset.pages < per_file:
            if rng.random() < 0.1:
                section += 1
                typeset.heading(f"{section}. Licensing and partners")
            typeset.paragraph(paragraph(rng))
        path = folder / f"review-{len(paths) + 1:03d}.pdf"
        typeset.save(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages in all (default 1000)")
    parser.add_argument("--per-file", type=int, default=100, help="pages per PDF (default 100)")
    parser.add_argument("--db", help="database URL, initialised here (default: a new SQLite file)")
    parser.add_argument("--libraries", action="store_true",
                        help="also time pdfminer.six and pdfplumber layout analysis (slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        paths = write_pdfs(folder, args.pages, args.per_file)
        names = [str(path) for path in paths]
        counted = subprocess.run([sys.executable, "-c", PDFIUM, *names], check=True, capture_output=True,
                                 text=True).stdout.split()
        pages, chars = int(counted[0]), int(counted[1])
        db = args.db or f"sqlite:///{folder / 'bench.db'}"
        gripcode = [sys.executable, "-m", "gripcode", "--db", db]
        subprocess.run([*gripcode, "init"], check=True, capture_output=True)
        rows = [("baseline: PDFium plain text", *run([sys.executable, "-c", PDFIUM, *names], folder / "a.log"))]
        if importlib.util.find_spec("pypdf"):
            rows.append(("pypdf extract_text", *run([sys.executable, "-c", PYPDF, *names], folder / "b.log")))
        if args.libraries:
            for label, module, script in (("pdfminer.six layout (LAParams)", "pdfminer", PDFMINER),
                                          ("pdfplumber words", "pdfplumber", PDFPLUMBER)):
                if importlib.util.find_spec(module):
                    rows.append((label, *run([sys.executable, "-c", script, *names], folder / "c.log")))
        rows.append(("gripcode import --jobs 0", *run([*gripcode, "import", *names, "--jobs", "0"],
                                                      folder / "import.log")))
        report = (folder / "import.log").read_text().strip().splitlines()[-1]
    print(f"{len(paths)} PDFs, {pages:,} pages, {chars:,} characters ({chars // pages:,} per page)")
    base = rows[0][1]
    for label, seconds, peak in rows:
        print(f"{label:32s} {seconds:7.1f} s  {pages / seconds:7.0f} pages/s  peak RSS {peak:6,.0f} MB  "
              f"{seconds / base:5.1f}x baseline")
    print(f"import said: {report}")


if __name__ == "__main__":
    main()
