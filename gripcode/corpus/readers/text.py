"""Plain text files (.txt), including interview transcripts with speaker labels."""

from __future__ import annotations

from pathlib import Path

from gripcode.corpus.decode import decode_text
from gripcode.corpus.limits import ReadLimits, read_bytes
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, Replacements
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError


def require_text(text: str, name: str) -> None:
    """Refuse documents with nothing to code."""
    if not text.strip():
        raise DocumentImportError(f"{name} contains no text.")


def read_decoded(path: Path, encoding: str | None, limits: ReadLimits | None) -> tuple[str, Replacements | None]:
    """The normalised text of a text-based file (within ``limits``), and the invalid bytes decoding replaced."""
    raw, replaced = decode_text(read_bytes(path, limits), name=path.name, encoding=encoding)
    return normalise_text(raw), replaced  # the raw text is let go here: a large file is held once less


def text_document(path: Path, text: str, replaced: Replacements | None) -> ParsedDocument:
    """A plain text file's document, from its decoded and normalised ``text``."""
    require_text(text, path.name)
    return ParsedDocument(text=text, original_name=path.name, title=path.stem, turns=speaker_turns(text),
                          replaced=replaced)


def read_text(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document with the file's normalised text; speaker turns when it is a transcript."""
    text, replaced = read_decoded(path, encoding, limits)
    return [text_document(path, text, replaced)]
