"""The import's fast paths give exactly what the plain ones would: spaCy's sentencizer, whitespace trimming,
multi-row and COPY unit inserts, and one transaction when a worker process segments."""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest
import spacy
from sqlalchemy import delete, func, select

from gripcode.corpus import importer, segment
from gripcode.corpus.importer import ImportItem, ImportOptions, import_items
from gripcode.corpus.segment import paragraph_spans, segment_texts, sentence_spans, speaker_turns
from gripcode.db.engine import make_engine, transaction
from gripcode.db.migrate import init_database
from gripcode.db.models import Document, Unit
from gripcode.errors import DocumentImportError
from gripcode.nlp.languages import SUPPORTED, sentence_pipeline

_PIECES = ["Hello", "world", ".", "!", "?", "...", "?!", '"', "'", ")", "(", "“", "”", "。", "！", "？", "｡",
           "e.g.", "Dr.", "U.S.", " ", "  ", "\n", "\n\n", "\n \n", "\t", "\u00a0", "\u3000", "\u2028", "\x1c",
           "10:30", "1.5", "Россия", "добычу", "中国", "稀土", "—", ":", ",", "Interviewer:", "R1:", "…", "a"]


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = ["", " ", "\n\n", ".", ". .", "\n.\n\nA", "  Hello there.\n\nYes", '"Quote." Next', 'A." B']
    for _ in range(count):
        texts.append("".join(rng.choice(_PIECES) + rng.choice(["", " ", " ", "\n"])
                             for _ in range(rng.randint(0, 60))))
    return texts


def _reference_sentences(nlp: spacy.Language, text: str) -> list[tuple[int, int]]:
    """What the sentencizer component marks, trimmed and cut at paragraph breaks, the slow way."""
    doc = nlp(text)
    starts = [sent.start_char for sent in doc.sents]
    if starts and starts[0] != 0:
        starts.insert(0, 0)
    separator = re.compile(r"\n\s*\n") if re.search(r"\n\s*\n", text) else re.compile(r"\n")
    spans = []
    for start, end in zip(starts, starts[1:] + [len(text)]):
        pieces, piece_start = [], start
        for gap in separator.finditer(text, start, end):
            pieces.append((piece_start, gap.start()))
            piece_start = gap.end()
        pieces.append((piece_start, end))
        for a, b in pieces:
            found = re.search(r"\S(?:[\s\S]*\S)?", text[a:b])
            if found:
                spans.append((a + found.start(), a + found.end()))
    return spans


@pytest.mark.parametrize("lang", SUPPORTED)
def test_sentences_match_the_sentencizer_component(lang: str) -> None:
    nlp = sentence_pipeline(lang)
    texts = _texts(300, seed=SUPPORTED.index(lang))
    got = [sentence_spans(text, lang) for text in texts]
    assert got == [_reference_sentences(nlp, text) for text in texts]
    flat = segment_texts([lang] * len(texts), texts)
    assert [list(zip(s[0::2], s[1::2])) for _, s in flat] == got
    assert [list(zip(p[0::2], p[1::2])) for p, _ in flat] == [paragraph_spans(text) for text in texts]


def test_pipelines_with_more_components_run_them() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")

    @spacy.Language.component("gripcode_test_noop")
    def noop(doc: spacy.tokens.Doc) -> spacy.tokens.Doc:
        return doc

    nlp.add_pipe("gripcode_test_noop")
    texts = _texts(100, seed=9)
    gaps = [segment._gaps(text) for text in texts]
    got = [list(zip(s[0::2], s[1::2])) for s in segment._sentence_spans(nlp, texts, gaps)]
    assert got == [_reference_sentences(nlp, text) for text in texts]


def test_mixed_languages_in_one_batch() -> None:
    texts = _texts(60, seed=3)
    langs = [("en", "zh", "ru", None, "kk", "pt-BR")[i % 6] for i in range(len(texts))]
    flat = segment_texts(langs, texts)
    for text, lang, (_, sentences) in zip(texts, langs, flat):
        assert list(zip(sentences[0::2], sentences[1::2])) == sentence_spans(text, lang or "xx")


