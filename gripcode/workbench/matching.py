"""Finding a code from a few typed letters (the code picker), without any terminal code.

Matches rank: the id itself; ids that start with the letters; ids or names with a word that starts with them;
ids or names that contain them; ids or names whose letters include them in order (``exr`` finds
export-restrictions). Within a rank, codebook order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class CodeChoice:
    slug: str
    name: str
    color: str


def _in_order(letters: str, text: str) -> int | None:
    """How far apart ``letters`` lie in ``text`` (in order), or None if they do not all occur."""
    at, spread, first = 0, 0, None
    for letter in letters:
        found = text.find(letter, at)
        if found < 0:
            return None
        first = found if first is None else first
        spread, at = found - first, found + 1
    return spread


def rank(query: str, choices: Sequence[CodeChoice]) -> list[CodeChoice]:
    """``choices`` that match ``query``, best first; all of them, in order, for an empty query."""
    letters = "".join(query.lower().split())
    if not letters:
        return list(choices)
    scored: list[tuple[int, int, CodeChoice]] = []
    for position, choice in enumerate(choices):
        slug, name = choice.slug.lower(), choice.name.lower()
        words = _WORDS.findall(slug) + _WORDS.findall(name)
        if slug == letters:
            score = 0
        elif slug.startswith(letters):
            score = 1
        elif any(word.startswith(letters) for word in words):
            score = 2
        elif letters in slug or letters in name:
            score = 3
        else:
            spread = _in_order(letters, slug)
            named = _in_order(letters, name)
            if spread is None and named is None:
                continue
            score = 4 + min(s for s in (spread, named) if s is not None)
        scored.append((score, position, choice))
    return [choice for _, _, choice in sorted(scored, key=lambda item: item[:2])]
