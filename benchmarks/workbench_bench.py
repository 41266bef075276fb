"""Speed of the coding workbench on a long document, in Textual's headless harness.

    python benchmarks/workbench_bench.py [--words 100000] [--codings 2000] [--moves 200] [--applies 20]

Builds a SQLite project with the study's codebook and one interview transcript of ``--words`` words (paragraphs
of invented sentences, speaker turns), adds ``--codings`` codings by two coders (sentences and paragraphs, so
that many overlap), and then, in the harness at 160 x 45 cells:

1. open: from creating the app to the document shown (reading it in one transaction, laying it out, drawing);
2. cursor moves: a key press each (down, right, ctrl+right, ], }), until the screen is drawn again;
3. apply a code: `s` selects a sentence, then `1` applies the most recent code (one write transaction with its
   audit event, the document's codings read again, the screen drawn again); timed is the `1`.

Each key press is timed from the moment the key is sent to the app to the end of the last screen update it
caused ("to paint": Textual redraws changed regions on a timer, at most 60 times a second), and also as the
harness's own wait (`await pilot.press`), which adds its idle polling (compare the unbound key f12, which does
nothing). It prints the median and the slowest of each. Aims: open under 1 s, a move or an apply under 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

from gripcode.cli.main import cli
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, Coder, Coding, Document, Unit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import document

REPO = Path(__file__).resolve().parent.parent
SIZE = (160, 45)


def build_project(folder: Path, words: int, codings: int) -> tuple[str, int]:
    url = f"sqlite:///{folder / 'bench.db'}"
    text_file = folder / "long-interview.txt"
    text_file.write_text(document(random.Random(3), words, transcript=True), encoding="utf-8")
    for args in (["init"], ["codebook", "sync", str(REPO / "codebooks" / "grip-arm.yaml")],
                 ["import", str(text_file), "--kind", "interview", "--jobs", "0"]):
        code = cli.main(["--db", url, "--coder", "bench", *args], standalone_mode=False)
        if code not in (0, None):
            raise SystemExit(f"setting up failed: gripcode {' '.join(args)}")
    engine = make_engine(url)
    rng = random.Random(5)
    with transaction(engine) as session:
        doc = session.scalars(select(Document)).one()
        code_ids = list(session.scalars(select(Code.id).where(Code.status == "active")))
        people = []
        for name in ("ana", "ben"):
            coder = Coder(name=name, kind="person")
            session.add(coder)
            session.flush()
            people.append(coder.id)
        units = {kind: session.execute(select(Unit.start, Unit.end).where(Unit.document_id == doc.id,
                                                                          Unit.kind == kind)).tuples().all()
                 for kind in ("sentence", "paragraph")}
        rows, seen = [], set()
        while len(rows) < codings:
            start, end = rng.choice(units["sentence" if rng.random() < 0.8 else "paragraph"])
            key = (rng.choice(code_ids), rng.choice(people), start, end)
            if key in seen:
                continue
            seen.add(key)
            rows.append({"document_id": doc.id, "code_id": key[0], "coder_id": key[1], "start": start, "end": end,
                         "quote": doc.text[start:end], "origin": "manual", "status": "accepted"})
        session.execute(insert(Coding), rows)
        doc_id, size = doc.id, len(doc.text)
    engine.dispose()
    print(f"project: one transcript of {words:,} words ({size:,} characters), {codings:,} codings by 2 coders")
    return url, doc_id


def summary(label: str, timings: list[tuple[float, float]]) -> str:
    paint = [p * 1000 for p, _ in timings]
    wait = [w * 1000 for _, w in timings]
    return (f"{label:<24} to paint: median {statistics.median(paint):6.1f} ms, slowest {max(paint):6.1f} ms   "
            f"harness: median {statistics.median(wait):6.1f} ms   ({len(timings)} times)")


class PaintClock:
    """Times a key press from the moment it is sent to the end of the first screen update after its action
    finished: wraps the app's action dispatch and the screen's update."""

    def __init__(self, app: object) -> None:
        self.painted = self.handled = 0.0
        screen = app.screen  # type: ignore[attr-defined]
        update = screen._compositor_refresh
        run_action = app.run_action  # type: ignore[attr-defined]

        def timed_update() -> None:
            update()
            self.painted = time.perf_counter()

        async def timed_action(*args: object, **kwargs: object) -> bool:
            done = await run_action(*args, **kwargs)
            self.handled = time.perf_counter()
            return done

        screen._compositor_refresh = timed_update
        app.run_action = timed_action  # type: ignore[attr-defined]

    async def press(self, pilot: object, key: str) -> tuple[float, float]:
        self.handled = 0.0
        sent = time.perf_counter()
        await pilot.press(key)  # type: ignore[attr-defined]
        waited = time.perf_counter() - sent
        deadline = time.perf_counter() + 2
        while (self.handled == 0.0 or self.painted < self.handled) and time.perf_counter() < deadline:
            await asyncio.sleep(0.002)
        return self.painted - sent, waited


async def measure(url: str, doc_id: int, moves: int, applies: int) -> None:
    from gripcode.workbench.app import WorkbenchApp

    engine = make_engine(url)
    started = time.perf_counter()
    app = WorkbenchApp(engine, "ana", doc=str(doc_id), refresh_seconds=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        opened = time.perf_counter() - started
        text = app.text_view
        assert text.lines is not None and text.lines.height > 1000, "the document was not laid out"
        print(f"{'open (app start to drawn)':<28} {opened * 1000:7.1f} ms   ({text.lines.height:,} screen lines, "
              f"{len(text.codings):,} codings shown)")
        clock = PaintClock(app)
        keys = ("down", "right", "ctrl+right", "right_square_bracket", "right_curly_bracket")
        timings: dict[str, list[tuple[float, float]]] = {key: [] for key in keys}
        for index in range(moves):
            key = keys[index % len(keys)]
            timings[key].append(await clock.press(pilot, key))
        print(summary("cursor moves (all)", [t for values in timings.values() for t in values]))
        for key, values in timings.items():
            print("  " + summary(key, values))
        idle = []
        for _ in range(20):
            sent = time.perf_counter()
            await pilot.press("f12")
            idle.append(time.perf_counter() - sent)
        print(f"{'f12 (unbound: harness only)':<24} harness: median {statistics.median(idle) * 1000:6.1f} ms")
        app.recent = ["export-restrictions"]
        applied = []
        for _ in range(applies):
            await pilot.press("right_square_bracket", "s")
            applied.append(await clock.press(pilot, "1"))
            assert "Coded" in app.last_message, app.last_message
        print(summary("apply a code (key 1)", applied))
        await pilot.press("g")
        print(summary("jump to the end (G)", [await clock.press(pilot, "G")]))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=100_000)
    parser.add_argument("--codings", type=int, default=2_000)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--applies", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url, doc_id = build_project(Path(tmp), args.words, args.codings)
        asyncio.run(measure(url, doc_id, args.moves, args.applies))


if __name__ == "__main__":
    main()
