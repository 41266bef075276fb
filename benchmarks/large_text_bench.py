"""Memory and time of importing one large text: `gripcode import big.txt` against reading the file alone.

    python benchmarks/large_text_bench.py [--mb 100] [--db URL] [--keep FOLDER]

Writes a synthetic text of about ``--mb`` megabytes (paragraphs of sentences, as in import_bench.py) and runs,
each in a subprocess of its own so that peak resident memory is that command's:

1. a baseline: the file read, decoded and normalised (what any import must hold: the text itself);
2. `gripcode import big.txt --jobs 0` into a new project, start-up included.

It prints wall time and peak RSS of both, and the import's peak as a multiple of the baseline's. The import
tokenises the text in pieces (gripcode.corpus.segment.PIECE_CHARS), so its peak grows with the text and its
units, not with spaCy's Doc of the whole text.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import document, run  # noqa: E402  (a script beside this one, not a package)

BASELINE = """
import sys
from pathlib import Path
from gripcode.corpus.decode import decode_text
from gripcode.corpus.limits import ReadLimits, read_bytes
from gripcode.corpus.normalize import normalise_text
text = normalise_text(decode_text(read_bytes(Path(sys.argv[1]), ReadLimits.from_mb(10_000)), name="big.txt")[0])
print(len(text))
"""


def write_text(path: Path, megabytes: float) -> int:
    rng = random.Random(11)
    target = int(megabytes * 1_000_000)
    written = 0
    with path.open("w", encoding="utf-8") as out:
        while written < target:
            part = document(rng, 2000, transcript=False) + "\n"
            out.write(part)
            written += len(part)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the text in MB (default 100)")
    parser.add_argument("--db", help="database URL, initialised here (default: a new SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        big = folder / "big.txt"
        size = write_text(big, args.mb)
        db = args.db or f"sqlite:///{folder / 'bench.db'}"
        gripcode = [sys.executable, "-m", "gripcode", "--db", db]
        subprocess.run([*gripcode, "init"], check=True, capture_output=True)
        base_s, base_mb = run([sys.executable, "-c", BASELINE, str(big)], folder / "baseline.log")
        limit = str(max(500.0, args.mb * 2))
        import_s, import_mb = run([*gripcode, "import", str(big), "--jobs", "0", "--max-size", limit],
                                  folder / "import.log")
        report = (folder / "import.log").read_text().strip().splitlines()[-1]
    print(f"text: {size / 1e6:,.1f} MB ({size:,} characters)")
    print(f"baseline: read + decode + normalise   {base_s:7.1f} s   peak RSS {base_mb:7,.0f} MB")
    print(f"gripcode import --jobs 0              {import_s:7.1f} s   peak RSS {import_mb:7,.0f} MB")
    print(f"import peak / baseline peak: {import_mb / base_mb:.1f}x;  import peak / text size: "
          f"{import_mb / (size / 1e6):.1f}x")
    print(f"import said: {report}")


if __name__ == "__main__":
    main()
