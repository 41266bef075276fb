"""The workbench's keys: one table, shown by `?` in the app and by `gripcode workbench --help`.

Plain data, no Textual: the command line prints it without loading the app.
"""

from __future__ import annotations

KEYMAP: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Move (in the text)", (
        ("left right", "a character"),
        ("ctrl+left ctrl+right", "a word (alt+left, alt+right too)"),
        ("up down", "a line"),
        ("[ ]", "the previous / next sentence"),
        ("{ }", "the previous / next paragraph"),
        ("home end", "start / end of the line"),
        ("g G", "start / end of the document (ctrl+home, ctrl+end)"),
        ("pageup pagedown", "a screen"),
    )),
    ("Select", (
        ("shift+arrows", "extend the selection (shift+ctrl by words)"),
        ("v", "selection mode: every move extends the selection"),
        ("s p t", "select the sentence / paragraph / turn at the cursor"),
        ("mouse", "drag to select; a click moves the cursor"),
        ("escape", "clear the selection; back to the text from a pane"),
    )),
    ("Code", (
        ("c", "code the selection: type letters of a code id or name"),
        ("", "(tab marks several codes, enter applies)"),
        ("1 ... 9", "apply recent code 1 to 9 (listed at the foot)"),
        ("o", "next coding under the cursor where codings overlap"),
        ("x delete", "remove the current coding (marked ▶ under Here)"),
        ("e", "recode the current coding"),
        ("w W", "widen it to the sentence / paragraph around it"),
        ("n N", "narrow it to the sentence / paragraph at the cursor"),
        ("m", "memo on the current coding (none: on the paragraph)"),
        ("M", "memo on the document"),
        ("u ctrl+z", "undo the last action (again and again)"),
        ("r f5", "refresh now (it also happens every few seconds)"),
    )),
    ("Review mode (--review)", (
        ("a", "accept the suggestion"),
        ("x", "reject it"),
        ("c e 1 ... 9", "give it another code and accept it"),
        ("w W n N", "widen / narrow it (it stays open for a decision)"),
        ("m", "memo on it"),
        ("space b", "skip to the next suggestion / back"),
    )),
    ("Blind sample (--sample N)", (
        ("space b", "the next / previous unit of the sample, selected (c codes it)"),
        ("", "(in the margin: ▸ a unit to code, ✓ one you have coded)"),
    )),
    ("Panes", (
        ("tab shift+tab", "next / previous pane: documents (enter opens one),"),
        ("", "codebook (enter applies the code), text"),
        ("f2", "hide or show the side panes"),
        ("?", "these keys"),
        ("q ctrl+q", "quit (every action is saved as it is taken)"),
    )),
)


def keymap_text(indent: str = "  ") -> str:
    """The key map as plain text, a section per heading."""
    width = max(len(keys) for _, rows in KEYMAP for keys, _ in rows)
    lines: list[str] = []
    for heading, rows in KEYMAP:
        if lines:
            lines.append("")
        lines.append(heading)
        lines += [f"{indent}{keys.ljust(width)}  {what}" for keys, what in rows]
    return "\n".join(lines)
