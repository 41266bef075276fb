"""Finding and listing documents, and project counts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gripcode.corpus.origin import short_origin
from gripcode.db.models import Case, Code, Coder, Coding, Document, Memo, Unit
from gripcode.errors import NotFoundError


def find_document(session: Session, ref: str) -> Document:
    """A document by id, or by a title that names exactly one document."""
    ref = ref.strip()
    if ref.isdigit():
        doc = session.get(Document, int(ref))
        if doc is None:
            raise NotFoundError(f"no document with id {ref}")
        return doc
    matches = session.scalars(select(Document).where(Document.title == ref)).all()
    if not matches:
        matches = session.scalars(select(Document).where(Document.title.ilike(f"%{ref}%")).limit(11)).all()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFoundError(f"no document has the id or title {ref!r}; see `gripcode docs list`")
    listed = ", ".join(f"{d.id} ({d.title})" for d in matches[:10])
    raise NotFoundError(f"{ref!r} names {len(matches)} documents: {listed}; use the id")


def document_ids(session: Session, *, case: str | None = None, kind: str | None = None,
                 doc: str | None = None) -> list[int]:
    """Ids of the documents a command works on, in id order: all, or those of a case, a kind, or one document."""
    query = select(Document.id).order_by(Document.id)
    if case:
        if session.scalar(select(Case.id).where(Case.name == case)) is None:
            raise NotFoundError(f"no case {case!r}; see `gripcode case list`")
        query = query.join(Case, Document.case_id == Case.id).where(Case.name == case)
    if kind:
        query = query.where(Document.kind == kind)
    if doc:
        query = query.where(Document.id == find_document(session, doc).id)
    return list(session.scalars(query))


def list_documents(session: Session, case: str | None = None, kind: str | None = None,
                   language: str | None = None) -> list[dict[str, Any]]:
    """One row per document: id, title, case, kind, language, date, words, file, source and origin (pages of
    a PDF, the site of a web page, an article's place in its news export)."""
    query = (select(Document.id, Document.title, Case.name.label("case"), Document.kind, Document.language,
                    Document.date, Document.word_count.label("words"), Document.original_name.label("file"),
                    Document.source, Document.meta)
             .outerjoin(Case, Document.case_id == Case.id).order_by(Document.id))
    if case:
        query = query.where(Case.name == case)
    if kind:
        query = query.where(Document.kind == kind)
    if language:
        query = query.where(Document.language == language.lower())
    rows = []
    for row in session.execute(query):
        values = dict(row._mapping)
        values["origin"] = short_origin(values["file"], values.pop("meta"))
        rows.append(values)
    return rows


def paragraphs(session: Session, doc: Document) -> list[tuple[int, str]]:
    spans = session.execute(select(Unit.seq, Unit.start, Unit.end).where(
        Unit.document_id == doc.id, Unit.kind == "paragraph").order_by(Unit.seq)).all()
    return [(seq, doc.text[start:end]) for seq, start, end in spans]


def project_stats(session: Session) -> dict[str, int]:
    def count(model: Any) -> int:
        return session.scalar(select(func.count()).select_from(model)) or 0

    return {
        "cases": count(Case), "documents": count(Document), "units": count(Unit), "codes": count(Code),
        "codings": count(Coding), "coders": count(Coder), "memos": count(Memo),
        "words": session.scalar(select(func.coalesce(func.sum(Document.word_count), 0))) or 0,
    }
