"""`code import` resolves each document, code and coder once and bulk-inserts: the result must be exactly what
applying the rows one by one with `apply_coding` gives, and the queries must not grow with the rows."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import Gripcode
from sqlalchemy import event, select

from gripcode.coding.csv_import import import_codings_csv
from gripcode.coding.service import apply_coding
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Coder, Coding
from gripcode.errors import GripcodeError

CODEBOOK = """
codebook: speed
codes:
  - id: quotas
    name: Export quotas
  - id: prices
    name: Price control
  - id: tailings
    name: Tailings
"""
TEXTS = [
    "China cut export quotas in 2010. Prices rose sharply.\n\nTailings leaked near Baotou.\n",
    "Brazil licenses strategic minerals. Quotas do not apply.\n\nPrices of oxide fell in 2015.\n",
    "Kazakhstan set up SARECO with Japanese capital.\n\nThe plant recovers rare earths from tailings.\n",
]


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    for index, text in enumerate(TEXTS):
        (tmp_path / f"doc{index}.txt").write_text(text, encoding="utf-8")
        grip.ok("import", str(tmp_path / f"doc{index}.txt"), "--title", f"Document {index}")
    return grip


def random_rows(seed: int, count: int) -> list[dict[str, str]]:
    """Rows placed by quote, span or unit, by three coders, some with memos, no two the same coding."""
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < count:
        doc = rng.randrange(len(TEXTS))
        text = TEXTS[doc]
        code = rng.choice(["quotas", "prices", "tailings"])
        coder = rng.choice(["ana", "ben", "cy"])
        how = rng.choice(["span", "unit", "quote"])
        row = {"document": rng.choice([str(doc + 1), f"Document {doc}"]), "code": code, "coder": coder,
               "memo": rng.choice(["", "", "check the date"])}
        if how == "span":
            start = rng.randrange(len(text) - 10)
            row.update(start=str(start), end=str(start + rng.randint(1, 9)))
            key = (doc, code, coder, "span", row["start"], row["end"])
        elif how == "unit":
            row["unit"] = rng.choice(["paragraph:1", "paragraph:2", "sentence:1"])
            key = (doc, code, coder, "unit", row["unit"])
        else:
            row["quote"] = text.split()[rng.randrange(3)]
            key = (doc, code, coder, "quote", row["quote"])
        if key not in seen:
            seen.add(key)
            rows.append(row)
    return rows


def write_sheet(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["document", "code", "quote", "start", "end", "unit", "coder", "memo"]
    lines = [",".join(columns)] + [",".join(row.get(column, "") for column in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def stored(session) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Every coding with its coder's name (the two paths create coders in a different order)."""
    return sorted(session.execute(select(
        Coding.document_id, Coding.code_id, Coder.name, Coding.start, Coding.end, Coding.quote, Coding.memo,
        Coding.origin, Coding.status, Coding.created_at.is_not(None), Coding.updated_at.is_not(None))
        .join(Coder, Coder.id == Coding.coder_id)).tuples())


def one_by_one(session, rows: list[dict[str, str]]) -> None:  # type: ignore[no-untyped-def]
    """The per-row path: what `gripcode code add` does for each row."""
    for row in rows:
        span = f"{row['start']}:{row['end']}" if row.get("start") else None
        try:
            apply_coding(session, row["document"], row["code"], coder=row["coder"], memo=row["memo"] or None,
                         quote=row.get("quote") or None, span=span, unit=row.get("unit") or None)
        except GripcodeError as exc:
            assert "already" in str(exc)  # two rows that land on the same span: the sheet skips one too


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_bulk_path_stores_what_the_row_by_row_path_stores(project: Gripcode, tmp_path: Path,
                                                              seed: int) -> None:
    rows = random_rows(seed, 40)
    rows = [row for row in rows if "quote" not in row or TEXTS[0].count(row["quote"]) <= 1]
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    engine = make_engine(project.url)
    try:
        with transaction(engine) as session:
            try:
                import_codings_csv(session, sheet, default_coder="ana", actor="ana")
                bulk = stored(session)
            except GripcodeError as exc:  # an ambiguous quote or a repeated coding: the row path must agree
                bulk = str(exc)
            session.rollback()
        with transaction(engine) as session:
            try:
                one_by_one(session, rows)
                single = stored(session)
            except GripcodeError as exc:
                single = str(exc)
            session.rollback()
    finally:
        engine.dispose()
    if isinstance(bulk, str):
        assert isinstance(single, str) or "the same coding as line" in bulk
    else:
        assert bulk == single


