"""Plain text files (.txt), including interview transcripts with speaker labels."""

from __future__ import annotations

from pathlib import Path

from gripcode.corpus.decode import decode_text
from gripcode.corpus.limits import ReadLimits, read_bytes
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError


def require_text(text: str, name: str) -> None:
    """Refuse documents with nothing to code."""
    if not text.strip():
        raise DocumentImportError(f"{name} contains no text.")


def read_text(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document with the file's normalised text; speaker turns when it is a transcript."""
    raw, replaced = decode_text(read_bytes(path, limits), name=path.name, encoding=encoding)
    text = normalise_text(raw)
    del raw  # a large file's text is held once less while it is segmented
    require_text(text, path.name)
    return [ParsedDocument(text=text, original_name=path.name, title=path.stem, turns=speaker_turns(text),
                           replaced=replaced)]
