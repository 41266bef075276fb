"""Which documents a coder sees blind: those of the open reliability rounds the coder codes in.

Front ends (`show`, `codings list`, `code session`, the workbench) ask this and then show such a document's codings
and memos by that coder only. Anyone not coding in a round (its organiser, an adjudicator) sees everything. This
keeps coders from seeing each other's work by accident; it is not access control: one project file or database
serves everyone, and `--coder` names whoever the user says they are.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.models import Coder, Round, RoundCoder, RoundDocument


def blind_documents(session: Session, coder: str, documents: Collection[int] | None = None) -> dict[int, str]:
    """Document id -> the open round (its name) in which ``coder`` codes it blind; ``documents`` limits the
    question to those ids. A document in two such rounds names the first one opened."""
    query = (select(RoundDocument.document_id, Round.name)
             .join(Round, Round.id == RoundDocument.round_id)
             .join(RoundCoder, RoundCoder.round_id == Round.id)
             .join(Coder, Coder.id == RoundCoder.coder_id)
             .where(Round.status == "open", Coder.name == coder)
             .order_by(Round.id.desc()))
    if documents is not None:
        query = query.where(RoundDocument.document_id.in_(list(documents)))
    return {doc_id: name for doc_id, name in session.execute(query).tuples()}


def in_open_round(session: Session, coder: str) -> bool:
    """Whether ``coder`` codes in any open round (then project-wide counts of others' work are not shown)."""
    return session.scalar(select(Round.id).join(RoundCoder, RoundCoder.round_id == Round.id)
                          .join(Coder, Coder.id == RoundCoder.coder_id)
                          .where(Round.status == "open", Coder.name == coder).limit(1)) is not None
