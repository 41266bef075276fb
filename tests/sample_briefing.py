"""The sample corpus's typeset PDF: a two-column working briefing on Kazakhstan's rare-earth processing.

    python tests/sample_briefing.py   # rewrites corpus/kazakhstan/briefing-rare-earth-processing.pdf

The text is invented for demonstration. ``BLOCKS`` is what the PDF reader must give back as paragraphs
(tests/test_pdf_paragraphs.py reads the committed file against it).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from typeset import Typeset, plain  # noqa: E402

PATH = Path(__file__).resolve().parent.parent / "corpus" / "kazakhstan" / "briefing-rare-earth-processing.pdf"
TITLE = "Processing before mining: Kazakhstan's rare-earth route"
HEADER = "GRIP-ARM working briefing (invented for demonstration)"

BLOCKS: list[tuple[str, str]] = [
    ("p", "This briefing is an invented document written for the gripcode sample corpus. It summarises, in "
          "the manner of a research team's internal note, how Kazakhstan entered the rare-earth business "
          "and which questions the interviews should follow up."),
    ("h", "1. A producer without a mine"),
    ("p", "Kazakhstan did not begin with a rare-earth deposit of its own. It began with a plant. The Summit "
          "Atom Rare Earth Company, known as SARECO, was set up as a joint venture between the national "
          "atomic company and a Japanese trading house, with the aim of recovering rare earths from residues "
          "of earlier uranium processing and, later, from new ore. The partners presented the venture as the "
          "first step of a vertically integrated chain that would one day reach magnets and other finished "
          "products."),
    ("p", "For the Japanese side the venture answered a question of supply. After the crisis of 2010, when "
          "shipments from China were delayed and prices of some elements rose many times over, buyers in "
          "Japan looked for sources they could contract for years ahead. A plant in Central Asia, run with "
          "a state partner that already handled radioactive material, looked like a sensible hedge."),
    ("h", "2. What the plant was meant to do"),
    ("p", "The plan foresaw a separation line producing concentrates of light and heavy elements, with the "
          "heavy fraction, rich in dysprosium, reserved for the Japanese partner. The state partner's "
          "experience with thorium and uranium residues was counted as an asset: the hazardous by-products "
          "of rare-earth processing were to be handled by people who had handled worse. Officials spoke of "
          "the indus|trialisation of the north and of new skilled jobs in a mining town."),
    ("p", "Interviewees tell a more cautious story. Output stayed small, the residues held less than hoped, "
          "and the price of the main products fell soon after the plant opened. A process engineer described "
          "the first years as a school for the staff rather than a business. The rare-earth line, in his "
          "words, taught the company what a rare-|earth chain needs before it can pay for itself."),
    ("h", "3. Questions for the next round"),
    ("p", "The team should ask officials how the subsoil code treats strategic deposits, and whether the "
          "state expects foreign partners to bring technology or only capital. It should ask the Japanese "
          "partner's staff how long contracts were priced, and whether the venture changed after China "
          "lifted its export quotas. And it should ask residents of the town what they were told about the "
          "waste, since the communities near processing sites are rarely heard in the official account."),
    ("p", "Media coverage in Kazakh and Russian followed the opening closely and then fell silent. The "
          "sample corpus holds a few of those items; a comparison with Brazil's coverage of its own projects "
          "would show whether the silence is particular to Kazakhstan or common to producers whose first "
          "plans were larger than their first results."),
]


def typeset() -> Typeset:
    briefing = Typeset(columns=2, size=10.0, height=200.0, header=HEADER, page_numbers=True)
    briefing.title(TITLE)
    for kind, text in BLOCKS:
        (briefing.heading if kind == "h" else briefing.paragraph)(text)
    return briefing


def expected_paragraphs() -> list[str]:
    return [TITLE, *(plain(text) for _, text in BLOCKS)]


if __name__ == "__main__":
    briefing = typeset()
    briefing.pdf.set_title(TITLE)
    briefing.pdf.set_author("GRIP-ARM demonstration team (invented)")
    briefing.pdf.set_creation_date(dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc))  # the same bytes each time
    briefing.save(PATH)
    print(f"wrote {PATH} ({briefing.pages} pages)")
