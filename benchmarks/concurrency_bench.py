"""Many coders at once: N coder processes code for a fixed time beside a codebook-sync loop and an autocode loop.

    python benchmarks/concurrency_bench.py [--coders 4] [--seconds 60] [--db URL] [--busy-timeout 10]

Builds a project from the sample corpus and the study's codebook (SQLite in a temporary folder unless --db
names an empty PostgreSQL database), then starts, each in its own process:

- N coders, each running `gripcode code add DOC CODE --unit paragraph:N` on random paragraphs and codes, as
  fast as it can (the commands run in one interpreter per coder, so a command's start-up is not what is timed);
- a sync loop, alternating between the codebook and a copy whose definitions differ and which adds a code;
- an autocode loop, running `gripcode autocode --jobs 0` again and again.

It prints, per role: attempts, stored, refused as busy, other refusals (a duplicate span, autocode stopped by
a sync), errors of any other kind, and the slowest command; then over all coders: codings lost (reported
stored, not in the project afterwards: must be 0) and duplicated (the same coder, code and span twice: must
be 0). A bare baseline is the same coders alone, without the sync and autocode loops, for the same time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _gripcode(url: str, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "gripcode", "--db", url, *args], check=True, capture_output=True)


def build(url: str, folder: Path) -> tuple[Path, Path]:
    """A project with the sample corpus and codebook; returns the two codebook files the sync loop swaps."""
    _gripcode(url, "init")
    _gripcode(url, "import", "--manifest", str(REPO / "corpus" / "manifest.csv"), "--create-cases")
    first = folder / "codebook-a.yaml"
    shutil.copy(REPO / "codebooks" / "grip-arm.yaml", first)
    _gripcode(url, "codebook", "sync", str(first))
    second = folder / "codebook-b.yaml"
    data = yaml.safe_load(first.read_text(encoding="utf-8"))

    def revise(codes: list[dict]) -> None:
        for code in codes:
            code["definition"] = f"(Revised.) {code.get('definition', '')}"
            revise(code.get("children", []))

    revise(data["codes"])
    data["codes"].append({"id": "load-test-extra", "name": "Load test extra",
                          "definition": "A code the second version adds."})
    second.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return first, second


# ------------------------------------------------------------------------------------------------ workers

def run_role(url: str, role: str, seconds: float, out: Path, files: list[str], seed: int) -> None:
    """One process: repeat the role's command until the time is up; write every attempt's outcome as JSON."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from gripcode.cli.main import cli
    from gripcode.db.engine import make_engine, transaction
    from gripcode.db.models import Code, Document, Unit

    rng = random.Random(seed)
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        docs = session.execute(select(Document.title, Document.id)).all()
        paragraphs = dict(session.execute(
            select(Unit.document_id, Unit.seq).where(Unit.kind == "paragraph").order_by(Unit.seq)).tuples().all())
        codes = list(session.scalars(select(Code.slug).where(Code.status == "active", Code.slug != "load-test-extra")))
    engine.dispose()
    runner = CliRunner()
    results = []
    ends = time.monotonic() + seconds
    i = 0
    while time.monotonic() < ends:
        if role.startswith("coder"):
            title, doc_id = rng.choice(docs)
            args = ["--coder", role, "code", "add", str(doc_id), rng.choice(codes), "--unit",
                    f"paragraph:{rng.randint(1, paragraphs.get(doc_id, 1))}"]
        elif role == "sync":
            args = ["codebook", "sync", files[i % 2]]
        else:
            args = ["autocode", "--jobs", "0"]
        started = time.monotonic()
        result = runner.invoke(cli, ["--db", url, *args])
        found = re.match(r"Coding (\d+): (\S+) on document (\d+) (\d+):(\d+)", result.output)
        results.append({"args": args, "exit": result.exit_code, "output": result.output[:300],
                        "seconds": time.monotonic() - started,
                        "coding": [int(found[1]), found[2], int(found[3]), int(found[4]), int(found[5])]
                        if found else None})
        i += 1
    out.write_text(json.dumps(results), encoding="utf-8")


# ------------------------------------------------------------------------------------------------ the run

def outcome(result: dict) -> str:
    if result["exit"] == 0:
        return "stored"
    text = result["output"]
    if "the project is busy" in text:
        return "busy"
    if "already coded" in text or "at the same moment" in text or "while autocode ran" in text:
        return "refused"
    return "error"