def test_trimming_agrees_with_unicode_whitespace() -> None:
    spaces = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
    text = spaces + "word" + spaces + "word" + spaces
    for start in range(0, len(text), 3):
        for end in range(start, len(text) + 1, 2):
            found = re.search(r"\S(?:[\s\S]*\S)?", text[start:end])
            expected = (start + found.start(), start + found.end()) if found else None
            assert segment._trimmed(text, start, end) == expected


def test_text_without_a_colon_has_no_turns() -> None:
    assert speaker_turns("Interviewer How did it start\nR1 In 2010\n") == []
    assert len(speaker_turns("Interviewer: How?\nR1: Like this.\n")) == 2


def _write(folder: Path, count: int) -> list[ImportItem]:
    rng = random.Random(5)
    items = []
    for i in range(count):
        lines = [f"{rng.choice(['Interviewer', 'R1'])}: Answer {i}.{j} goes on. And on!"
                 for j in range(rng.randint(1, 9))]
        path = folder / f"t{i:03d}.txt"
        path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        items.append(ImportItem(path, ImportOptions(kind="interview")))
    return items


@pytest.mark.parametrize("jobs, per_insert", [(0, None), (1, None), (0, 7)])
def test_units_are_written_in_document_and_kind_order(tmp_path: Path, db_url: str, jobs: int,
                                                      per_insert: int | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than one multi-row INSERT holds and not a multiple of it; COPY on PostgreSQL. With
    ``per_insert`` the rows go to the driver 7 at a time, as a long text's do 100,000 at a time."""
    if per_insert:
        monkeypatch.setattr(importer, "_UNITS_PER_INSERT", per_insert)
    items = _write(tmp_path, 23)
    engine = make_engine(db_url)
    init_database(engine)
    with transaction(engine) as session:
        report = import_items(session, items, actor="tester", batch_size=5, jobs=jobs)
    expected = []
    with transaction(engine) as session:
        docs = session.execute(select(Document.id, Document.text).order_by(Document.id)).all()
        for doc_id, text in docs:
            for kind, spans in (("paragraph", paragraph_spans(text)), ("sentence", sentence_spans(text, "en"))):
                expected += [(doc_id, kind, n, a, b, None) for n, (a, b) in enumerate(spans, 1)]
            turns = speaker_turns(text)
            expected += [(doc_id, "turn", n, t.start, t.end, t.speaker) for n, t in enumerate(turns, 1)]
        units = session.execute(select(Unit.document_id, Unit.kind, Unit.seq, Unit.start, Unit.end, Unit.speaker)
                                .order_by(Unit.id)).all()
    engine.dispose()
    assert len(docs) == 23 and report.units == len(units) > 100 and len(units) % 100
    assert [tuple(unit) for unit in units] == expected


def test_a_failure_with_a_worker_leaves_nothing(tmp_path: Path, db_url: str) -> None:
    items = _write(tmp_path, 12)
    (tmp_path / "t009.txt").unlink()
    _fails_leaving_nothing(db_url, items, "t009.txt", batch_size=2)


def _fails_leaving_nothing(db_url: str, items: list[ImportItem], match: str, batch_size: int) -> None:
    """An import with a worker that must raise ``match`` and leave no document and no unit behind."""
    engine = make_engine(db_url)
    init_database(engine)
    with pytest.raises(DocumentImportError, match=match):
        with transaction(engine) as session:
            import_items(session, items, actor="tester", batch_size=batch_size, jobs=1)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Document)) == 0
        assert session.scalar(select(func.count()).select_from(Unit)) == 0
    engine.dispose()


