"""The workbench's dialogs: the code picker, the memo editor and the key map."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from gripcode.workbench.keys import keymap_text
from gripcode.workbench.matching import CodeChoice, rank

_SHOWN = 60


def steady(field: Input) -> Input:
    """A text field whose cursor does not blink: the same picture every time (in a browser, on a slow link)."""
    field.cursor_blink = False
    return field


class CodePicker(ModalScreen[list[str] | None]):
    """Type a few letters of a code's id or name; tab marks several codes, enter applies (the marked ones, or the
    highlighted one), escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        Binding("tab", "mark", "mark", priority=True),
        Binding("down", "cursor(1)", show=False, priority=True),
        Binding("up", "cursor(-1)", show=False, priority=True),
    ]

    def __init__(self, title: str, choices: Sequence[CodeChoice], *, several: bool = True) -> None:
        super().__init__()
        self.title_text, self.choices, self.several = title, list(choices), several
        self.marked: list[str] = []
        self.shown: list[CodeChoice] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label(self.title_text, id="picker-title")
            yield Input(placeholder="letters of a code's id or name", id="picker-input")
            yield OptionList(id="picker-list")
            hint = "enter applies · tab marks several · escape cancels" if self.several else \
                "enter chooses · escape cancels"
            yield Label(hint, id="picker-hint")

    def on_mount(self) -> None:
        self._fill("")
        steady(self.query_one(Input)).focus()

    def _fill(self, query: str) -> None:
        self.shown = rank(query, self.choices)[:_SHOWN]
        options = self.query_one(OptionList)
        options.set_options(Option(self._prompt(choice), id=choice.slug) for choice in self.shown)
        if self.shown:
            options.highlighted = 0

    def _prompt(self, choice: CodeChoice) -> Text:
        text = Text("✓ " if choice.slug in self.marked else "  ", style="bold")
        text.append("■ ", style=choice.color)
        text.append(choice.slug, style="bold")
        text.append(f"  {choice.name}", style="dim")
        return text

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def action_cursor(self, step: int) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            options.highlighted = min(max((options.highlighted or 0) + step, 0), len(self.shown) - 1)

    def _highlighted(self) -> str | None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.shown:
            return None
        return self.shown[options.highlighted].slug

    def action_mark(self) -> None:
        slug = self._highlighted()
        if slug is None or not self.several:
            return
        if slug in self.marked:
            self.marked.remove(slug)
        else:
            self.marked.append(slug)
        options = self.query_one(OptionList)
        choice = next(c for c in self.shown if c.slug == slug)
        options.replace_option_prompt(slug, self._prompt(choice))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        slug = self._highlighted()
        chosen = list(self.marked) or ([slug] if slug else [])
        self.dismiss(chosen or None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(list(self.marked) or [str(event.option.id)])

    def action_cancel(self) -> None:
        self.dismiss(None)


class MemoEditor(ModalScreen[str | None]):
    """One line of memo text; enter saves, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(id="memo"):
            yield Label(self.title_text, id="memo-title")
            yield Input(self.text, placeholder="the memo", id="memo-input")
            yield Label("enter saves · escape cancels", id="memo-hint")

    def on_mount(self) -> None:
        steady(self.query_one(Input)).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class KeysScreen(ModalScreen[None]):
    """The key map; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="keys"):
            yield Static(keymap_text(), id="keys-text")

    def on_mount(self) -> None:
        self.query_one("#keys").border_title = "Keys (escape closes)"

    def action_close(self) -> None:
        self.dismiss(None)
