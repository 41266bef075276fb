"""A small project for the workbench's tests, and helpers to drive the app in Textual's headless harness."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder, Coding, Event, Memo

from conftest import Gripcode

CODEBOOK = """\
codebook: workbench-test
codes:
  - id: export-restrictions
    name: Export restrictions
    color: "#fb8072"
    definition: Limits a state puts on shipping rare earths abroad.
    include: Quotas, licences and bans on exports.
    exclude: Tariffs on imports.
    examples:
      positive: ["The ministry cut export quotas again."]
    rules:
      unit: sentence
      terms:
        en: [export quotas]
  - id: price-control
    name: Price control
    color: "#80b1d3"
    definition: A state that sets or steers prices.
  - id: local-content
    name: Local content
    color: "#b3de69"
    definition: Rules that ore be processed in the country that mines it.
"""

INTERVIEW = """\
Interviewer: How did the export quotas change your work?
Manager: The ministry cut export quotas again in 2010. Prices rose within weeks. We sold more at home.

Interviewer: Did the state set prices?
Manager: Not directly. A state group now publishes reference prices for dysprosium.
"""

POLICY = """\
O governo exige o processamento local das terras raras. A mina de Catalão deve separar os óxidos no país.

As licenças ambientais seguem o rito federal.
"""

MEDIA = """\
SARECO plans a separation plant near Stepnogorsk. Japanese buyers signed a long-term contract for the oxides.
"""

FIRST_SENTENCE = "Interviewer: How did the export quotas change your work?"
MINISTRY = "The ministry cut export quotas again in 2010."
PRICES = "Prices rose within weeks."
SIZE = (150, 40)


def build_project(grip: Gripcode, folder: Path, *, autocode: bool = False) -> Gripcode:
    """Codebook, three documents (an interview with speaker turns, a Portuguese policy note, a media item) in
    three cases, and one coding by ben; with ``autocode``, the rules' suggestions too."""
    (folder / "codebook.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(folder / "codebook.yaml"))
    for name, text, case, kind, lang in (("baotou-refinery-manager.txt", INTERVIEW, "China", "interview", "en"),
                                         ("politica-mineral.txt", POLICY, "Brazil", "policy", "pt"),
                                         ("sareco-plant.txt", MEDIA, "Kazakhstan", "media", "en")):
        (folder / name).write_text(text, encoding="utf-8")
        grip.ok("import", str(folder / name), "--case", case, "--create-cases", "--kind", kind, "--lang", lang)
    Gripcode(grip.url, coder="ben").ok("code", "add", "1", "price-control", "--quote", PRICES)
    if autocode:
        grip.ok("autocode", "--jobs", "0")
    return grip


def run_app(url: str, coder: str, steps: Callable[[Any, Any], Awaitable[None]], **options: Any) -> None:
    """Start the workbench on ``url`` as ``coder`` in the harness and run ``steps(app, pilot)``."""
    from gripcode.workbench.app import WorkbenchApp

    async def main() -> None:
        engine = make_engine(url)
        try:
            app = WorkbenchApp(engine, coder, **{"refresh_seconds": 0, **options})
            async with app.run_test(size=SIZE) as pilot:
                await pilot.pause()
                await steps(app, pilot)
        finally:
            engine.dispose()

    asyncio.run(main())


def screen_text(app: Any) -> str:
    """What the terminal shows, as plain text."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def codings(url: str, **where: Any) -> list[tuple[str, str, int, int, str, str]]:
    """(code, coder, start, end, status, quote) of the project's codings, in text order."""
    from gripcode.coding.service import list_codings

    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            rows = list_codings(session, **where)
    finally:
        engine.dispose()
    return [(r["code"], r["coder"], r["start"], r["end"], r["status"], r["quote"]) for r in rows]


def events(url: str, prefix: str = "") -> list[tuple[str, str]]:
    """(actor, action) of the audit log's events, oldest first."""
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return [tuple(row) for row in session.execute(
                select(Event.actor, Event.action).where(Event.action.startswith(prefix)).order_by(Event.id))]
    finally:
        engine.dispose()


def memos(url: str) -> list[tuple[str | None, str, str, int | None]]:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return [tuple(row) for row in session.execute(
                select(Memo.title, Memo.text, Coder.name, Memo.coding_id).join(Memo.coder).order_by(Memo.id))]
    finally:
        engine.dispose()


def coding_memos(url: str) -> list[str | None]:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return list(session.scalars(select(Coding.memo).order_by(Coding.id)))
    finally:
        engine.dispose()
