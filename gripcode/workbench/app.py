"""The workbench app: its panes, what it reads, and how it stays current while other coders work.

Every read is a short read transaction (``transaction(engine, write=False)``) and every action one write
transaction through the library (see ``actions``); none is open while the app waits for a key. The refresh that
runs every few seconds reads in a worker thread and is dropped if an action of the reader's own changed the view
meanwhile, so it never brings back what the reader just changed.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from rich.text import Text
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import Footer, Static

from gripcode.codebook.views import code_tree
from gripcode.coding.worklist import SampleWork, coder_documents, document_filters, sample_work
from gripcode.coding.workspace import DocumentCodings, Workspace, load_document_codings, load_workspace, recent_codes
from gripcode.corpus.documents import find_document
from gripcode.db.engine import transaction
from gripcode.db.models import COUNTED_STATUSES
from gripcode.errors import GripcodeError
from gripcode.team.rounds_access import blind_documents
from gripcode.export.document_view import code_color
from gripcode.workbench.actions import CodingActions, problem
from gripcode.workbench.matching import CodeChoice
from gripcode.workbench.panes import (
    CodebookPane,
    DocumentsPane,
    HerePane,
    InfoPane,
    describe_code,
    describe_document_memos,
    describe_here,
)
from gripcode.workbench.screens import KeysScreen
from gripcode.workbench.serve import SERVER_PID
from gripcode.workbench.text_view import TextView
from gripcode.workbench.undo import Renumbering, UndoStep

T = TypeVar("T")
RECENT = 9
SERVER_CHECK = 2.0  # seconds between checks that the server of a browser tab's app is still there
COUNTS_DELAY = 0.8  # seconds after an action before the counts are read again
NARROW = 110  # below this many columns the side panes start hidden (f2 shows them)


@dataclass
class ReviewQueue:
    """The suggestions of a review pass, in the order asked for, and where the reviewer is."""

    ids: list[int]
    position: int = 0

    @property
    def current(self) -> int | None:
        return self.ids[self.position] if 0 <= self.position < len(self.ids) else None


@dataclass
class ProjectView:
    """What the panes beside the text show, read together: documents, codes and their counts."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)
    sample: SampleWork | None = None  # a blind validation sample's units, which of them the coder has coded
    rounds: dict[int, str] = field(default_factory=dict)  # documents the coder codes blind -> their open round