def measure(url: str, folder: Path, coders: int, seconds: float, busy: float, loops: bool) -> dict:
    files = [str(folder / "codebook-a.yaml"), str(folder / "codebook-b.yaml")]
    roles = [f"coder-{n}" for n in range(1, coders + 1)] + (["sync", "autocode"] if loops else [])
    env = {**os.environ, "GRIPCODE_BUSY_TIMEOUT": str(busy)}
    procs = {}
    for n, role in enumerate(roles):
        out = folder / f"{role}-{'loops' if loops else 'bare'}.json"
        procs[role] = (out, subprocess.Popen(
            [sys.executable, __file__, "--role", role, "--db", url, "--seconds", str(seconds), "--out", str(out),
             "--seed", str(n), *files], env=env))
    results = {}
    for role, (out, proc) in procs.items():
        proc.wait()
        results[role] = json.loads(out.read_text(encoding="utf-8")) if proc.returncode == 0 else []
    return results


def check(url: str, results: dict) -> tuple[int, int]:
    """Codings reported stored but missing, and duplicated spans, among the coders' work."""
    from sqlalchemy import func, select

    from gripcode.db.engine import make_engine, transaction
    from gripcode.db.models import Coder, Coding

    stored = [r["coding"] for role, rs in results.items() if role.startswith("coder") for r in rs
              if r["exit"] == 0 and r["coding"]]
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        present = {row.id: row for row in session.execute(
            select(Coding.id, Coding.document_id, Coding.start, Coding.end)
            .join(Coder, Coder.id == Coding.coder_id).where(Coder.name.like("coder-%")))}
        duplicated = session.scalar(select(func.count()).select_from(
            select(Coding.document_id).join(Coder, Coder.id == Coding.coder_id).where(Coder.name.like("coder-%"))
            .group_by(Coding.document_id, Coding.code_id, Coding.coder_id, Coding.start, Coding.end)
            .having(func.count() > 1).subquery()))
    engine.dispose()
    lost = sum(1 for coding_id, _, doc, start, end in stored
               if coding_id not in present or (present[coding_id].document_id, present[coding_id].start,
                                                present[coding_id].end) != (doc, start, end))
    return lost, duplicated or 0


def report(title: str, results: dict, seconds: float) -> None:
    print(f"\n{title}")
    print(f"{'role':<10} {'attempts':>8} {'stored':>7} {'busy':>5} {'refused':>8} {'errors':>7} {'slowest s':>10} "
          f"{'stored/min':>10}")
    for role, rs in results.items():
        counts = Counter(outcome(r) for r in rs)
        slowest = max((r["seconds"] for r in rs), default=0.0)
        print(f"{role:<10} {len(rs):>8} {counts['stored']:>7} {counts['busy']:>5} {counts['refused']:>8} "
              f"{counts['error']:>7} {slowest:>10.2f} {counts['stored'] * 60 / seconds:>10.1f}")
        for r in rs:
            if outcome(r) == "error":
                print(f"  error: {' '.join(r['args'])}: {r['output'].strip()[:200]}")
                break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--coders", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--busy-timeout", type=float, default=10.0)
    parser.add_argument("--db", help="an empty PostgreSQL database (wiped); default: SQLite in a temporary folder")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        run_role(args.db, args.role, args.seconds, Path(args.out), args.files, args.seed)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for loops in (False, True):
            url = args.db or f"sqlite:///{folder / ('loops.db' if loops else 'bare.db')}"
            if args.db:
                from sqlalchemy import text

                from gripcode.db.engine import make_engine

                engine = make_engine(args.db)
                with engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE"))
                    conn.execute(text("CREATE SCHEMA public"))
                engine.dispose()
            build(url, folder)
            results = measure(url, folder, args.coders, args.seconds, args.busy_timeout, loops)
            lost, duplicated = check(url, results)
            backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            what = "with a sync loop and an autocode loop" if loops else "alone (baseline)"
            report(f"{backend}: {args.coders} coders {what}, {args.seconds:g} s, busy timeout {args.busy_timeout:g} s",
                   results, args.seconds)
            print(f"lost: {lost}   duplicated: {duplicated}")


if __name__ == "__main__":
    main()
