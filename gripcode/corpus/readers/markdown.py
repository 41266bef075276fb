"""Markdown files with optional YAML front matter (title, date, source, language, case, kind...)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from gripcode.corpus.limits import ReadLimits
from gripcode.corpus.parsed import ParsedDocument, iso_date, jsonable, optional_text
from gripcode.corpus.readers.text import read_decoded, require_text
from gripcode.corpus.segment import speaker_turns
from gripcode.errors import DocumentImportError

_OPENING = re.compile(r"---[ \t]*\n")
# The YAML block ends at the first line that is exactly "---" (or YAML's "...").
_FRONT_MATTER = re.compile(r"---[ \t]*\n(?P<yaml>(?:.*?\n)??)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")

_FIELDS = {"title": "title", "source": "source", "language": "language", "lang": "language",
           "case": "case", "kind": "kind"}


def read_markdown(path: Path, *, encoding: str | None = None,
                  limits: ReadLimits | None = None) -> list[ParsedDocument]:
    """One document: the body after the front matter, with the front matter's fields and metadata."""
    name = path.name
    limits = limits or ReadLimits()
    text, replaced = read_decoded(path, encoding, limits)
    front: dict[str, Any] = {}
    if _OPENING.match(text):
        # Front matter is a few lines of metadata: its end is looked for in the first megabyte only.
        block = _FRONT_MATTER.match(text[:limits.max_front_matter_bytes])
        if block is None:
            if len(text) > limits.max_front_matter_bytes:
                raise DocumentImportError(
                    f"{name} starts a YAML front matter block with '---' that does not close within its first "
                    f"{limits.max_front_matter_bytes:,} characters; front matter is for a few lines of metadata."
                )
            raise DocumentImportError(
                f"{name} starts a YAML front matter block with '---' but never closes it with a '---' line."
            )
        front = _parse_front_matter(block.group("yaml"), name)
        text = text[block.end():]
    text = _LEADING_BLANK_LINES.sub("", text, count=1)
    require_text(text, name)

    doc = ParsedDocument(text=text, original_name=name, title=path.stem, turns=speaker_turns(text),
                         replaced=replaced)
    for key, value in front.items():
        lowered = key.strip().lower()
        field_name = _FIELDS.get(lowered)
        if lowered == "date":
            doc.date = iso_date(value, name)
        elif field_name is not None:
            setattr(doc, field_name, optional_text(value) or getattr(doc, field_name))
        else:
            doc.metadata[key] = jsonable(value)
    return [doc]


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML's safe loader without aliases: ``*name`` lets a few hundred bytes stand for a structure of
    billions of items (every copy turned into JSON metadata is real), and metadata has no use for them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in front matter; write the value out",
                event.start_mark)
        return super().compose_node(parent, index)


def _parse_front_matter(source: str, name: str) -> dict[str, Any]:
    try:
        data = yaml.load(source, Loader=_FrontMatterLoader)  # noqa: S506 - a SafeLoader without aliases
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        # The YAML block starts on line 2 of the file, after the opening '---'.
        where = f" (line {mark.line + 2})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise DocumentImportError(f"{name}: the YAML front matter is not valid{where}: {problem}.") from exc
    except RecursionError:
        # PyYAML composes nested lists and mappings recursively: thousands of '[' exhaust the stack.
        raise DocumentImportError(f"{name}: the YAML front matter is not valid: nested too deeply.") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DocumentImportError(f"{name}: the YAML front matter must be 'key: value' lines.")
    return {str(key): value for key, value in data.items()}