def test_queries_do_not_grow_with_the_rows(project: Gripcode, tmp_path: Path) -> None:
    rows = [{"document": f"Document {i % 3}", "code": ["quotas", "prices"][i // 3 % 2],
             "coder": ["ana", "ben"][i // 6 % 2], "start": str(i // 12), "end": str(i // 12 + 5), "memo": ""}
            for i in range(600)]
    unique = {(r["document"], r["code"], r["coder"], r["start"]): r for r in rows}
    sheet = write_sheet(tmp_path / "many.csv", rows)
    engine = make_engine(project.url)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with transaction(engine) as session:
            report = import_codings_csv(session, sheet, default_coder="ana", actor="ana")
    finally:
        engine.dispose()
    assert report.added == len(unique) == 600
    # three documents, two codes, two coders: a handful of look-ups, not two per row
    assert len(statements) < 40, "\n".join(s[:90] for s in statements)  # (each new coder: 7 with its GUID)


def import_or_error(url: str, sheet: Path, chunk_rows: int) -> tuple[object, list[tuple]] | str:
    engine = make_engine(url)
    try:
        with transaction(engine) as session:
            try:
                report = import_codings_csv(session, sheet, default_coder="ana", actor="ana", chunk_rows=chunk_rows)
            except GripcodeError as exc:
                return str(exc)
            result = ((report.added, report.skipped, report.coders), stored(session))
            session.rollback()
            return result
    finally:
        engine.dispose()


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_a_sheet_read_in_chunks_of_three_rows_gives_what_one_chunk_gives(project: Gripcode, tmp_path: Path,
                                                                         seed: int) -> None:
    """Repeated rows in different chunks, rows the project holds, and bad rows: the same result and the same
    message whatever the chunks."""
    rng = random.Random(seed)
    rows = random_rows(seed, 30)
    rows = [row for row in rows if "quote" not in row or TEXTS[0].count(row["quote"]) <= 1]
    # some codings the project already holds
    present = write_sheet(tmp_path / "present.csv", rows[:5])
    project.ok("code", "import", str(present))
    rows += [dict(rows[rng.randrange(len(rows))]) for _ in range(3)] if seed % 2 else []
    if seed >= 6:
        rows.insert(rng.randrange(len(rows)), {"document": "Document 9", "code": "quotas", "coder": "ana",
                                               "start": "0", "end": "4", "memo": ""})
        rows.insert(rng.randrange(len(rows)), {"document": "1", "code": "quotas", "coder": "ben",
                                               "start": "5", "end": "999", "memo": ""})
    sheet = write_sheet(tmp_path / "sheet.csv", rows)
    whole = import_or_error(project.url, sheet, 1_000_000)
    assert import_or_error(project.url, sheet, 3) == whole
    assert import_or_error(project.url, sheet, 1) == whole
    if seed % 2 or seed >= 6:
        assert isinstance(whole, str) and "nothing was imported" in whole
    else:
        assert not isinstance(whole, str) and whole[0][1] == 5  # the five already present are skipped


def test_every_bad_row_is_counted_and_the_first_hundred_listed(project: Gripcode, tmp_path: Path) -> None:
    rows = []
    for i in range(160):
        if i % 2:
            rows.append({"document": "Document 0", "code": "quotas", "coder": "ana", "start": "0", "end": "5",
                         "memo": ""})  # line 3 first, then the same coding on every other line
        else:
            rows.append({"document": "Document 0", "code": "nope", "coder": "ana", "start": "0", "end": "5",
                         "memo": ""})
    sheet = write_sheet(tmp_path / "bad.csv", rows)
    message = import_or_error(project.url, sheet, 7)
    assert isinstance(message, str)
    lines = message.splitlines()
    assert lines[0] == f"{sheet} has 159 bad row(s); nothing was imported:"
    assert len(lines) == 1 + 100 + 1 and lines[-1] == "  ... and 59 more"
    assert lines[1].startswith(f"  {sheet}:2: ") and "nope" in lines[1]
    assert "nope" in lines[2] and lines[3] == f"  {sheet}:5: the same coding as line 3"
    assert lines[100].startswith(f"  {sheet}:102: ")  # lines 2, 4, 5, ..., 102: line 3 is the good one


def test_an_import_after_a_refused_one_on_the_same_connection(project: Gripcode, tmp_path: Path) -> None:
    bad = write_sheet(tmp_path / "bad.csv", [{"document": "Document 0", "code": "nope", "start": "0", "end": "5"}])
    good = write_sheet(tmp_path / "good.csv", [{"document": "Document 0", "code": "quotas", "start": "0",
                                                "end": "5"}])
    engine = make_engine(project.url)
    try:
        for _ in range(2):
            with pytest.raises(GripcodeError, match="1 bad row"):
                with transaction(engine) as session:
                    import_codings_csv(session, bad, default_coder="ana", actor="ana")
            with transaction(engine) as session:
                report = import_codings_csv(session, good, default_coder="ana", actor="ana")
                assert report.added + report.skipped == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_a_sheet_read_as_it_is_parsed_or_decoded_whole_gives_the_same_codings(project: Gripcode, tmp_path: Path,
                                                                             encoding: str) -> None:
    """UTF-8 (with or without a byte-order mark) is read as it is parsed; other encodings are decoded whole.
    The memo's accented letters must come through either way."""
    from gripcode.coding import csv_import

    text = "document,code,start,end,coder,memo\nDocument 0,quotas,0,5,ana,Préface à revoir\n"
    sheet = tmp_path / "sheet.csv"
    sheet.write_bytes(text.encode(encoding))
    assert csv_import._is_utf8(sheet) == (encoding in ("utf-8", "utf-8-sig"))
    result = import_or_error(project.url, sheet, 1_000)
    assert not isinstance(result, str), result
    assert [row[6] for row in result[1]] == ["Préface à revoir"]
