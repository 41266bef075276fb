"""A generated REFI-QDA project, and what importing it must store, computed plainly.

``generate`` makes a project of a few hundred codings: texts with CRLF line breaks, characters outside the Basic
Multilingual Plane and decomposed accents (so stored offsets differ from the file's positions), overlapping
selections, several codings per selection by several coders (and some by nobody named), repeated spans, codings
without a GUID or with one used twice, codings of the whole source, a code the codebook lacks, selections that
cannot be placed, and notes on the project, a source, a selection and a coding, and as a coding's memo field.
``expected`` says what the import stores for each coding, from the model alone: the span is where the file's
code-point positions fall in the normalised text (``len(normalise_text(raw[:position]))`` at a word boundary, a
byte-order mark not counted), the quote is that slice, the coder is the coding's, the selection's or the source's
user, the memo is the coding's memo note or the selection's description, and the first of several codings of one
span wins; and which memos the notes become, on what.
"""

from __future__ import annotations

import random
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from gripcode.corpus.normalize import normalise_text
from gripcode.exchange.qdpx_export import coding_memo_guid

USERS = {"a0000000-0000-4000-8000-00000000000a": "ana", "b0000000-0000-4000-8000-00000000000b": "ben",
         "c0000000-0000-4000-8000-00000000000c": "cai"}
WORDS = ("rare earth export quota magnet mining province ministry price state cafe\u0301 nai\u0308ve "
         "\U0001f600 \U00020000 dysprosium terbium").split()
UNKNOWN_CODE = "dead0000-0000-4000-8000-000000000000"


@dataclass
class GCoding:
    guid: str | None
    code: str
    user: str | None
    created: str | None = None
    notes: list[str] = field(default_factory=list)  # other notes on the coding
    memo: str | None = None  # the text of its memo-field note (gripcode's coding_memo_guid)


@dataclass
class GSelection:
    guid: str
    start: int  # code points of the raw text (a byte-order mark not counted)
    end: int
    name: str | None
    user: str | None
    codings: list[GCoding]
    description: str = ""
    notes: list[str] = field(default_factory=list)
    placeable: bool = True


