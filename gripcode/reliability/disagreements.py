"""Where coders differ: the units to talk through in an adjudication meeting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.models import Document, Unit
from gripcode.errors import AnalysisError
from gripcode.reliability.units import select_documents, unit_presence


def disagreements(session: Session, coders: list[str], unit: str, *, codes: list[str] | None = None,
                  case: str | None = None, kind: str | None = None, doc: str | None = None,
                  text_limit: int | None = 400) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per unit where the coders' sets of codes differ: the unit's text and each coder's codes.

    Returns the rows and the column names (one column per coder)."""
    if unit == "character":
        raise AnalysisError("disagreements are listed per sentence, paragraph, turn or document; "
                            "pick one of those units")
    selection = select_documents(session, coders, unit, codes=codes, case=case, kind=kind, doc=doc)
    units, presence = unit_presence(session, selection)
    by_unit: dict[int, dict[int, set[str]]] = {}
    for (unit_id, code_id), coder_ids in presence.items():
        for coder_id in coder_ids:
            by_unit.setdefault(unit_id, {}).setdefault(coder_id, set()).add(selection.code_ids[code_id])
    differing = [u for u in units if u in by_unit and
                 len({frozenset(by_unit[u].get(c, set())) for c in selection.coder_ids}) > 1]
    if unit == "document":
        info = {d.id: (d.id, d.title, "document", d.text) for d in session.scalars(
            select(Document).where(Document.id.in_(differing)))}
    else:
        info = {}
        for uid, doc_id, title, seq, start, end, text in session.execute(
                select(Unit.id, Document.id, Document.title, Unit.seq, Unit.start, Unit.end, Document.text)
                .join(Document, Unit.document_id == Document.id).where(Unit.id.in_(differing))).tuples():
            info[uid] = (doc_id, title, f"{unit} {seq}", text[start:end])
    order = {code: i for i, code in enumerate(selection.code_ids.values())}
    rows = []
    for unit_id in differing:
        doc_id, title, where, text = info[unit_id]
        if text_limit and len(text) > text_limit:
            text = text[: text_limit - 1] + "…"
        row: dict[str, Any] = {"doc_id": doc_id, "document": title, "unit": where, "text": text}
        sets = [by_unit[unit_id].get(c, set()) for c in selection.coder_ids]
        for name, codes_of in zip(selection.coders, sets):
            row[name] = ", ".join(sorted(codes_of, key=order.get)) or "-"
        everyone = set.intersection(*sets)
        row["differ"] = ", ".join(sorted(set.union(*sets) - everyone, key=order.get))
        rows.append(row)
    return rows, ["doc_id", "document", "unit", "text", *selection.coders, "differ"]
