"""The panes beside the text: documents (with filters), the codebook tree, the codings and memos at the cursor, and
the selected code's definition. They show what the app hands them and say what the reader chose; none of them
reads the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Select, Static, Tree

from gripcode.coding.workspace import ShownCoding, ShownMemo

ANY = Select.NULL
CODED_CHOICES = (("coded by me", "yes"), ("not coded by me", "no"))


def swatch(color: str) -> Text:
    """A square in the code's colour, to start a line with (the colour is the square's alone)."""
    text = Text()
    text.append("■ ", style=color)
    return text


class DocumentsPane(Vertical):
    """Filters and the list of documents with their words and codings; enter (or a click) opens one."""

    class Chosen(Message):
        def __init__(self, doc_id: int) -> None:
            super().__init__()
            self.doc_id = doc_id

    class Filtered(Message):
        """The filters changed: the app lists the documents again."""

    def __init__(self, choices: dict[str, list[str]], *, blind: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self.choices, self.blind = choices, blind
        self.border_title = "Documents"

    def compose(self) -> ComposeResult:
        for key, prompt in (("case", "any case"), ("kind", "any kind"), ("language", "any language")):
            yield Select([(value, value) for value in self.choices[key]], prompt=prompt, id=f"filter-{key}",
                         compact=True)
        yield Select(list(CODED_CHOICES), prompt="coded or not", id="filter-coded", compact=True)
        yield DataTable(id="documents-table", cursor_type="row", zebra_stripes=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in ("id", "words", "mine", *(() if self.blind else ("all",)), "title"):
            table.add_column(column, key=column)
        self.shown_rows: list[dict[str, Any]] = []

    def filters(self) -> dict[str, Any]:
        values = {key: self.query_one(f"#filter-{key}", Select).value for key in ("case", "kind", "language", "coded")}
        coded = values.pop("coded")
        found: dict[str, Any] = {key: (None if value == ANY else value) for key, value in values.items()}
        found["coded_by_me"] = None if coded == ANY else coded == "yes"
        return found

    def show_rows(self, rows: Sequence[dict[str, Any]], current: int | None) -> None:
        table = self.query_one(DataTable)
        if [row["id"] for row in rows] == [row["id"] for row in self.shown_rows]:
            # The same documents: only counts changed (after an action, or another coder's), written in place.
            for old, new in zip(self.shown_rows, rows):
                for column, key in (("mine", "mine"), ("all", "codings")):
                    if key in new and old.get(key) != new[key]:
                        table.update_cell(str(new["id"]), column, str(new[key]))
            self.shown_rows = list(rows)
            if current is not None and any(row["id"] == current for row in rows):
                table.move_cursor(row=table.get_row_index(str(current)), animate=False)
            return
        self.shown_rows = list(rows)
        table.clear()
        for row in rows:
            title = row["title"] if len(row["title"]) <= 60 else row["title"][:59] + "…"
            cells = [str(row["id"]), f"{row['words']:,}", str(row["mine"])]
            if not self.blind:
                cells.append(str(row["codings"]))
            table.add_row(*cells, title, key=str(row["id"]))
        if current is not None and any(row["id"] == current for row in rows):
            table.move_cursor(row=table.get_row_index(str(current)), animate=False)
        self.border_subtitle = f"{len(rows)} shown"

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self.post_message(self.Filtered())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Chosen(int(event.row_key.value)))


class CodebookPane(Tree[str]):
    """The code tree with each code's number of codings (the coder's own in a blind round)."""

    class Highlighted(Message):
        def __init__(self, slug: str) -> None:
            super().__init__()
            self.slug = slug

    class Chosen(Message):
        def __init__(self, slug: str) -> None:
            super().__init__()
            self.slug = slug

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("Codebook", id=id)
        self.show_root = False
        self.guide_depth = 2
        self.border_title = "Codebook"

    def show_codes(self, rows: Sequence[dict[str, Any]], colors: dict[str, str]) -> None:
        shape = [(row["id"], row["parent"]) for row in rows]
        if shape == getattr(self, "_code_shape", None):
            # The same tree: only counts, names or colours changed, so the labels are written in place.
            for row in rows:
                self._code_nodes[row["id"]].set_label(self._label(row, colors[row["id"]]))
            return
        self._code_shape = shape
        self.clear()
        self._code_nodes: dict[str, Any] = {}
        parents = {None: self.root}
        for row in rows:
            parent = parents.get(row["parent"], self.root)
            node = parent.add(self._label(row, colors[row["id"]]), data=row["id"], expand=True)
            parents[row["id"]] = node
            self._code_nodes[row["id"]] = node
            if not any(other["parent"] == row["id"] for other in rows):
                node.allow_expand = False

    @staticmethod
    def _label(row: dict[str, Any], color: str) -> Text:
        label = swatch(color)
        label.append(f"{row['codings']:>3} ", style="dim")
        label.append(row["id"], style="" if row["status"] == "active" else "dim strike")
        if row["suggested"]:
            label.append(f" +{row['suggested']}", style="dim italic")
        return label

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.Highlighted(event.node.data))

    def on_tree_node_selected(self, event: Tree.NodeSelected[str]) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.Chosen(event.node.data))


def describe_here(codings: Sequence[ShownCoding], current: ShownCoding | None, memos: Sequence[ShownMemo],
                  paragraph: int | None) -> Text:
    """The codings under the cursor (the current one marked) and the memos on them and on the paragraph."""
    text = Text()
    if not codings:
        text.append("No coding here.\n", style="dim")
    for coding in codings:
        mark = "▶ " if current is not None and coding.id == current.id else "  "
        text.append(mark)
        text.append_text(swatch(coding.color))
        text.append(f"{coding.code}\n", style="bold")
        state = "" if coding.status == "accepted" else f" · {coding.status}"
        confidence = f" {coding.confidence:.2f}" if coding.confidence is not None else ""
        text.append(f"    {coding.coder}{state}{confidence} · #{coding.id} · {coding.start}:{coding.end}\n",
                    style="dim")
        if coding.memo:
            text.append(f"    memo: {coding.memo}\n", style="italic")
    ids = {coding.id for coding in codings}
    title = f"paragraph {paragraph}" if paragraph else None
    here = [m for m in memos if m.coding_id in ids or (m.coding_id is None and title and m.title == title)]
    if here:
        text.append("\nMemos here\n", style="bold")
        for memo in here:
            about = f"#{memo.coding_id}" if memo.coding_id else memo.title
            text.append(f"  {memo.text}", style="italic")
            text.append(f"  ({memo.coder}, {about})\n", style="dim")
    return text


def describe_document_memos(memos: Sequence[ShownMemo]) -> Text:
    text = Text()
    notes = [m for m in memos if m.coding_id is None]
    if not notes:
        text.append("No memos on this document.", style="dim")
    for memo in notes:
        about = f" ({memo.coder}, {memo.title})" if memo.title else f" ({memo.coder})"
        text.append(memo.text, style="italic")
        text.append(about + "\n", style="dim")
    return text


def describe_code(row: dict[str, Any] | None, color: str | None) -> Text:
    """A code's name, definition, include and exclude notes and examples."""
    if row is None:
        return Text("Highlight a code in the codebook, or move onto a coding.", style="dim")
    text = swatch(color or "#d9d9d9")
    text.append(f"{row['id']}\n", style="bold")
    text.append(f"{row['name']}\n")
    if row["status"] != "active":
        text.append(f"({row['status']})\n", style="dim")
    for field, label in (("definition", "Definition"), ("include", "Include"), ("exclude", "Exclude")):
        value = " ".join(str(row.get(field) or "").split())
        if value:
            text.append(f"\n{label}: ", style="bold")
            text.append(value + "\n")
    examples = row.get("examples") or {}
    for kind, label in (("positive", "Example"), ("negative", "Not an example")):
        for example in examples.get(kind, []):
            value = example.get("text") if isinstance(example, dict) else str(example)
            text.append(f"\n{label}: ", style="bold")
            text.append(f"“{' '.join(str(value).split())}”\n", style="italic")
    return text


class InfoPane(VerticalScroll):
    """A titled, scrolling box of text."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self.body = Static("", classes="info-body")
        self.shown: Text | None = None

    def compose(self) -> ComposeResult:
        yield self.body

    def show(self, text: Text) -> None:
        if text != self.shown:  # the screen is laid out again only when the text changes
            self.shown = text
            self.body.update(text)


class HerePane(Static):
    """What is under the cursor: a box of fixed size that changes at almost every move, so it is drawn again
    without laying out the screen (a long list is cut at the box's foot)."""

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.border_title = title
        self.shown: Text | None = None

    def show(self, text: Text) -> None:
        if text != self.shown:
            self.shown = text
            self.update(text, layout=False)
