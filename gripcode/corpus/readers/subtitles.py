"""Timed transcripts: WebVTT (.vtt) and SubRip (.srt) subtitle files, one turn per cue."""

from __future__ import annotations

import html
import re
from pathlib import Path

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument, Replacements, Turn
from gripcode.corpus.readers.text import read_decoded
from gripcode.corpus.segment import leading_speaker
from gripcode.errors import DocumentImportError

_TIMESTAMP = r"(?:(\d+):)?([0-5]?\d):([0-5]\d)[.,](\d{1,3})"
_TIMING = re.compile(rf"\s*{_TIMESTAMP}\s*-->\s*{_TIMESTAMP}(?:\s.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?[ \t]+([^>]+)>")
_TAG = re.compile(r"</?[^>\n]*>")
_ASS_OVERRIDE = re.compile(r"\{\\[^}]*\}")  # "{\an8}" positioning codes some .srt files carry
_VTT_SKIPPED_BLOCK = re.compile(r"(?:NOTE|STYLE|REGION)(?:[ \t].*)?$")

Block = list[tuple[int, str]]  # (1-based line number, line)


def read_vtt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """A WebVTT file: skips the header, NOTE/STYLE/REGION blocks and cue identifiers."""
    text, replaced = read_decoded(path, encoding, limits)
    blocks = _blocks(text)
    if not blocks or not blocks[0][0][1].startswith("WEBVTT"):
        raise DocumentImportError(f"{path.name} is not a WebVTT file: its first line must be 'WEBVTT'.")
    cues = []
    for block in blocks[1:]:
        if _VTT_SKIPPED_BLOCK.match(block[0][1]):
            continue
        cues.append(_cue(block, path.name, "00:00:01.000 --> 00:00:04.000"))
    return _document(path, cues, replaced)


def read_srt(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """A SubRip file: numbered cues, each with a timing line and text lines."""
    text, replaced = read_decoded(path, encoding, limits)
    cues = [_cue(block, path.name, "00:00:01,000 --> 00:00:04,000") for block in _blocks(text)]
    return _document(path, cues, replaced)


def _blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block = []
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            current.append((number, line))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _cue(block: Block, name: str, example: str) -> tuple[float, float, str | None, str]:
    """Parse one cue block into (begin, end, speaker, text); the timing line is first or second."""
    for position, (number, line) in enumerate(block[:2]):
        if "-->" in line:
            begin, end = _timing(line, number, name, example)
            speaker, text = _cue_text([text for _, text in block[position + 1:]])
            return begin, end, speaker, text
    number, line = block[0]
    raise DocumentImportError(
        f"{name}, line {number}: expected a cue timing line such as '{example}' but found {line.strip()!r}."
    )


def _timing(line: str, number: int, name: str, example: str) -> tuple[float, float]:
    found = _TIMING.match(line)
    if found is None:
        raise DocumentImportError(
            f"{name}, line {number}: malformed cue timing {line.strip()!r}; "
            f"expected a line such as '{example}'."
        )
    groups = found.groups()
    begin, end = _seconds(groups[:4]), _seconds(groups[4:])
    if end < begin:
        raise DocumentImportError(
            f"{name}, line {number}: the cue ends ({end:.3f} s) before it begins ({begin:.3f} s)."
        )
    return begin, end


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, fraction = (part or "0" for part in parts)
    return round(int(hours) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction) / 10 ** len(fraction), 3)


def _cue_text(lines: list[str]) -> tuple[str | None, str]:
    joined = " ".join(line.strip() for line in lines)
    voice = _VOICE.search(joined)
    speaker = " ".join(html.unescape(voice.group(1)).split()) if voice else None
    text = html.unescape(_TAG.sub("", _ASS_OVERRIDE.sub("", joined)))
    text = " ".join(normalise_text(text).split())
    if speaker is None and text:
        speaker = leading_speaker(text)
    return speaker, text


def _document(path: Path, cues: list[tuple[float, float, str | None, str]],
              replaced: Replacements | None) -> list[ParsedDocument]:
    parts: list[str] = []
    turns: list[Turn] = []
    position = 0
    for begin, end, speaker, text in cues:
        if not text:
            continue
        if parts:
            position += 2
        parts.append(text)
        turns.append(Turn(position, position + len(text), speaker=speaker, begin_time=begin, end_time=end))
        position += len(text)
    if not parts:
        raise DocumentImportError(f"{path.name} contains no subtitle cues with text.")
    return [
        ParsedDocument(
            text="\n\n".join(parts),
            original_name=path.name,
            title=path.stem,
            metadata={"timestamps": True},
            turns=turns,
            replaced=replaced,
        )
    ]
