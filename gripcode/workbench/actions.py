"""What the workbench's keys do to the project: each action is one write transaction through the library
functions the command line uses (``gripcode.coding``), which record its audit event, and leaves an undo step.

A mixin of :class:`~gripcode.workbench.app.WorkbenchApp`, kept apart from the app's layout and reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gripcode.coding import review as rv
from gripcode.coding.memos import add_memo
from gripcode.coding.reshape import reshape_coding
from gripcode.coding.service import apply_coding, edit_coding, get_coding, remove_coding
from gripcode.coding.undo import copy_coding
from gripcode.coding.workspace import ShownCoding
from gripcode.db.engine import transaction
from gripcode.errors import GripcodeError, NotFoundError
from gripcode.workbench.screens import CodePicker, MemoEditor
from gripcode.workbench.undo import EditBack, RemoveApplied, RemoveMemo, RestoreRemoved, ReviewBack, UndoStep

if TYPE_CHECKING:
    from gripcode.workbench.app import WorkbenchApp


def problem(exc: Exception) -> str:
    """What went wrong, in a line: the driver's own message for a database error, not the SQL around it."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]

MACHINE_ORIGINS = rv.MACHINE_ORIGINS


class CodingActions:
    """Coding, undo and review actions of the workbench."""

    def _write(self: WorkbenchApp, work: Callable[[Session], Any]) -> Any:
        """Run ``work`` in one write transaction; a refused action is said, not raised (returns None)."""
        try:
            with transaction(self.engine) as session:
                return work(session)
        except GripcodeError as exc:
            self.say(f"Not saved: {exc}")
        except SQLAlchemyError as exc:
            self.say(f"Not saved: the database could not be used: {problem(exc)}")
        return None

    def _done(self: WorkbenchApp, step: UndoStep | None, message: str, *, changed: Sequence[int],
              focus: int | None = None) -> None:
        """After an action: its undo step kept, the codings it ``changed`` read again, and the reader told."""
        if step is not None:
            self.undo_steps.append(step)
        self.update_codings(changed, focus=focus)
        self.counts_changed()
        self.say(message)

    # ------------------------------------------------------------------------------------------ coding

    def action_code(self: WorkbenchApp) -> None:
        if self.review is not None:
            self.action_recode()
            return
        if self._selection() is None:
            return
        self.push_screen(CodePicker("Code the selection with", self.code_choices()), self._picked)

    def _picked(self: WorkbenchApp, slugs: list[str] | None) -> None:
        if slugs:
            self.use_codes(slugs)

    def action_recent(self: WorkbenchApp, number: int) -> None:
        if number > len(self.recent):
            self.say(f"There is no recent code {number} yet: code with c first.")
            return
        self.use_codes([self.recent[number - 1]])

    def use_codes(self: WorkbenchApp, slugs: list[str]) -> None:
        """Apply ``slugs`` to the selection (in review mode: give the suggestion the first of them)."""
        if self.review is not None:
            self._review_recode(slugs[0])
            return
        selection = self._selection()
        if selection is None or self.workspace is None:
            return
        start, end = selection
        doc = str(self.workspace.doc_id)

        def work(session: Session) -> list[int]:
            return [apply_coding(session, doc, slug, coder=self.coder, span=f"{start}:{end}")[0].id
                    for slug in slugs]

        ids = self._write(work)
        if ids is None:
            return
        self.remember(slugs)
        self._show_recent()
        self.text_view.clear_selection()
        self._done(RemoveApplied(f"coding {', '.join(slugs)}", tuple(ids)),
                   f"Coded {start}:{end} with {', '.join(slugs)} (coding {', '.join(map(str, ids))}).",
                   changed=ids, focus=ids[0])

    def _selection(self: WorkbenchApp) -> tuple[int, int] | None:
        if self.workspace is None:
            self.say("Open a document first.")
            return None
        selection = self.text_view.cursor.selection
        if selection is None:
            self.say("Select a passage first: shift+arrows, v and a move, s, p or t, or drag with the mouse.")
        return selection

    def _current(self: WorkbenchApp) -> ShownCoding | None:
        """The current coding under the cursor, if the reader may change it: their own, or a suggestion."""
        coding = self.text_view.current
        if coding is None:
            self.say("No coding under the cursor.")
            return None
        if coding.coder != self.coder and coding.origin not in MACHINE_ORIGINS:
            self.say(f"Coding {coding.id} is {coding.coder}'s: the workbench changes only your own codings and "
                     "suggestions (gripcode code edit and code rm change any).")
            return None
        return coding

    def action_turn(self: WorkbenchApp) -> None:
        coding = self.text_view.turn_current()
        self.update_here()
        self.say("" if coding is None else f"Current coding: {coding.code} by {coding.coder} (#{coding.id}).")

    def action_remove(self: WorkbenchApp) -> None:
        coding = self._current()
        if coding is None:
            return

        def work(session: Session) -> RestoreRemoved:
            copy = copy_coding(session, coding.id)
            remove_coding(session, coding.id, actor=self.coder)
            return RestoreRemoved(f"removing {coding.code}", copy)

        step = self._write(work)
        if step is not None:
            self._done(step, f"Removed coding {coding.id} ({coding.code}, {coding.start}:{coding.end}).",
                       changed=[coding.id])

    def action_recode(self: WorkbenchApp) -> None:
        coding = self._target_coding() if self.review is not None else self._current()
        if coding is None:
            return
        choices = [c for c in self.code_choices() if c.slug != coding.code]
        self.push_screen(CodePicker(f"Recode {coding.code} (#{coding.id}) as", choices, several=False),
                         self._recode_picked)

    def _recode_picked(self: WorkbenchApp, slugs: list[str] | None) -> None:
        if not slugs:
            return
        if self.review is not None:
            self._review_recode(slugs[0])
            return
        coding = self.text_view.current
        if coding is None:
            return
        slug = slugs[0]
        done = self._write(lambda session: edit_coding(session, coding.id, actor=self.coder, code=slug))
        if done is not None:
            self.remember([slug])
            self._show_recent()
            self._done(EditBack(f"recoding {coding.code} as {slug}", coding.id, code=coding.code),
                       f"Recoded coding {coding.id}: {coding.code} -> {slug}.", changed=[coding.id], focus=coding.id)

    def action_reshape(self: WorkbenchApp, unit: str, narrow: bool) -> None:
        coding = self._target_coding() if self.review is not None else self._current()
        if coding is None:
            return
        at = self.text_view.cursor.offset
        how = "Narrowed" if narrow else "Widened"

        def work(session: Session) -> UndoStep:
            found = get_coding(session, coding.id)
            suggestion = found.status == "suggested" and found.origin in MACHINE_ORIGINS
            snapshot = rv.snapshot(found) if suggestion else None
            _, before = reshape_coding(session, coding.id, unit, narrow=narrow, actor=self.coder, at=at)
            label = f"{how.lower()} {coding.code} to the {unit}"
            if snapshot is not None:
                return ReviewBack(label, snapshot)
            return EditBack(label, coding.id, span=before)

        step = self._write(work)
        if step is not None:
            self._done(step, f"{how} coding {coding.id} ({coding.code}) to the {unit}.", changed=[coding.id],
                       focus=coding.id)

    # ------------------------------------------------------------------------------------------- memos

    def action_memo(self: WorkbenchApp) -> None:
        if self.workspace is None:
            self.say("Open a document first.")
            return
        coding = self._target_coding() if self.review is not None else self.text_view.current
        if coding is None:
            paragraph = self.paragraph_number()
            if paragraph is None:
                self.say("Move into a paragraph first.")
                return
            self.push_screen(MemoEditor(f"Memo on paragraph {paragraph}"),
                             lambda text: self._paragraph_memo(text, paragraph))
            return
        if self.review is None and self._current() is None:
            return
        self.push_screen(MemoEditor(f"Memo on coding {coding.id} ({coding.code})", coding.memo or ""),
                         lambda text: self._coding_memo(text, coding))

    def action_document_memo(self: WorkbenchApp) -> None:
        if self.workspace is None:
            self.say("Open a document first.")
            return
        self.push_screen(MemoEditor(f"Memo on document {self.workspace.doc_id}"),
                         lambda text: self._document_memo(text, None))

    def _paragraph_memo(self: WorkbenchApp, text: str | None, paragraph: int) -> None:
        self._document_memo(text, f"paragraph {paragraph}")

    def _document_memo(self: WorkbenchApp, text: str | None, title: str | None) -> None:
        if text is None or self.workspace is None:
            return
        doc = str(self.workspace.doc_id)
        memo_id = self._write(lambda session: add_memo(session, text, coder=self.coder, document=doc,
                                                       title=title).id)
        if memo_id is not None:
            where = title or f"document {doc}"
            self._done(RemoveMemo(f"the memo on {where}", memo_id), f"Memo saved on {where}.", changed=[])

    def _coding_memo(self: WorkbenchApp, text: str | None, coding: ShownCoding) -> None:
        if text is None:
            return
        if text.strip() == (coding.memo or ""):
            self.say("The memo is unchanged.")
            return

        def work(session: Session) -> UndoStep:
            found = get_coding(session, coding.id)
            if found.status == "suggested" and found.origin in MACHINE_ORIGINS:
                snapshot = rv.snapshot(found)
                rv.set_memo(session, coding.id, text, reviewer=self.coder)
                return ReviewBack(f"the memo on coding {coding.id}", snapshot)
            edit_coding(session, coding.id, actor=self.coder, memo=text.strip())
            return EditBack(f"the memo on coding {coding.id}", coding.id, memo=coding.memo or "")

        step = self._write(work)
        if step is not None:
            self._done(step, f"Memo saved on coding {coding.id}.", changed=[coding.id], focus=coding.id)

    # -------------------------------------------------------------------------------------------- undo

    def action_undo(self: WorkbenchApp) -> None:
        if not self.undo_steps:
            self.say("Nothing to undo.")
            return
        step = self.undo_steps.pop()
        try:
            with transaction(self.engine) as session:
                focus = step.undo(session, self.coder, self.renumbered)
        except (GripcodeError, SQLAlchemyError) as exc:
            self.say(f"Not undone ({step.label}): {problem(exc)}")
            return
        self.reload_codings(focus=focus)
        self.counts_changed()
        if self.review is not None and isinstance(step, ReviewBack) and focus is not None:
            if focus in self.review.ids:
                self.review.position = self.review.ids.index(focus)
            self.show_suggestion()
        self.say(f"Undone: {step.label}.")

    # ------------------------------------------------------------------------------------------ review

    def _target_coding(self: WorkbenchApp) -> ShownCoding | None:
        """The suggestion under review."""
        assert self.review is not None
        target = self.review.current
        coding = next((c for c in self.shown.codings if c.id == target), None)
        if coding is None:
            self.say("No suggestion is open: space and b move between them.")
        return coding

    def show_suggestion(self: WorkbenchApp) -> None:
        """Open the suggestion at the queue's position in its document, skipping those removed meanwhile."""
        review = self.review
        assert review is not None
        while review.current is not None:
            try:
                with transaction(self.engine, write=False) as session:
                    doc_id = get_coding(session, review.current).document_id
            except SQLAlchemyError as exc:
                self.say(f"Could not read the project: {problem(exc)}")
                return
            except NotFoundError:
                self.say(f"Suggestion {review.current} is gone (a later autocode run removed it); skipped.")
                del review.ids[review.position]
                continue
            break
        target = review.current
        text = self.text_view
        text.target_id = target
        if target is None:
            self._line("#review-bar", Text(f" Review: {len(review.ids)} suggestion(s) in this pass, none after "
                                           "these. Everything is saved."))
            self.say("No more suggestions in this pass. Everything is saved.")
            text.refresh()
            return
        if self.workspace is None or self.workspace.doc_id != doc_id:
            self.open_document(str(doc_id))
        text.select_coding(target)
        self._show_review_bar()

    def _show_review_bar(self: WorkbenchApp) -> None:
        review = self.review
        assert review is not None
        coding = next((c for c in self.shown.codings if c.id == review.current), None)
        if coding is None:
            return
        confidence = f", confidence {coding.confidence:.2f}" if coding.confidence is not None else ""
        source = coding.source or coding.coder
        self._line("#review-bar", Text(
            f" Review [{review.position + 1}/{len(review.ids)}] {coding.code} ({coding.code_name}) from "
            f"{coding.origin} {source}{confidence} [{coding.status}]   a accept · x reject · c recode · "
            "w/n widen/narrow · space next · b back"))

    def action_step(self: WorkbenchApp, step: int) -> None:
        review = self.review
        if review is None:
            self.step_sample(step)
            return
        review.position = min(max(review.position + step, 0), len(review.ids))
        self.show_suggestion()

    def action_decide(self: WorkbenchApp, decision: str) -> None:
        coding = self._target_coding()
        if coding is None:
            return

        def work(session: Session) -> ReviewBack:
            snapshot = rv.snapshot(rv.find_suggestion(session, coding.id, pending_only=False))
            rv.decide(session, coding.id, decision, reviewer=self.coder)
            return ReviewBack(f"{'accepting' if decision == 'accept' else 'rejecting'} suggestion {coding.id}",
                              snapshot)

        step = self._write(work)
        if step is not None:
            self.undo_steps.append(step)
            self.update_codings([coding.id])
            self.counts_changed()
            self._advance(f"{'Accepted' if decision == 'accept' else 'Rejected'} suggestion {coding.id} "
                          f"({coding.code}).")

    def _review_recode(self: WorkbenchApp, slug: str) -> None:
        coding = self._target_coding()
        if coding is None:
            return

        def work(session: Session) -> ReviewBack:
            snapshot = rv.snapshot(rv.find_suggestion(session, coding.id, pending_only=False))
            rv.recode(session, coding.id, slug, reviewer=self.coder)
            return ReviewBack(f"recoding suggestion {coding.id} as {slug}", snapshot)

        step = self._write(work)
        if step is not None:
            self.undo_steps.append(step)
            self.remember([slug])
            self._show_recent()
            self.update_codings([coding.id])
            self.counts_changed()
            self._advance(f"Accepted suggestion {coding.id} as {slug}.")

    def _advance(self: WorkbenchApp, message: str) -> None:
        assert self.review is not None
        self.review.position += 1
        self.show_suggestion()
        if self.review.current is not None:
            self.say(message)
        else:
            self.say(f"{message} No more suggestions in this pass. Everything is saved.")
