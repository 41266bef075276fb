"""Rich Text Format (.rtf) documents, read with a small tokenizer of our own.

RTF is plain 7-bit text with control words: ``\\par`` ends a paragraph, ``\\'e7`` is a byte in the code page of
the document (``\\ansicpg1251``) or of the current font (``\\fcharset204``), ``\\u1088?`` a Unicode character
followed by a fallback the reader skips (``\\ucN`` says how many), ``{\\*\\dest ...}`` a group a reader may
ignore. The tokenizer keeps what a coder needs and nothing else: paragraphs (empty ones too, which news
exports use to separate blocks), table rows as one paragraph with cells joined by " | ", whether a paragraph is
wholly bold (a Factiva headline is), and the title, author and creation date of the document information.
Font tables, styles, pictures, headers, footers, field instructions and other ignorable groups are skipped, so
no control word reaches the text. A file that does not start with ``{\\rtf`` or whose groups do not close (a
file cut off in a download) is refused rather than read in part. A stray ``}`` that would close the document
while more of it follows is ignored, so that the text after it is read too; braces, white space and NULs after
the document's last group are not text.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from gripcode.corpus.limits import ReadLimits, read_bytes
from gripcode.corpus.normalize import normalise_text
from gripcode.corpus.parsed import ParsedDocument
from gripcode.corpus.readers.text import require_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

_TOKEN = re.compile(
    rb"(?P<control>\\(?P<word>[a-zA-Z]+)(?P<arg>-?\d+)? ?)"
    rb"|\\'(?P<hex>[0-9a-fA-F]{2})"
    rb"|\\(?P<symbol>[^a-zA-Z'])"
    rb"|(?P<open>\{)|(?P<close>\})"
    rb"|(?P<text>[^\\{}\r\n]+)"
    rb"|[\r\n]+|\\"  # line ends are not text in RTF; a lone backslash is a damaged escape, dropped
)
_AFTER_DOCUMENT = re.compile(rb"[ \t\r\n\x00}]*")  # what may follow the document's last group

_SKIP, _BODY, _FONTS, _INFO, _INFO_TEXT, _CREATED = range(6)

# Groups whose content is not text of the document: tables of fonts, colours and styles, pictures and objects,
# headers, footers and notes, field instructions (a field's result is kept), list numbering, revision marks.
_SKIPPED = frozenset((
    "colortbl", "stylesheet", "listtable", "listoverridetable", "revtbl", "rsidtbl", "generator", "pict", "object",
    "header", "headerl", "headerr", "headerf", "footer", "footerl", "footerr", "footerf", "footnote", "annotation",
    "atnid", "atnauthor", "fldinst", "xe", "tc", "bkmkstart", "bkmkend", "txe", "rxe", "pn", "pntext", "listtext",
    "themedata", "colorschememapping", "latentstyles", "datastore", "xmlnstbl", "mmathPr", "pgdsctbl", "filetbl",
    "nonshppict", "shppict", "shp", "do", "template", "docvar", "userprops", "fchars", "lchars",
))
_INFO_FIELDS = frozenset({"title", "author", "subject"})
_CHARACTERS = {
    "emdash": "\u2014", "endash": "\u2013", "bullet": "\u2022", "lquote": "\u2018", "rquote": "\u2019",
    "ldblquote": "\u201c", "rdblquote": "\u201d", "emspace": "\u2003", "enspace": "\u2002",
    "qmspace": "\u2005", "tab": "\t", "line": "\n", "zwj": "\u200d", "zwnj": "\u200c",
}
_SYMBOLS = {b"\\": "\\", b"{": "{", b"}": "}", b"~": "\u00a0", b"_": "\u2011"}
# \fcharsetN: Windows character sets and their code pages (0 and 1: the document's own).
_CHARSETS = {77: "mac_roman", 128: "cp932", 129: "cp949", 130: "johab", 134: "gbk", 136: "cp950",
             161: "cp1253", 162: "cp1254", 163: "cp1258", 177: "cp1255", 178: "cp1256", 186: "cp1257",
             204: "cp1251", 222: "cp874", 238: "cp1250", 254: "cp437", 255: "cp437"}
_CELL_SEPARATOR = " | "
# A parameter is a 16- or 32-bit number; longer digit strings are read as the largest one of their sign.
_MAX_ARGUMENT_DIGITS = 10
_ARGUMENT_BOUND = 2**31
# Groups nested deeper than this are a damaged file (or one made to exhaust memory): word processors write
# a few dozen levels at most.
MAX_GROUP_DEPTH = 1_000
# Control words have at most 32 letters; a longer one is no word this reader knows, and is dropped whole.
_MAX_WORD_LETTERS = 32
# \ucN counts the fallback characters after each \uN: a byte or two in a code page, up to four in UTF-8. A
# larger N (a damaged file) would drop the text that follows; the skip stops at four.
_MAX_FALLBACK = 4


@dataclass
class RtfParagraph:
    text: str
    bold: bool = False  # every letter of it is bold


@dataclass
class RtfText:
    """What an RTF file holds, in reading order; ``paragraphs`` keeps empty paragraphs."""

    paragraphs: list[RtfParagraph]
    info: dict[str, str] = field(default_factory=dict)  # title, author, subject, created (yyyy-mm-dd)


class _State:
    """What a group sets and its subgroups inherit: where its text goes, its font, skip count and bold."""

    __slots__ = ("bold", "dest", "font", "info_key", "intbl", "star", "uc")

    def __init__(self) -> None:
        self.dest, self.font, self.uc, self.bold, self.intbl = _BODY, -1, 1, False, False
        self.star, self.info_key = False, ""

    def copy(self) -> _State:
        state = _State()
        state.dest, state.font, state.uc, state.bold, state.intbl = (
            self.dest, self.font, self.uc, self.bold, self.intbl)
        state.info_key = self.info_key
        return state


class _Reader:
    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name = data, name
        self.codec = "cp1252"
        self.fonts: dict[int, str | None] = {}
        self.defining_font = -1
        self.state = _State()
        self.stack: list[_State] = []
        self.pending = bytearray()  # bytes in the current code page, decoded together (double-byte pages)
        self.skip = 0  # fallback characters still to skip after \uN
        self.high_surrogate = 0
        self.chars: list[str] = []
        self.bold_letters = self.plain_letters = 0
        self.cell_parts: list[str] = []
        self.cells: list[str] = []
        self.paragraphs: list[RtfParagraph] = []
        self.more_at = -1  # a position where the file has more than braces and white space after it
        self.info: dict[str, list[str]] = {}
        self.created: dict[str, int] = {}

    # -- text -------------------------------------------------------------------------------------------

    def flush(self) -> None:
        if self.pending:
            codec = self.fonts.get(self.state.font) or self.codec
            self.emit(self.pending.decode(codec, errors="replace"))
            self.pending.clear()

    def emit(self, text: str) -> None:
        if self.high_surrogate:
            self.high_surrogate = 0
            text = "\ufffd" + text
        dest = self.state.dest
        if dest == _BODY:
            self.chars.append(text)
            letters = len(text) - text.count(" ") - text.count("\t") - text.count("\n")
            if self.state.bold:
                self.bold_letters += letters
            else:
                self.plain_letters += letters
        elif dest == _INFO_TEXT:
            self.info.setdefault(self.state.info_key, []).append(text)

    def unicode(self, value: int) -> None:
        self.flush()
        code = value + 65536 if value < 0 else value
        self.skip = self.state.uc
        if 0xD800 <= code < 0xDC00:
            if self.high_surrogate:
                self.emit("\ufffd")
            self.high_surrogate = code
            return
        if 0xDC00 <= code < 0xE000:
            if self.high_surrogate:
                high, self.high_surrogate = self.high_surrogate, 0
                self.emit(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
            else:
                self.emit("\ufffd")
            return
        self.emit(chr(code) if 0 <= code <= 0x10FFFF else "\ufffd")

    # -- paragraphs and tables --------------------------------------------------------------------------

    def take_text(self) -> tuple[str, bool]:
        text = "".join(self.chars)
        bold = self.bold_letters > 0 and self.plain_letters == 0
        self.chars, self.bold_letters, self.plain_letters = [], 0, 0
        return text, bold

    def end_paragraph(self) -> None:
        if self.state.dest != _BODY:
            return
        text, bold = self.take_text()
        if self.state.intbl:
            self.cell_parts.append(text)
            return
        if self.cells or self.cell_parts:
            self.end_row()
        self.paragraphs.append(RtfParagraph(text, bold))

    def end_cell(self) -> None:
        if self.state.dest != _BODY:
            return
        self.cell_parts.append(self.take_text()[0])
        self.cells.append(" ".join(" ".join(self.cell_parts).split()))
        self.cell_parts = []

    def end_row(self) -> None:
        if self.state.dest != _BODY:
            return
        if self.chars or self.cell_parts:
            self.end_cell()
        if self.cells:
            self.paragraphs.append(RtfParagraph(_CELL_SEPARATOR.join(cell for cell in self.cells if cell)))
        self.cells = []

    # -- the token loop ---------------------------------------------------------------------------------

    def read(self) -> RtfText:
        data, end = self.data, len(self.data)
        start = len(data) - len(data.lstrip())
        if not data.startswith(b"{\\rtf", start):
            raise DocumentImportError(f"{self.name} is not an RTF document: it does not start with '{{\\rtf'.")
        position, finished = start, False
        match = _TOKEN.match
        while position < end:
            token = match(data, position)
            assert token is not None  # every byte matches one of the alternatives
            position = token.end()
            kind = token.lastgroup
            if kind == "text":
                if self.state.dest in (_BODY, _INFO_TEXT):
                    chunk = token.group("text")
                    if self.skip:
                        dropped = min(self.skip, len(chunk))
                        chunk, self.skip = chunk[dropped:], self.skip - dropped
                    self.pending += chunk
            elif kind == "hex":
                if self.skip:
                    self.skip -= 1
                elif self.state.dest in (_BODY, _INFO_TEXT):
                    self.pending.append(int(token.group("hex"), 16))
            elif kind == "control":
                argument = token.group("arg")
                word = token.group("word")
                position = self.control(word.decode("ascii") if len(word) <= _MAX_WORD_LETTERS else "",
                                        _argument(argument) if argument is not None else None, position)
            elif kind == "open":
                self.flush()
                if len(self.stack) >= MAX_GROUP_DEPTH:
                    raise self.damaged(f"its groups are nested more than {MAX_GROUP_DEPTH:,} deep")
                self.stack.append(self.state)
                self.state = self.state.copy()
            elif kind == "close":
                self.flush()
                self.skip = 0
                if len(self.stack) == 1 and self.more_after(position):
                    continue  # a stray brace: the document goes on
                self.state = self.stack.pop()  # the file's first byte opened a group, so there is one
                if not self.stack:
                    finished = True
                    break
            elif kind == "symbol":
                self.symbol(token.group("symbol"))
        if not finished:
            raise self.damaged("it ends before its groups close (the file may be cut off)")
        self.flush()
        self.end_row()
        text, bold = self.take_text()
        if text.strip():
            self.paragraphs.append(RtfParagraph(text, bold))
        return RtfText(self.paragraphs, self.document_info())

    def more_after(self, position: int) -> bool:
        """Whether anything but braces, white space and NULs follows ``position``; each byte is looked at once
        however many stray braces there are."""
        if position <= self.more_at:
            return True
        match = _AFTER_DOCUMENT.match(self.data, position)  # it always matches, if only the empty string
        end = match.end() if match else position
        if end < len(self.data):
            self.more_at = end
            return True
        return False

    def symbol(self, symbol: bytes) -> None:
        if symbol in _SYMBOLS:
            self.flush()
            if self.skip:
                self.skip -= 1
            else:
                self.emit(_SYMBOLS[symbol])
        elif symbol == b"*":
            self.state.star = True
        elif symbol in (b"\n", b"\r"):
            self.flush()
            self.end_paragraph()
        # \- (optional hyphen), \: and \| (index and formula marks) leave nothing in the text

    def control(self, word: str, argument: int | None, position: int) -> int:
        """Apply one control word; returns where reading goes on (after the data of \\bin)."""
        self.flush()
        state = self.state
        if word == "bin":
            skipped = position + max(argument or 0, 0)
            if skipped > len(self.data):
                raise self.damaged("its binary data runs past the end of the file")
            return skipped
        if state.star:
            state.star = False
            state.dest = _SKIP  # {\*\name ...}: a destination this reader does not know
            return position
        if state.dest == _SKIP:
            return position
        if word != "u":
            self.skip = 0
        if state.dest == _FONTS:
            self.font_table(word, argument)
            return position
        if word == "u" and argument is not None:
            self.unicode(argument)
        elif word in ("par", "sect"):
            self.end_paragraph()
        elif word in _CHARACTERS:
            self.emit(_CHARACTERS[word])
        elif word in ("cell", "nestcell"):
            self.end_cell()
        elif word in ("row", "nestrow"):
            self.end_row()
        elif word == "intbl":
            state.intbl = True
        elif word == "pard":
            state.intbl = False
        elif word == "b":
            state.bold = argument != 0
        elif word == "plain":
            state.bold = False
        elif word == "f" and argument is not None:
            state.font = argument
        elif word == "uc" and argument is not None:
            state.uc = max(0, min(argument, _MAX_FALLBACK))
        elif word == "ansicpg" and argument is not None:
            self.codec = _code_page(argument) or self.codec
        elif word in ("mac", "pc", "pca"):
            self.codec = {"mac": "mac_roman", "pc": "cp437", "pca": "cp850"}[word]
        elif word == "deff" and argument is not None:
            state.font = argument
        elif word in _SKIPPED:
            state.dest = _SKIP
        elif word == "fonttbl":
            state.dest = _FONTS
        elif word == "info":
            state.dest = _INFO
        elif state.dest == _INFO:
            self.info_field(word)
        elif state.dest == _CREATED and word in ("yr", "mo", "dy") and argument is not None:
            self.created[word] = argument
        return position

    def font_table(self, word: str, argument: int | None) -> None:
        if argument is None:
            return
        if word == "f":
            self.defining_font = argument
            self.fonts.setdefault(argument, None)
        elif word == "fcharset":
            self.fonts[self.defining_font] = _CHARSETS.get(argument)
        elif word == "cpg":
            self.fonts[self.defining_font] = _code_page(argument) or self.fonts.get(self.defining_font)

    def info_field(self, word: str) -> None:
        if word in _INFO_FIELDS:
            self.state.dest, self.state.info_key = _INFO_TEXT, word
        elif word == "creatim":
            self.state.dest = _CREATED
        else:
            self.state.dest = _SKIP

    def document_info(self) -> dict[str, str]:
        info = {key: " ".join(normalise_text("".join(parts)).split()) for key, parts in self.info.items()}
        info = {key: value for key, value in info.items() if value}
        try:
            info["created"] = dt.date(self.created["yr"], self.created["mo"], self.created["dy"]).isoformat()
        except (KeyError, ValueError, OverflowError):  # missing, or a year such as 9999999999
            pass
        return info

    def damaged(self, why: str) -> DocumentImportError:
        return DocumentImportError(f"{self.name} cannot be read as an RTF document: {why}. It may be damaged; "
                                   f"open it in a word processor and save it again.")


def _argument(digits: bytes) -> int:
    """A control word's parameter, clamped to what a 32-bit parameter holds (a damaged file may have more)."""
    negative = digits.startswith(b"-")
    if len(digits) - negative > _MAX_ARGUMENT_DIGITS:
        return -_ARGUMENT_BOUND if negative else _ARGUMENT_BOUND
    return max(-_ARGUMENT_BOUND, min(int(digits), _ARGUMENT_BOUND))


