"""NUL characters and lone surrogates are refused the same way on SQLite and PostgreSQL, wherever text enters:
document texts and titles, memos, codebook fields."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import CodebookVersion, Coding, Document, Memo
from gripcode.db.storable import UnstorableTextError, find_unstorable

from conftest import Gripcode

CODEBOOK = """\
codebook: nul-test
codes:
  - id: quotas
    name: Quotas
    definition: {definition}
"""


def _count(url: str, model: type) -> int:
    engine = make_engine(url)
    with transaction(engine, write=False) as session:
        n = session.scalar(select(func.count()).select_from(model))
    engine.dispose()
    return n


def test_find_unstorable() -> None:
    assert find_unstorable("São Paulo") is None
    assert find_unstorable("ab\x00c") == (2, "\x00")
    assert find_unstorable({"k": ["ok", "x\ud800"]}) == (1, "\ud800")


def test_a_document_with_a_nul_in_its_title_is_refused_and_nothing_imported(grip: Gripcode, tmp_path: Path) -> None:
    """A file with NUL bytes is refused as binary when decoded; a NUL can still come from a YAML escape in
    front matter (or a PDF's text layer)."""
    (tmp_path / "good.txt").write_text("Quotas fell.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_text('---\ntitle: "Quotas\\0 rose"\n---\nQuotas rose.\n', encoding="utf-8")
    result = grip("import", str(tmp_path / "good.txt"), str(tmp_path / "bad.md"), "--case", "China",
                  "--create-cases")
    assert result.exit_code == 1
    assert result.output.startswith("Error: the title of document 'Quotas\\x00 rose' contains a NUL character "
                                    "(U+0000) at position 6, which a gripcode project cannot store"), result.output
    assert _count(grip.url, Document) == 0


def test_a_codebook_field_with_a_nul_is_refused(grip: Gripcode, tmp_path: Path) -> None:
    (tmp_path / "cb.yaml").write_text(CODEBOOK.format(definition='"Export\\0 quotas."'), encoding="utf-8")
    result = grip("codebook", "sync", str(tmp_path / "cb.yaml"))
    assert result.exit_code == 1 and "NUL character (U+0000)" in result.output, result.output
    assert "Traceback" not in result.output
    assert _count(grip.url, CodebookVersion) == 0


def test_a_coding_memo_with_a_nul_is_refused(grip: Gripcode, tmp_path: Path) -> None:
    from gripcode.coding.service import apply_coding

    (tmp_path / "a.txt").write_text("Export quotas fell.\n", encoding="utf-8")
    grip.ok("import", str(tmp_path / "a.txt"), "--case", "China", "--create-cases")
    (tmp_path / "cb.yaml").write_text(CODEBOOK.format(definition="Export quotas."), encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    engine = make_engine(grip.url)
    with pytest.raises(UnstorableTextError, match=r"the memo of a new coding contains a NUL"):
        with transaction(engine) as session:
            apply_coding(session, "a", "quotas", coder="ana", quote="Export quotas", memo="see\x00 p. 4")
    engine.dispose()
    assert _count(grip.url, Coding) == 0


def test_a_memo_with_a_lone_surrogate_is_refused(grip: Gripcode) -> None:
    from gripcode.coding.memos import add_memo

    engine = make_engine(grip.url)
    with pytest.raises(UnstorableTextError, match=r"contains a lone surrogate \(U\+D800\)"):
        with transaction(engine) as session:
            add_memo(session, "bad \ud800 memo", coder="ana", project=True)
    engine.dispose()
    assert _count(grip.url, Memo) == 0