def test_document_ids_follow_the_stored_ones_and_match_their_texts(tmp_path: Path, db_url: str) -> None:
    """On SQLite the import numbers documents itself (one executemany instead of a RETURNING per row): each id
    must be the row of its own file, in every batch and after documents were deleted."""
    items = _write(tmp_path, 13)
    engine = make_engine(db_url)
    init_database(engine)
    with transaction(engine) as session:
        first = import_items(session, items[:6], actor="tester", batch_size=4, jobs=0)
    with transaction(engine) as session:
        last_id = max(d["id"] for d in first.imported)
        session.execute(delete(Unit).where(Unit.document_id == last_id))
        session.execute(delete(Document).where(Document.id == last_id))
    with transaction(engine) as session:
        second = import_items(session, items[6:], actor="tester", batch_size=4, jobs=0)
    with transaction(engine) as session:
        stored = {doc_id: (title, text) for doc_id, title, text in
                  session.execute(select(Document.id, Document.title, Document.text))}
        first_units = dict(session.execute(select(Unit.document_id, func.min(Unit.start))
                                           .group_by(Unit.document_id)).tuples().all())
    engine.dispose()
    reported = [d for d in first.imported if d["id"] != last_id] + second.imported
    assert [d["id"] for d in second.imported] == sorted(d["id"] for d in second.imported)
    assert min(d["id"] for d in second.imported) >= last_id
    assert len(stored) == 12 and {d["id"] for d in reported} == set(stored)
    for doc in reported:
        title, text = stored[doc["id"]]
        assert title == doc["title"] and text == (tmp_path / f"{title}.txt").read_text(encoding="utf-8")
        assert first_units[doc["id"]] == 0


def _die(*_: object) -> None:
    os._exit(3)