def _code_page(number: int) -> str | None:
    name = {65001: "utf-8", 10000: "mac_roman", 437: "cp437", 20866: "koi8_r"}.get(number, f"cp{number}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def parse_rtf(data: bytes, name: str) -> RtfText:
    """The paragraphs and document information of RTF ``data`` (the file called ``name``)."""
    return _Reader(data, name).read()


def rtf_lines(rtf: RtfText, max_chars: int | None = None) -> tuple[list[str], list[bool]]:
    """Each paragraph's lines (a ``\\line`` break starts a new one), empty paragraphs as empty lines, and
    whether each line is bold; only the first paragraphs up to about ``max_chars`` characters, if given."""
    lines: list[str] = []
    bold: list[bool] = []
    chars = 0
    for paragraph in rtf.paragraphs:
        if max_chars is not None and chars > max_chars:
            break
        chars += len(paragraph.text) + 1
        for line in normalise_text(paragraph.text.replace("\x00", "")).split("\n"):
            lines.append(line)
            bold.append(paragraph.bold)
    return lines, bold


def rtf_document(path: Path, rtf: RtfText) -> ParsedDocument:
    """One document: the non-empty paragraphs (table rows included) joined by blank lines."""
    cleaned = (normalise_text(paragraph.text.replace("\x00", "")).strip() for paragraph in rtf.paragraphs)
    text = "\n\n".join(part for part in cleaned if part)
    require_text(text, path.name)
    return ParsedDocument(
        text=text,
        original_name=path.name,
        title=rtf.info.get("title") or path.stem,
        date=rtf.info.get("created"),
        metadata={key: rtf.info[key] for key in ("author", "subject") if key in rtf.info},
        turns=speaker_turns(text),
    )


def read_rtf(path: Path, *, encoding: str | None = None, limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """An ordinary RTF document (news exports in RTF are told apart in ``readers.news``)."""
    return [rtf_document(path, parse_rtf(read_bytes(path, limits), path.name))]
