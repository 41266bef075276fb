"""Speaker turns in a .qdpx: a note on the source that lists them, for the turns the text alone does not give.

REFI-QDA has no place for the speaker turns of a text source, and its schema admits no elements of another
namespace. A transcript whose speakers are written in the text ("Ana: ...") needs nothing: importing its
text finds the same turns again. A subtitle file's cues (speaker from a voice tag, start and end times) are
not in the text, so the export adds a note to such a source, a standard ``Note`` other programs show as a
memo on the document, that lists each turn as a line of JSON. gripcode's import recognises the note by its
GUID (derived from the source's GUID), uses the turns instead of looking for speakers in the text, and does
not make the note a memo. A note whose turns do not fit the text is reported and the text decides.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.codebook.refi_common import derived_guid
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import Turn
from gripcode.corpus.segment import speaker_turns
from gripcode.db.models import Unit
from gripcode.db.storable import find_unstorable

TURNS_NOTE_NAME = "Speaker turns (gripcode)"
_HEADER = ("Speaker turns of this document, one a line: [start, end, speaker, begin, end] - start and end are "
           "character positions in the text, begin and end the seconds of the recording (null when not known).")
MAX_SPEAKER = 200  # the length of units.speaker

TurnRow = tuple[int, int, "str | None", "float | None", "float | None"]


def turns_note_guid(source_guid: str) -> str:
    """The GUID of the note that carries a source's turns; the import recognises the note by it."""
    return derived_guid("speaker-turns", source_guid)


def stored_turns(session: Session) -> dict[int, list[TurnRow]]:
    """Every document's turn units in order, by document id."""
    out: dict[int, list[TurnRow]] = {}
    for doc_id, *row in session.execute(select(Unit.document_id, Unit.start, Unit.end, Unit.speaker,
                                               Unit.begin_time, Unit.end_time)
                                        .where(Unit.kind == "turn").order_by(Unit.document_id, Unit.seq)):
        out.setdefault(doc_id, []).append(tuple(row))  # type: ignore[arg-type]
    return out


def _row(turn: Turn) -> TurnRow:
    return (turn.start, turn.end, turn.speaker, turn.begin_time, turn.end_time)


def needs_turns_note(text: str, stored: list[TurnRow]) -> bool:
    """Whether importing ``text`` would not find the ``stored`` turns again by itself."""
    return [_row(t) for t in speaker_turns(text)] != list(stored)


def turns_note_text(stored: list[TurnRow]) -> str:
    lines = [_HEADER] + [json.dumps(list(row), ensure_ascii=False) for row in stored]
    return "\n".join(lines)


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError("a time is not a number of seconds")
    return float(value)


def parse_turns_note(note: str, text: str) -> list[Turn] | str:
    """The turns a note lists, checked against ``text``; or why they cannot be used."""
    if normalise_text(text) != text:
        return "the text changes when it is imported, so the note's positions would not fit it"
    lines = note.strip().split("\n")
    if not lines or lines[0].strip() != _HEADER:
        return "the note does not start as gripcode writes it"
    turns: list[Turn] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            start, end, speaker, begin, finish = json.loads(line)
            if isinstance(start, bool) or isinstance(end, bool) or not isinstance(start, int) \
                    or not isinstance(end, int) or not 0 <= start < end <= len(text):
                raise ValueError("positions outside the text")
            if speaker is not None and (not isinstance(speaker, str) or not speaker.strip()
                                        or len(speaker) > MAX_SPEAKER):
                raise ValueError("speaker is not a name")
            if speaker is not None and find_unstorable(speaker):
                # JSON escapes can spell a NUL or a lone surrogate, which no project can store.
                raise ValueError("speaker holds a character a project cannot store")
            turns.append(Turn(start, end, speaker=speaker, begin_time=_time(begin), end_time=_time(finish)))
        except (ValueError, TypeError) as exc:
            return f"line {number} of the note is not a turn of this text ({exc})"
    return turns