def test_a_worker_that_dies_fails_the_import_cleanly(tmp_path: Path, db_url: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-import (out of memory, say) is an import error with nothing written, not a hang."""
    from gripcode.corpus import importer

    sent = []
    original = importer.Segmenter.__call__

    def second_batch_kills(self, langs, texts):  # type: ignore[no-untyped-def]
        sent.append(len(texts))
        if len(sent) == 2:
            return self.pool.submit(_die)
        return original(self, langs, texts)

    monkeypatch.setattr(importer.Segmenter, "__call__", second_batch_kills)
    _fails_leaving_nothing(db_url, _write(tmp_path, 9), "a worker process ended unexpectedly", batch_size=3)
    assert len(sent) >= 2


# --- long texts: tokenised in pieces, with the units of one pass -------------------------------------------


def _long_text(rng: random.Random, paragraphs: int) -> str:
    return "\n\n".join("".join(rng.choice(_PIECES) + rng.choice(["", " ", " "]) for _ in range(rng.randint(1, 40)))
                       for _ in range(paragraphs))


@pytest.mark.parametrize("lang", ["en", "zh", "ru"])
def test_a_text_over_the_piece_size_gets_the_sentences_of_one_pass(lang: str) -> None:
    """Cut at paragraph breaks into pieces of at most 300 characters, each text has exactly the sentences
    that tokenising it whole gives (the sentencizer component's, checked above)."""
    nlp = sentence_pipeline(lang)
    rng = random.Random(21)
    texts = [_long_text(rng, rng.randint(5, 60)) for _ in range(40)]
    texts += ["\n\n" + texts[0], texts[1] + "\n\n\n", "\n".join(texts[2].split("\n\n"))]  # leading, trailing, lines
    gaps = [segment._gaps(text) for text in texts]
    assert all(max(b - a for a, b in segment.paragraph_spans(text)) < 300 for text in texts)
    assert sum(len(text) > 300 for text in texts) > 30
    whole = segment._sentence_spans(nlp, texts, gaps, piece_chars=10**9)
    pieces = segment._sentence_spans(nlp, texts, gaps, piece_chars=300)
    assert [list(flat) for flat in pieces] == [list(flat) for flat in whole]
    assert [list(zip(f[0::2], f[1::2])) for f in whole][:20] == [_reference_sentences(nlp, t) for t in texts[:20]]


def test_a_paragraph_longer_than_a_piece_is_cut_at_a_space_and_its_spans_stay_valid() -> None:
    nlp = sentence_pipeline("en")
    rng = random.Random(4)
    text = " ".join(rng.choice(["Rare", "earth", "quotas", "fell.", "Prices", "rose!"]) for _ in range(400))
    text += "\n\n" + "稀土" * 500  # no space at all: cut anywhere
    [flat] = segment._sentence_spans(nlp, [text], [segment._gaps(text)], piece_chars=250)
    spans = list(zip(flat[0::2], flat[1::2]))
    assert spans == sorted(spans) and all(a < b for a, b in spans)
    assert all(b <= c for (_, b), (c, _) in zip(spans, spans[1:]))
    assert all(not text[a].isspace() and not text[b - 1].isspace() for a, b in spans)
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "").replace("\n", "")


def test_an_import_of_a_text_longer_than_the_pipeline_accepts(tmp_path: Path, db_url: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A text over spaCy's max_length once ended in its error E088; it is now imported piece by piece, with
    the units a single pass gives."""
    rng = random.Random(8)
    text = _long_text(rng, 400)
    assert len(text) > 5000
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    expected = [("paragraph", a, b) for a, b in paragraph_spans(text)]
    expected += [("sentence", a, b) for a, b in sentence_spans(text, "en")]
    monkeypatch.setattr(sentence_pipeline("en"), "max_length", 2000)
    engine = make_engine(db_url)
    init_database(engine)
    with transaction(engine) as session:
        import_items(session, [ImportItem(path, ImportOptions())], actor="tester", jobs=0)
    with transaction(engine) as session:
        stored = session.execute(select(Unit.kind, Unit.start, Unit.end).where(Unit.kind != "turn")
                                 .order_by(Unit.id)).tuples().all()
    engine.dispose()
    assert stored == expected


def test_an_item_with_its_text_is_imported_as_a_file_with_that_text_would_be(tmp_path: Path, db_url: str) -> None:
    """An item that brings its text (``ImportItem.text``, the .qdpx import's sources) stores what a file of that
    text stores, and no file is read: its path only names it. Texts are read one at a time, in order."""
    texts = ["Interviewer: Why Baotou?\r\nR1: The separation plants are there.\r\n",
             "Quota notice.\n\nThe ministry lowers the mining quota for the year.\n"]
    on_disk = []
    for n, content in enumerate(texts):
        (tmp_path / f"f{n}.txt").write_bytes(content.encode("utf-8"))
        on_disk.append(ImportItem(tmp_path / f"f{n}.txt", ImportOptions(kind="interview", title=f"t{n}")))
    read: list[int] = []

    def text_of(n: int) -> str:
        read.append(n)
        return texts[n]

    given = [ImportItem(tmp_path / "absent" / f"f{n}.txt", ImportOptions(kind="interview", title=f"t{n}"),
                        text=lambda n=n: text_of(n)) for n in range(len(texts))]
    stored = []
    for items in (on_disk, given):
        engine = make_engine(db_url)
        init_database(engine)
        with transaction(engine) as session:
            import_items(session, items, actor="tester", jobs=0)
        with transaction(engine) as session:
            stored.append((session.execute(select(Document.title, Document.text, Document.sha256,
                                                  Document.original_name).order_by(Document.id)).all(),
                           session.execute(select(Document.sha256, Unit.kind, Unit.start, Unit.end, Unit.speaker)
                                           .join(Document, Document.id == Unit.document_id)
                                           .order_by(Unit.id)).all()))
            session.execute(delete(Unit))
            session.execute(delete(Document))
        engine.dispose()
    assert read == [0, 1]
    assert stored[0] == stored[1] and len(stored[0][0]) == 2 and stored[0][0][0].text.count("\r") == 0
    assert any(unit.kind == "turn" for unit in stored[1][1])