@dataclass
class GSource:
    guid: str
    name: str
    raw: str
    user: str | None
    selections: list[GSelection]
    whole: list[GCoding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inline: bool = False  # the text in PlainTextContent rather than a file


@dataclass
class GProject:
    codes: dict[str, str]  # guid -> name
    sources: list[GSource]
    notes: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # guid -> (text, user)
    project_notes: list[str] = field(default_factory=list)


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _text(rng: random.Random, crlf: bool) -> tuple[str, list[tuple[int, int]]]:
    """A raw text and its words' (start, end) in code points."""
    out, words, at = [], [], 0
    brk = "\r\n" if crlf else "\n"
    for paragraph in range(rng.randint(3, 5)):
        for line in range(rng.randint(2, 4)):
            for n in range(rng.randint(4, 9)):
                word = rng.choice(WORDS)
                if n:
                    out.append(" ")
                    at += 1
                words.append((at, at + len(word)))
                out.append(word)
                at += len(word)
            out.append(brk)
            at += len(brk)
        out.append(brk)
        at += len(brk)
    return "".join(out), words


def generate(seed: int, sources: int = 8, codes: int = 6) -> GProject:
    rng = random.Random(seed)
    code_guids = {_guid(rng): f"Code {i}" for i in range(codes)}
    code_list = list(code_guids)
    users = [*USERS, None]
    project = GProject(code_guids, [])
    used_guids: list[str] = []

    def coding(user: str | None) -> GCoding:
        guid: str | None = _guid(rng)
        fresh = False
        roll = rng.random()
        if roll < 0.05:
            guid = None
        elif roll < 0.09 and used_guids:
            guid = rng.choice(used_guids)  # a GUID the file repeats: the second gets a new one
        else:
            fresh = True
        made = GCoding(guid, rng.choice(code_list) if rng.random() > 0.02 else UNKNOWN_CODE, user,
                       created=rng.choice([None, "2024-03-01T12:00:00Z", "2024-03-02T08:30:15.1234567Z"]))
        if fresh and rng.random() < 0.08:  # (a GUID with a memo note is never repeated: one note per GUID)
            made.memo = f"memo of a coding {rng.randrange(1000)}"
            project.notes[coding_memo_guid(guid)] = (made.memo, user)  # type: ignore[arg-type]
        elif fresh:
            used_guids.append(guid)  # type: ignore[arg-type]
        if rng.random() < 0.04:
            note = _guid(rng)
            project.notes[note] = (f"a note on a coding {rng.randrange(1000)}", user)
            made.notes.append(note)
        return made

    for number in range(sources):
        raw, words = _text(rng, crlf=number % 3 == 1)
        body = raw
        if number == 2:  # a byte-order mark, which no program counts
            raw = "\ufeff" + raw
        source = GSource(_guid(rng), f"Source {number}", raw, rng.choice(users), [], inline=number == 4)
        for _ in range(rng.randint(10, 25)):
            i = rng.randrange(len(words))
            j = min(len(words) - 1, i + rng.randint(0, 6))
            start, end = words[i][0], words[j][1]
            named = rng.random() < 0.9
            sel = GSelection(_guid(rng), start, end, body[start:end] if named else None, rng.choice(users), [])
            for _ in range(rng.randint(0, 5)):
                sel.codings.append(coding(rng.choice(users)))
            if sel.codings and rng.random() < 0.3:
                sel.codings.append(GCoding(_guid(rng), sel.codings[0].code, sel.codings[0].user))  # a repeat
            if rng.random() < 0.15:
                sel.description = f"  described {rng.randrange(100)} "
            if rng.random() < 0.1:
                note = _guid(rng)
                project.notes[note] = (f"a note on a selection {rng.randrange(1000)}", sel.user)
                sel.notes.append(note)
            source.selections.append(sel)
            if rng.random() < 0.2:  # the same span again as another selection
                source.selections.append(GSelection(_guid(rng), start, end, sel.name, rng.choice(users),
                                                    [coding(rng.choice(users)) for _ in range(2)]))
        # selections that cannot be placed: past the end, and a name that is not the text
        source.selections.append(GSelection(_guid(rng), 3 * len(raw) + 5, 3 * len(raw) + 9, None, None,
                                            [coding(None)], placeable=False))
        s, e = words[1][0], words[2][1]
        source.selections.append(GSelection(_guid(rng), s, e, "a name that is not there", None,
                                            [coding(None)], placeable=False))
        if number % 4 == 0:
            source.whole.append(coding(rng.choice(users)))
        if number % 3 == 0:
            note = _guid(rng)
            project.notes[note] = (f"a note on source {number}", source.user)
            source.notes.append(note)
        project.sources.append(source)
    note = _guid(rng)
    project.notes[note] = ("a note on the project", None)
    project.project_notes.append(note)
    return project


def _coding_xml(c: GCoding) -> str:
    attrs = f" guid={quoteattr(c.guid)}" if c.guid else ""
    if c.user:
        attrs += f" creatingUser={quoteattr(c.user)}"
    if c.created:
        attrs += f" creationDateTime={quoteattr(c.created)}"
    refs = [*([coding_memo_guid(c.guid)] if c.memo and c.guid else []), *c.notes]
    return (f"<Coding{attrs}><CodeRef targetGUID={quoteattr(c.code)}/>"
            + "".join(f"<NoteRef targetGUID={quoteattr(r)}/>" for r in refs) + "</Coding>")


def write_qdpx(project: GProject, path: Path) -> Path:
    parts = ['<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="generated" '
             'origin="gripcode 0.1.0"><Users>']
    parts += [f"<User guid={quoteattr(g)} name={quoteattr(n)}/>" for g, n in USERS.items()]
    parts.append("</Users><CodeBook><Codes>")
    parts += [f"<Code guid={quoteattr(g)} name={quoteattr(n)} isCodable=\"true\"/>" for g, n in project.codes.items()]
    parts.append("</Codes></CodeBook><Sources>")
    files: dict[str, bytes] = {}
    for source in project.sources:
        user = f" creatingUser={quoteattr(source.user)}" if source.user else ""
        where = "" if source.inline else f" plainTextPath={quoteattr(f'internal://{source.guid}.txt')}"
        parts.append(f"<TextSource guid={quoteattr(source.guid)} name={quoteattr(source.name)}{where}{user}>")
        if source.inline:
            parts.append(f"<PlainTextContent>{escape(source.raw, {chr(13): '&#13;'})}</PlainTextContent>")
        else:
            files[f"sources/{source.guid}.txt"] = source.raw.encode("utf-8")
        for sel in source.selections:
            attrs = f" guid={quoteattr(sel.guid)}"
            if sel.name is not None:
                attrs += f" name={quoteattr(sel.name.replace(chr(13), ' '))}"
            if sel.user:
                attrs += f" creatingUser={quoteattr(sel.user)}"
            parts.append(f"<PlainTextSelection{attrs} startPosition=\"{sel.start}\" endPosition=\"{sel.end}\">")
            if sel.description:
                parts.append(f"<Description>{escape(sel.description)}</Description>")
            parts += [_coding_xml(c) for c in sel.codings]
            parts += [f"<NoteRef targetGUID={quoteattr(r)}/>" for r in sel.notes]
            parts.append("</PlainTextSelection>")
        parts += [_coding_xml(c) for c in source.whole]
        parts += [f"<NoteRef targetGUID={quoteattr(r)}/>" for r in source.notes]
        parts.append("</TextSource>")
    parts.append("</Sources><Notes>")
    for guid, (text, user) in project.notes.items():
        by = f" creatingUser={quoteattr(user)}" if user else ""
        parts.append(f"<Note guid={quoteattr(guid)} name=\"n\"{by}><PlainTextContent>{escape(text)}"
                     "</PlainTextContent></Note>")
    parts.append("</Notes>")
    parts += [f"<NoteRef targetGUID={quoteattr(r)}/>" for r in project.project_notes]
    parts.append("</Project>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", "".join(parts).encode("utf-8"))
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def _stored(raw: str, position: int) -> int:
    return len(normalise_text(raw.lstrip("\ufeff")[:position]))


@dataclass
class Expected:
    """A coding as the import must store it; ``guid`` None: a new one (the file's was missing or taken)."""

    document: str
    code: str
    coder: str
    start: int
    end: int
    quote: str
    guid: str | None
    memo: str | None
    created: str | None

    @property
    def key(self) -> tuple[str, str, str, int, int]:
        return (self.document, self.code, self.coder, self.start, self.end)


@dataclass
class ExpectedMemo:
    """A memo as the import must store it: on the project, a document (by title) or a coding (by its key)."""

    target: str
    text: str
    coder: str
    document: str | None = None
    coding: tuple[str, str, str, int, int] | None = None


def _coder(user: str | None) -> str:
    return USERS[user] if user else "import@gripcode"


def expected(project: GProject, present: set[tuple[str, str, str, int, int]] | None = None,
             taken: set[str] | None = None) -> tuple[list[Expected], list[ExpectedMemo]]:
    """The codings an import of ``project`` adds, in the order it adds them, into a project that holds the codings
    ``present`` (document title, code name, coder, start, end) and the coding GUIDs ``taken``; and the memos an
    import into a project without memos adds."""
    present = set(present or ())
    taken = set(taken or ())
    titles: dict[str, str] = {}  # stored text -> the title of the first source with it
    out: list[Expected] = []
    claims: list[tuple[str, ExpectedMemo]] = []  # note -> target, coding claims first, then sources'
    source_claims: list[tuple[str, ExpectedMemo]] = []
    for source in project.sources:
        text = normalise_text(source.raw)
        title = titles.setdefault(text, source.name)
        spans: list[tuple[GSelection | None, GCoding, int, int]] = []
        for sel in source.selections:
            if sel.placeable:
                spans += [(sel, c, _stored(source.raw, sel.start), _stored(source.raw, sel.end))
                          for c in sel.codings]
        left = len(text) - len(text.lstrip())
        spans += [(None, c, left, len(text.rstrip())) for c in source.whole]
        first_of_selection: dict[int, tuple[str, str, str, int, int]] = {}
        for sel, c, start, end in spans:
            if c.code not in project.codes:
                continue
            user = c.user or (sel.user if sel else None) or source.user
            key = (title, project.codes[c.code], _coder(user), start, end)
            if sel is not None:
                first_of_selection.setdefault(id(sel), key)
            claims += [(note, ExpectedMemo("coding", "", "", coding=key)) for note in c.notes]
            if key in present:
                continue
            present.add(key)
            memo = c.memo if c.memo and c.guid else None
            if memo is None and sel is not None and sel.description.strip():
                memo = sel.description.strip()
            guid = c.guid if c.guid and c.guid not in taken else None
            if guid:
                taken.add(guid)
            out.append(Expected(*key, text[start:end], guid, memo, c.created))
        source_claims += [(note, ExpectedMemo("document", "", "", document=title)) for note in source.notes]
        for sel in source.selections:
            if not sel.placeable or not (sel.codings or sel.notes or sel.description.strip()):
                continue
            for note in sel.notes:
                if id(sel) in first_of_selection:
                    source_claims.append((note, ExpectedMemo("coding", "", "", coding=first_of_selection[id(sel)])))
                else:
                    source_claims.append((note, ExpectedMemo("document", "", "", document=title)))
    target: dict[str, ExpectedMemo] = {}
    for note in project.project_notes:
        target.setdefault(note, ExpectedMemo("project", "", ""))
    for note, memo in [*claims, *source_claims]:
        target.setdefault(note, memo)
    memo_fields = {coding_memo_guid(c.guid) for s in project.sources
                   for c in [*(c for sel in s.selections for c in sel.codings), *s.whole] if c.memo and c.guid}
    memos = []
    for note, (text, user) in project.notes.items():
        if note in memo_fields and note not in target:
            continue
        found = target.get(note, ExpectedMemo("project", "", ""))
        memos.append(ExpectedMemo(found.target, text, _coder(user), found.document, found.coding))
    return out, memos