class WorkbenchApp(CodingActions, App[None]):
    CSS_PATH = Path(__file__).with_name("workbench.tcss")
    TITLE = "gripcode workbench"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "code", "code"),
        *(Binding(str(n), f"recent({n})", show=False) for n in range(1, RECENT + 1)),
        Binding("o", "turn", "next here", show=False),
        Binding("a", "decide('accept')", "accept"),
        Binding("x,delete", "decide('reject')", "reject"),
        Binding("x,delete", "remove", "remove"),
        Binding("e", "recode", "recode"),
        Binding("w", "reshape('sentence', False)", "widen"),
        Binding("W", "reshape('paragraph', False)", show=False),
        Binding("n", "reshape('sentence', True)", "narrow"),
        Binding("N", "reshape('paragraph', True)", show=False),
        Binding("m", "memo", "memo"),
        Binding("M", "document_memo", show=False),
        Binding("space", "step(1)", "next"),
        Binding("b", "step(-1)", show=False),
        Binding("u,ctrl+z", "undo", "undo"),
        Binding("r,f5", "refresh", "refresh"),
        Binding("escape", "escape", show=False),
        Binding("f2", "toggle_panes", show=False),
        Binding("question_mark", "keys", "keys"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, engine: Engine, coder: str, *, doc: str | None = None, blind: bool = False,
                 review: ReviewQueue | None = None, sample: int | None = None, refresh_seconds: float = 5.0) -> None:
        super().__init__()
        blind = blind or sample is not None  # a validation sample is coded blind
        self.engine, self.coder, self.blind, self.review = engine, coder, blind, review
        self.sample_id = sample
        self.sample_position = -1  # the sample unit space and b last went to
        self.refresh_seconds = refresh_seconds
        self.start_doc = doc
        self.statuses: tuple[str, ...] = (*COUNTED_STATUSES, "suggested") if review else COUNTED_STATUSES
        # Blind: everywhere with --blind, and on the documents of the open rounds the coder codes in (read again at
        # every refresh, so a round opened or closed meanwhile takes effect with the next one).
        self.round_documents: dict[int, str] = {}
        self.workspace: Workspace | None = None
        self.shown = DocumentCodings((), ())
        self.project = ProjectView()
        self.code_colors: dict[str, str] = {}
        self.code_order: dict[str, int] = {}  # codebook positions: codings sort as the database sorts them
        self.recent: list[str] = []
        self.undo_steps: list[UndoStep] = []
        self.renumbered = Renumbering()
        self.generation = 0  # counts the reader's own changes: a refresh read before one of them is dropped
        self.panes_toggled = False
        self.last_message = ""
        self._lines: dict[str, Text] = {}
        self._refreshing = False
        self._counts_timer: Timer | None = None
        self._refresh_again: str | None = None  # a refresh asked for while one was running
        with transaction(engine, write=False) as session:
            self.filter_choices = document_filters(session)
            self.recent = recent_codes(session, coder, limit=RECENT)
            self.round_documents = blind_documents(session, coder)
        # Counts of other coders' work are left out for the whole session once the coder codes in a round.
        self.counts_blind = blind or bool(self.round_documents)

    @property
    def only_coder(self) -> str | None:
        """Whose codings the open document shows: the coder's own in blind mode or in a round; else everyone's."""
        return self.only_coder_for(self.workspace.doc_id) if self.workspace is not None else None

    def only_coder_for(self, doc_id: int) -> str | None:
        return self.coder if self.blind or doc_id in self.round_documents else None

    # ------------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield DocumentsPane(self.filter_choices, blind=self.counts_blind, id="documents")
                yield CodebookPane(id="codebook")
            yield TextView(self.coder, id="text")
            with Vertical(id="right"):
                yield HerePane("Here", id="here")
                yield InfoPane("Code", id="code")
                yield InfoPane("Document memos", id="doc-memos")
        yield Static("", id="review-bar")
        yield Static("", id="status")
        yield Static("", id="recent")
        yield Static("", id="message")
        yield Footer()

    @property
    def text_view(self) -> TextView:
        return self.query_one(TextView)

    def on_mount(self) -> None:
        self.query_one("#text").border_title = "Text"
        self.query_one("#review-bar").display = self.review is not None
        with transaction(self.engine, write=False) as session:
            self._apply_project(self._read_project(session))
        self._show_code(None)
        self._show_recent()
        self._apply_panes()
        if self.review is not None:
            self.show_suggestion()
        elif self.start_doc is not None:
            self.open_document(self.start_doc)
        elif self.project.sample is not None and self.project.sample.units:
            self.step_sample(1)
        elif self.project.documents:
            self.open_document(str(self.project.documents[0]["id"]))
        else:
            self.say("No documents yet: gripcode import FILES, then come back.")
        self.text_view.focus()
        if self.refresh_seconds > 0:
            self.set_interval(self.refresh_seconds, self._refresh_in_background)
        server = os.environ.get(SERVER_PID, "")
        if server.isdigit():
            self.set_interval(SERVER_CHECK, lambda: self.watch_server(int(server)))

    def watch_server(self, pid: int) -> None:
        """A browser tab's app, served by textual-serve, quits when its server is gone: a server killed outright
        leaves its apps running (and refreshing) with nobody to show them to."""
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            self.exit()
        except PermissionError:  # a process of another user has the number now: the server is gone
            self.exit()

    def counts_changed(self) -> None:
        """After an action of the reader's: the codebook's and the documents' counts, read in the background a
        moment later (once for a quick run of actions, and not in the middle of the next key press)."""
        if self._counts_timer is not None:
            self._counts_timer.stop()
        self._counts_timer = self.set_timer(COUNTS_DELAY, lambda: self._refresh_in_background(codings=False))

    def on_resize(self, event: Resize) -> None:
        self._apply_panes()

    def _apply_panes(self) -> None:
        shown = (self.size.width >= NARROW) != self.panes_toggled
        for pane in ("#left", "#right"):
            self.query_one(pane).display = shown

    def action_toggle_panes(self) -> None:
        self.panes_toggled = not self.panes_toggled
        self._apply_panes()

    def action_keys(self) -> None:
        self.push_screen(KeysScreen())

    def action_escape(self) -> None:
        text = self.text_view
        if self.focused is not text:
            text.focus()
        elif not text.clear_selection():
            self.say("")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Review keys only in review mode; removing and memos on the document only outside it."""
        if action == "decide":
            return self.review is not None
        if action == "step":
            return self.review is not None or self.sample_id is not None
        if action in ("remove", "document_memo"):
            return self.review is None
        return True

    # ---------------------------------------------------------------------------------------- reading

    def _chosen_filters(self) -> dict[str, Any]:
        return self.query_one(DocumentsPane).filters()

    def _read_project(self, session: Session, filters: dict[str, Any] | None = None) -> ProjectView:
        """The documents (as the pane's filters choose them) and the codes with their counts. In a worker thread
        the filters come from the caller, read on the app's own thread."""
        filters = self._chosen_filters() if filters is None else filters
        sample = None if self.sample_id is None else sample_work(session, self.sample_id, self.coder)
        documents = coder_documents(session, self.coder, others=not self.counts_blind,
                                    only=None if sample is None else sample.doc_ids, **filters)
        return ProjectView(documents, code_tree(session, coder=self.coder if self.counts_blind else None, details=True),
                           sample, blind_documents(session, self.coder))

    def _apply_project(self, project: ProjectView) -> None:
        changed_codes = project.codes != self.project.codes
        self.project = project
        self.round_documents = project.rounds
        self.code_colors = {row["id"]: code_color(row["id"], row["color"]) for row in project.codes}
        self.code_order = {row["id"]: row["position"] for row in project.codes}
        current = self.workspace.doc_id if self.workspace else None
        self.query_one(DocumentsPane).show_rows(project.documents, current)
        if changed_codes:
            self.query_one(CodebookPane).show_codes(project.codes, self.code_colors)
        self._mark_sample()
        self._show_status(self.paragraph_number())

    def _mark_sample(self) -> None:
        """Mark the open document's sample units in the margin (▸ to code, ✓ coded)."""
        sample, workspace = self.project.sample, self.workspace
        if sample is None or workspace is None:
            return
        self.text_view.mark_units([(u.start, u.end, u.coded) for u in sample.units if u.doc_id == workspace.doc_id])

    def step_sample(self, step: int) -> None:
        """Go to the next (``step`` 1) or previous (-1) unit of the sample and select it, so that c codes it."""
        sample = self.project.sample
        if sample is None or not sample.units:
            self.say("The sample has no units.")
            return
        position = self.sample_position + step
        if not 0 <= position < len(sample.units):
            left = len(sample.units) - sample.coded
            self.say(f"{'No unit after this one' if step > 0 else 'No unit before this one'} in sample "
                     f"{sample.sample_id}" + (f"; {left} of its units hold none of your codings yet." if left
                                              else "; every unit holds a coding of yours."))
            return
        unit = sample.units[position]
        if (self.workspace is None or self.workspace.doc_id != unit.doc_id) and not self.open_document(
                str(unit.doc_id)):
            return
        self.sample_position = position
        self.text_view.select_span(unit.start, unit.end)
        self.say(f"Sample {sample.sample_id}: {sample.unit} {unit.seq} of document {unit.doc_id}, unit "
                 f"{position + 1} of {len(sample.units)}" + (" (coded)" if unit.coded else "") + ".")

    def code_choices(self) -> list[CodeChoice]:
        return [CodeChoice(row["id"], row["name"], self.code_colors[row["id"]]) for row in self.project.codes
                if row["status"] == "active"]

    def read(self, work: Callable[[Session], T]) -> T | None:
        """``work`` in a read transaction; a database that cannot be read now is said, not raised (None)."""
        try:
            with transaction(self.engine, write=False) as session:
                return work(session)
        except (GripcodeError, SQLAlchemyError) as exc:
            self.say(f"Could not read the project: {problem(exc)}")
            return None

    def open_document(self, doc_ref: str, *, at: int | None = None) -> bool:
        def load(session: Session) -> Workspace:
            doc_id = find_document(session, doc_ref).id
            return load_workspace(session, str(doc_id), statuses=self.statuses, only_coder=self.only_coder_for(doc_id),
                                  waiting_too=self.review is not None)

        workspace = self.read(load)
        if workspace is None:
            return False
        self.generation += 1
        self.workspace, self.shown = workspace, workspace.shown
        self.text_view.show_document(workspace, at=at)
        self.query_one("#doc-memos", InfoPane).show(describe_document_memos(self.shown.memos))
        self.query_one("#text").border_title = f"{workspace.doc_id}: {workspace.title}"
        self.query_one(DocumentsPane).show_rows(self.project.documents, workspace.doc_id)
        self._mark_sample()
        self.update_here()
        # A long document's layout is tens of thousands of objects that live until another document opens: kept
        # out of the cyclic collector's passes, which otherwise scan them all now and then (0.1 s on 100,000 words,
        # in the middle of a key press). Reference counting still frees them.
        gc.freeze()
        return True

    def reload_codings(self, *, focus: int | None = None) -> None:
        """Read the document's codings and memos again (after an action of the reader's, or a refresh)."""
        if self.workspace is None:
            return
        self.generation += 1
        doc_id = self.workspace.doc_id
        shown = self.read(lambda session: load_document_codings(session, doc_id, statuses=self.statuses,
                                                                only_coder=self.only_coder_for(doc_id),
                                                                waiting_too=self.review is not None))
        if shown is not None:
            self._show_codings(shown, focus=focus)

    def update_codings(self, changed: Sequence[int], *, focus: int | None = None) -> None:
        """Read again only the codings the reader's action ``changed`` (added, edited or removed) and the memos;
        the refresh every few seconds reads the rest."""
        if self.workspace is None:
            return
        self.generation += 1
        doc_id = self.workspace.doc_id
        fresh = self.read(lambda session: load_document_codings(
            session, doc_id, statuses=self.statuses, only_coder=self.only_coder_for(doc_id), coding_ids=changed,
            waiting_too=self.review is not None))
        if fresh is None:
            return
        gone = set(changed)
        merged = [c for c in self.shown.codings if c.id not in gone] + list(fresh.codings)
        merged.sort(key=lambda c: (c.start, c.end, self.code_order.get(c.code, 0), c.coder, c.id))
        self._show_codings(DocumentCodings(tuple(merged), fresh.memos), focus=focus)

    def _show_codings(self, shown: DocumentCodings, *, focus: int | None = None) -> None:
        self.shown = shown
        text = self.text_view
        text.set_codings(shown.codings)
        if focus is not None:
            text.select_coding(focus)
        self.query_one("#doc-memos", InfoPane).show(describe_document_memos(shown.memos))
        self.update_here()

    # ------------------------------------------------------------------------------------- refreshing

    def action_refresh(self) -> None:
        if self.workspace is not None:
            self.reload_codings()
        project = self.read(self._read_project)
        if project is not None:
            self._apply_project(project)
            self.say(f"Refreshed: {len(self.shown.codings)} coding(s) shown in this document.")

    def _refresh_in_background(self, *, codings: bool = True) -> None:
        """Read what other coders changed (``codings``: in the open document too) in a worker thread."""
        if self._refreshing:
            self._refresh_again = "codings" if codings or self._refresh_again == "codings" else "counts"
            return
        self._refreshing = True
        filters = self._chosen_filters()
        self.run_worker(lambda: self._refresh_worker(codings, filters), name="refresh", thread=True,
                        exit_on_error=False)

    def _refresh_worker(self, codings: bool, filters: dict[str, Any]) -> None:
        generation, workspace = self.generation, self.workspace if codings else None
        try:
            with transaction(self.engine, write=False) as session:
                project = self._read_project(session, filters)
                shown = None if workspace is None else load_document_codings(
                    session, workspace.doc_id, statuses=self.statuses,
                    only_coder=self.only_coder_for(workspace.doc_id), waiting_too=self.review is not None)
        except (GripcodeError, SQLAlchemyError) as exc:  # the server away for a moment: the next refresh tries again
            self.call_from_thread(self._refreshed, None, None, None, f"Refresh failed: {problem(exc)}")
            return
        self.call_from_thread(self._refreshed, generation, project, shown)

    def _refreshed(self, generation: int | None, project: ProjectView | None, shown: DocumentCodings | None,
                   problem: str | None = None) -> None:
        self._refreshing = False
        again, self._refresh_again = self._refresh_again, None
        if again is not None:  # asked for while this one was reading: read once more
            self._refresh_in_background(codings=again == "codings")
        if problem is not None:
            self.say(problem)
        if project is None or generation != self.generation:
            return  # the reader changed something meanwhile: the read that follows shows it
        if project != self.project:
            self._apply_project(project)
        if shown is not None and shown != self.shown:
            self._show_codings(shown)

    # ----------------------------------------------------------------------------------- what is shown

    def on_text_view_moved(self, event: TextView.Moved) -> None:
        self.update_here()

    def on_text_view_notice(self, event: TextView.Notice) -> None:
        self.say(event.text)

    def on_documents_pane_filtered(self, event: DocumentsPane.Filtered) -> None:
        project = self.read(self._read_project)
        if project is not None:
            self._apply_project(project)

    def on_documents_pane_chosen(self, event: DocumentsPane.Chosen) -> None:
        if self.review is not None:
            self.say("In review mode the suggestions choose the document; space and b move between them.")
            return
        if self.open_document(str(event.doc_id)):
            self.text_view.focus()

    def on_codebook_pane_highlighted(self, event: CodebookPane.Highlighted) -> None:
        self._show_code(event.slug)

    def on_codebook_pane_chosen(self, event: CodebookPane.Chosen) -> None:
        self.use_codes([event.slug])

    def _show_code(self, slug: str | None) -> None:
        row = next((r for r in self.project.codes if r["id"] == slug), None)
        self.query_one("#code", InfoPane).show(describe_code(row, self.code_colors.get(slug or "")))

    def paragraph_number(self) -> int | None:
        if self.workspace is None:
            return None
        index = self.text_view.units["paragraph"].index_at(self.text_view.cursor.offset)
        paragraphs = self.workspace.paragraphs
        return paragraphs[index].seq if index is not None and index < len(paragraphs) else None

    def update_here(self) -> None:
        text = self.text_view
        current = text.current
        paragraph = self.paragraph_number()
        self.query_one("#here", HerePane).show(describe_here(text.codings_here(), current, self.shown.memos,
                                                             paragraph))
        if current is not None:
            self._show_code(current.code)
        self._show_status(paragraph)

    def _show_status(self, paragraph: int | None) -> None:
        ws, text = self.workspace, self.text_view
        line = Text()
        if ws is not None:
            where = " · ".join(str(v) for v in (ws.case, ws.kind, ws.language) if v)
            line.append(f" {ws.doc_id}: ", style="bold")
            line.append(f"{ws.title[:50]}{'…' if len(ws.title) > 50 else ''}  ")
            line.append(f"{where} · {ws.words:,} words", style="dim")
            if paragraph:
                line.append(f" · ¶{paragraph}", style="dim")
        line.append(f"  │ {self.coder}", style="bold")
        round_name = self.round_documents.get(ws.doc_id) if ws is not None else None
        if round_name is not None:
            line.append(f" round {round_name} (blind)", style="bold yellow")
        elif self.blind:
            line.append(" (blind)", style="bold yellow")
        sample = self.project.sample
        if sample is not None:
            line.append(f"  │ sample {sample.sample_id}: {sample.coded} of {len(sample.units)} {sample.unit}s coded",
                        style="bold")
        selection = text.cursor.selection
        if selection:
            line.append(f"  │ selected {selection[0]}:{selection[1]} ({selection[1] - selection[0]} chars)",
                        style="bold #87afff")
        elif text.selecting:
            line.append("  │ selecting", style="bold #87afff")
        self._line("#status", line)

    def _show_recent(self) -> None:
        line = Text(" recent: ", style="dim")
        for number, slug in enumerate(self.recent, start=1):
            line.append(f"{number} ", style="bold")
            line.append("■ ", style=self.code_colors.get(slug, "#d9d9d9"))
            line.append(f"{slug}  ")
        if not self.recent:
            line.append("none yet (c codes the selection)", style="dim")
        self._line("#recent", line)

    def say(self, message: str) -> None:
        """Tell the reader what happened, on the line above the keys."""
        self.last_message = message
        self._line("#message", Text(f" {message}", style="bold"))

    def _line(self, selector: str, text: Text) -> None:
        """Show ``text`` on one of the status lines (one row each, so the screen is not laid out again)."""
        if self._lines.get(selector) != text:
            self._lines[selector] = text
            self.query_one(selector, Static).update(text, layout=False)

    def remember(self, slugs: list[str]) -> None:
        for slug in reversed(slugs):
            if slug in self.recent:
                self.recent.remove(slug)
            self.recent.insert(0, slug)
        del self.recent[RECENT:]
