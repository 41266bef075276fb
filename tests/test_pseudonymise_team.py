"""A pseudonymised project beside the team layer: a closed reliability round's disagreements are placed on the new
text like units and codings (and back on reverse), and the new project is a project of its own (its own id, none
of the original's merge history). On SQLite, and on PostgreSQL with GRIPCODE_TEST_DB."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import Gripcode
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Document, ProjectInfo, RoundDisagreement, TeamHistory, Unit
from gripcode.privacy import keyfile

PASSPHRASE = "a passphrase for the tests"
CODEBOOK = """\
codebook: rounds-and-names
codes:
  - id: quotas
    name: Export quotas
    definition: Limits on shipping rare earths abroad.
  - id: prices
    name: Price control
    definition: A state that sets prices.
"""
TEXT = """\
Interviewer: Who decided the quotas?
Manager: Margaret Ellison at the ministry decided them in 2010, and Margaret Ellison signed the licences.

Interviewer: And prices?
Manager: A state group publishes reference prices now.
"""


@pytest.fixture(autouse=True)
def _cheap_key_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyfile, "SCRYPT_N", 2**12)
    monkeypatch.setenv("GRIPCODE_KEY_PASSPHRASE", PASSPHRASE)


def read(url: str, work: Any) -> Any:
    engine = make_engine(url)
    try:
        with transaction(engine, write=False) as session:
            return work(session)
    finally:
        engine.dispose()


def disagreements(url: str) -> list[tuple[int, int, str]]:
    def work(session):
        text = session.scalars(select(Document.text)).one()
        return [(d.start, d.end, text[d.start:d.end]) for d in session.scalars(
            select(RoundDisagreement).order_by(RoundDisagreement.seq))]
    return read(url, work)


def test_a_rounds_disagreements_follow_the_new_text_and_the_copy_is_a_project_of_its_own(
        grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    (tmp_path / "ellison.txt").write_text(TEXT, encoding="utf-8")
    grip.ok("import", str(tmp_path / "ellison.txt"), "--kind", "interview")
    for coder in ("ana", "ben"):
        grip.ok("coder", "add", coder)
    grip.ok("round", "start", "r1", "--coders", "ana,ben", "--docs", "1", "--unit", "sentence")
    for coder, codes in (("ana", ("quotas", "prices")), ("ben", ("quotas",))):
        for code, sentence in zip(codes, ("2", "3")):
            Gripcode(grip.url, coder=coder).ok("code", "add", "1", code, "--unit", f"sentence:{sentence}")
    Gripcode(grip.url, coder="ana").ok("code", "edit", "1", "--code", "prices")  # a past version in team_history
    grip.ok("round", "close", "r1")
    before = disagreements(grip.url)
    assert before and any("Ellison" in quote for _, _, quote in before)

    key, new, back = tmp_path / "names.key", tmp_path / "pseudo.db", tmp_path / "back.db"
    grip.ok("pseudonymise", "propose", "--key", str(key))
    grip.ok("pseudonymise", "add", "Margaret Ellison", "--key", str(key))
    grip.ok("pseudonymise", "accept", "--all", "--key", str(key))
    grip.ok("pseudonymise", "apply", "--key", str(key), "--to", str(new))
    new_url = f"sqlite:///{new}"
    after = disagreements(new_url)
    assert len(after) == len(before) and not any("Ellison" in quote for _, _, quote in after)
    sentences = read(new_url, lambda s: {(u.start, u.end) for u in s.scalars(select(Unit).where(
        Unit.kind == "sentence"))})
    assert {(start, end) for start, end, _ in after} <= sentences  # on the new text's sentences, as at close
    ids = [read(url, lambda s: s.get(ProjectInfo, "project_id").value) for url in (grip.url, new_url)]
    assert ids[0] != ids[1]
    assert read(grip.url, lambda s: s.scalar(select(func.count()).select_from(TeamHistory))) > 0
    assert read(new_url, lambda s: s.scalar(select(func.count()).select_from(TeamHistory))) == 0
    assert "all good" in Gripcode(new_url).ok("check").output

    Gripcode(new_url).ok("pseudonymise", "--reverse", "--key", str(key), "--to", str(back))
    assert disagreements(f"sqlite:///{back}") == before
