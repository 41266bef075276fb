"""An import on a SQLite project reads and segments without the write lock and copies in one short transaction:
coders write beside it, what lands equals a direct import, and a project changed meanwhile is imported again
under the lock."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from gripcode.corpus import importer
from gripcode.corpus.importer import ImportOptions, collect_items, import_items
from gripcode.corpus.staged_import import import_into_project
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.db.models import Case, Document, Event, Unit

from conftest import Gripcode

TEXTS = {
    "a.txt": "Interviewer: Were quotas cut?\nOfficial: They were. Prices rose.\n",
    "b.txt": "The agency wants a price floor.\n\nExports fell in May. Then rose.\n",
    "c.txt": "Baotou plants merged last year.\n",
}


def _files(folder: Path, names: tuple[str, ...]) -> list[Path]:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(TEXTS[name], encoding="utf-8")
    return [folder / name for name in names]


def _items(paths: list[Path], case: str = "China") -> list[Any]:
    return collect_items(paths, ImportOptions(case=case), None)


def _rows(url: str) -> dict[str, Any]:
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        rows = {
            "documents": session.execute(select(Document.id, Document.title, Document.text, Document.sha256,
                                                Document.case_id, Document.word_count)
                                         .order_by(Document.id)).all(),
            "units": session.execute(select(Unit.document_id, Unit.kind, Unit.seq, Unit.start, Unit.end,
                                            Unit.speaker).order_by(Unit.id)).all(),
            "cases": session.execute(select(Case.id, Case.name).order_by(Case.id)).all(),
            "events": session.execute(select(Event.actor, Event.action, Event.entity_id)
                                      .order_by(Event.id)).all(),
        }
    engine.dispose()
    return rows


class _Paused:
    """Holds an import's reading at its second file until released, and says when it got there."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reached, self.go = threading.Event(), threading.Event()
        real, calls = importer.read_file, []

        def read_file(path: Path, **kwargs: Any) -> Any:
            calls.append(path)
            if len(calls) == 2:
                self.reached.set()
                assert self.go.wait(60)
            return real(path, **kwargs)

        monkeypatch.setattr(importer, "read_file", read_file)

    def run(self, work: Any) -> threading.Thread:
        self.error: BaseException | None = None

        def target() -> None:
            try:
                self.result = work()
            except BaseException as exc:  # noqa: BLE001 - the test reads it
                self.error = exc

        thread = threading.Thread(target=target)
        thread.start()
        assert self.reached.wait(60), "the import never reached its second file"
        return thread


def test_a_coder_writes_while_an_import_reads(grip: Gripcode, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Before, the import held SQLite's write lock from its start: the write beside it waited, here in vain."""
    paused = _Paused(monkeypatch)
    engine = make_engine(grip.url)
    items = _items(_files(tmp_path / "in", ("a.txt", "b.txt")))
    thread = paused.run(lambda: import_into_project(engine, items, actor="ana", create_cases=True, jobs=0))
    beside = make_engine(grip.url, busy_timeout=0.5)
    try:
        with transaction(beside) as session:
            session.add(Case(name="Japan"))
    finally:
        beside.dispose()
        paused.go.set()
        thread.join(60)
    engine.dispose()
    assert paused.error is None
    assert [d["title"] for d in paused.result.imported] == ["a", "b"]
    rows = _rows(grip.url)
    assert [title for _, title, *_ in rows["documents"]] == ["a", "b"]
    assert {name for _, name in rows["cases"]} == {"China", "Japan"}


def test_what_lands_equals_a_direct_import(tmp_path: Path) -> None:
    paths = _files(tmp_path / "in", ("a.txt", "b.txt", "c.txt"))
    urls = []
    for name in ("staged", "direct"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = make_engine(url)
        init_database(engine)
        with transaction(engine) as session:  # a project with a document and a case already
            session.add(Case(name="Brazil"))
        first = _items(paths[2:], case="Brazil")
        with transaction(engine) as session:
            import_items(session, first, actor="ana", jobs=0)
        if name == "staged":
            import_into_project(engine, _items(paths), actor="ana", create_cases=True, jobs=0)
        else:
            with transaction(engine) as session:
                import_items(session, _items(paths), actor="ana", create_cases=True, jobs=0)
        engine.dispose()
        urls.append(url)
    staged, direct = (_rows(url) for url in urls)
    assert staged == direct
    assert len(staged["documents"]) == 3 and [a for _, a, _ in staged["events"]].count("import") == 2
    assert ("ana", "case.added", 2) in staged["events"]


def test_a_project_changed_meanwhile_is_imported_again_under_the_lock(grip: Gripcode, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    grip.ok("case", "add", "China")
    paused = _Paused(monkeypatch)
    engine = make_engine(grip.url)
    items = _items(_files(tmp_path / "in", ("a.txt", "b.txt")))
    thread = paused.run(lambda: import_into_project(engine, items, actor="ana", create_cases=True, jobs=0))
    try:
        # Another import lands while the first reads: c, and b, which the first import also brings.
        monkeypatch.undo()
        other = _items(_files(tmp_path / "other", ("c.txt", "b.txt")))
        with transaction(engine) as session:
            import_items(session, other, actor="ben", create_cases=True, jobs=0)
    finally:
        paused.go.set()
        thread.join(60)
    engine.dispose()
    rows = _rows(grip.url)
    assert paused.error is None
    assert [d["title"] for d in paused.result.imported] == ["a"]
    assert [s["file"] for s in paused.result.skipped] == ["b.txt"]
    assert sorted(title for _, title, *_ in rows["documents"]) == ["a", "b", "c"]
    assert len({sha for _, _, _, sha, *_ in rows["documents"]}) == 3


@pytest.mark.parametrize("create_case", [False, True])
def test_two_imports_of_the_same_text_at_once(grip: Gripcode, tmp_path: Path, create_case: bool) -> None:
    """One import has stored a text (and perhaps created its case) and not committed; another brings the same.
    On SQLite the second waits for the write lock and then skips the text; on PostgreSQL it waits on the unique
    key and is refused whole with a clear message, not an IntegrityError."""
    if not create_case:
        grip.ok("case", "add", "China")
    engine = make_engine(grip.url)
    first = _items(_files(tmp_path / "one", ("a.txt",)))
    second = _items(_files(tmp_path / "two", ("a.txt",)))
    outcome: dict[str, Any] = {}

    def other() -> None:
        try:
            with transaction(engine) as session:
                outcome["report"] = import_items(session, second, actor="ben", create_cases=True, jobs=0)
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            outcome["error"] = exc

    with transaction(engine) as session:
        import_items(session, first, actor="ana", create_cases=True, jobs=0)
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(1.0)
        assert thread.is_alive(), "the second import did not wait for the first"
    thread.join(60)
    engine.dispose()
    if grip.url.startswith("sqlite"):
        assert [s["reason"] for s in outcome["report"].skipped] == ["same text as 'a'"]
    else:
        error = outcome["error"]
        expected = "added a case of the same name" if create_case else "stored one of these texts"
        assert expected in str(error) and "at the same moment" in str(error)
    assert [title for _, title, *_ in _rows(grip.url)["documents"]] == ["a"]
