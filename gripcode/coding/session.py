"""An interactive coding pass over a document's units (`gripcode code session`), without any terminal code.

The command line feeds lines to :meth:`CodingSession.handle` and prints what comes back. Every action is
written in its own transaction the moment it is taken, so quitting (or a crash) loses nothing; undo removes
what the last action wrote and returns to its unit.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from gripcode.coding.memos import add_memo, remove_memo
from gripcode.coding.service import apply_coding, remove_coding
from gripcode.corpus.documents import find_document
from gripcode.db.engine import transaction
from gripcode.db.models import UNIT_KINDS, Code, Coder, Coding, Memo, Unit
from gripcode.errors import CodingError, GripcodeError

HELP = """\
  code ids      apply them to this unit (separated by spaces or commas), then go on
  <Enter> or s  skip to the next unit          b  back to the previous unit
  g N           go to unit N                    m TEXT  a memo on this unit
  u             undo the last coding or memo    ?  this help      q  quit (everything is saved)"""


@dataclass
class _Action:
    position: int
    codings: list[int] = field(default_factory=list)
    memo: int | None = None


class CodingSession:
    def __init__(self, engine: Engine, doc_ref: str, *, unit: str = "paragraph", coder: str,
                 start_at: int = 1, blind_round: str | None = None) -> None:
        """``blind_round``: the open reliability round in which ``coder`` codes this document; then only the
        coder's own codings and memos are shown."""
        if unit not in UNIT_KINDS:
            raise CodingError(f"unit {unit!r} is not one of {', '.join(UNIT_KINDS)}")
        self.engine, self.kind, self.coder, self.blind_round = engine, unit, coder, blind_round
        with transaction(engine, write=False) as session:
            doc = find_document(session, doc_ref)
            self.doc_id, self.title, self.text = doc.id, doc.title, doc.text
            self.units = session.execute(select(Unit.seq, Unit.start, Unit.end, Unit.speaker).where(
                Unit.document_id == doc.id, Unit.kind == unit).order_by(Unit.seq)).all()
            self.codes = list(session.scalars(select(Code.slug).where(Code.status == "active")
                                              .order_by(Code.position)))
        if not self.units:
            raise CodingError(f"document {self.doc_id} has no {unit} units; try --unit paragraph")
        if not 1 <= start_at <= len(self.units):
            raise CodingError(f"--from {start_at} is outside 1..{len(self.units)} ({unit}s of document {self.doc_id})")
        self.position = start_at - 1
        self.history: list[_Action] = []
        self.done = False

    # ----------------------------------------------------------------------------------------------- view

    def view(self) -> str:
        if self.done:
            return ""
        seq, start, end, speaker = self.units[self.position]
        head = f"{self.kind} {seq}/{len(self.units)} of document {self.doc_id}: {self.title}"
        if self.blind_round is not None:
            head += f"  [round {self.blind_round} (blind)]"
        own = [Coder.name == self.coder] if self.blind_round is not None else []
        who = f"{speaker}: " if speaker else ""
        body = "\n".join(textwrap.fill(line, 100, initial_indent="  ", subsequent_indent="  ") or ""
                         for line in (who + self.text[start:end]).splitlines())
        with transaction(self.engine, write=False) as session:
            coded = session.execute(
                select(Code.slug, Coder.name, Coding.status).join(Coding.code).join(Coding.coder)
                .where(Coding.document_id == self.doc_id, Coding.start < end, Coding.end > start,
                       Coding.status != "rejected", *own)
                .order_by(Code.position, Coder.name)).all()
            memos = session.scalars(select(Memo.text).join(Coder, Coder.id == Memo.coder_id).where(
                Memo.document_id == self.doc_id, Memo.title == self._memo_title(), *own)).all()
        lines = [head, body]
        if coded:
            lines.append("  coded: " + ", ".join(f"{slug} ({name}{', suggested' if status == 'suggested' else ''})"
                                                 for slug, name, status in coded))
        lines += [f"  memo: {m}" for m in memos]
        return "\n".join(lines)

    def _memo_title(self) -> str:
        return f"{self.kind} {self.units[self.position][0]}"

    # -------------------------------------------------------------------------------------------- actions

    def handle(self, line: str) -> str:
        """Carry out one line of input; return what to tell the researcher (may be empty)."""
        command, _, rest = line.strip().partition(" ")
        if command in ("", "s"):
            return self._move(self.position + 1)
        if command == "q":
            self.done = True
            return "Saved. Bye."
        if command == "?":
            return HELP
        if command == "b":
            return self._move(self.position - 1) if self.position > 0 else "This is the first unit."
        if command == "g":
            if not rest.strip().isdigit() or not 1 <= int(rest) <= len(self.units):
                return f"g needs a unit number from 1 to {len(self.units)}"
            return self._move(int(rest) - 1)
        if command == "u":
            return self._undo()
        if command == "m":
            return self._memo(rest.strip())
        return self._apply(line.replace(",", " ").split())

    def _move(self, position: int) -> str:
        if position >= len(self.units):
            self.done = True
            return f"That was the last {self.kind}. Everything is saved."
        self.position = position
        return ""

    def _apply(self, slugs: list[str]) -> str:
        unknown = [s for s in slugs if s not in self.codes]
        if unknown:
            return f"Unknown or inactive code(s): {', '.join(unknown)}. Type ? for help."
        seq = self.units[self.position][0]
        action = _Action(self.position)
        try:
            with transaction(self.engine) as session:
                for slug in dict.fromkeys(slugs):
                    coding, _ = apply_coding(session, str(self.doc_id), slug, coder=self.coder,
                                             unit=f"{self.kind}:{seq}")
                    action.codings.append(coding.id)
        except GripcodeError as exc:
            return f"Not saved: {exc}"
        self.history.append(action)
        moved = self._move(self.position + 1)
        return f"Saved {', '.join(dict.fromkeys(slugs))} on {self.kind} {seq}." + (f"\n{moved}" if moved else "")

    def _memo(self, text: str) -> str:
        if not text:
            return "m needs the memo's text: m TEXT"
        with transaction(self.engine) as session:
            memo = add_memo(session, text, coder=self.coder, document=str(self.doc_id), title=self._memo_title())
            memo_id = memo.id
        self.history.append(_Action(self.position, memo=memo_id))
        return f"Memo saved on {self._memo_title()}."

    def _undo(self) -> str:
        if not self.history:
            return "Nothing to undo in this session."
        action = self.history.pop()
        with transaction(self.engine) as session:
            for coding_id in action.codings:
                remove_coding(session, coding_id, actor=self.coder)
            if action.memo is not None:
                remove_memo(session, action.memo, actor=self.coder)
        self.position = action.position
        what = f"{len(action.codings)} coding(s)" if action.codings else "the memo"
        return f"Undone: {what} on {self.kind} {self.units[action.position][0]}."
