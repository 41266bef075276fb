"""Heatmaps: formats by suffix, labels and provenance in the output, deterministic vector files."""

from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gripcode.errors import AnalysisError
from gripcode.export.figures import _text_colour, heatmap
from gripcode.export.provenance import Provenance

WHEN = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def prov() -> Provenance:
    return Provenance(
        what="Code co-occurrence per case",
        codebook="grip-arm, version 3, hash 854a80f9d578",
        filters={"case": ["BR", "KZ"]},
        generated_at=WHEN,
    )


@pytest.fixture
def table() -> pd.DataFrame:
    index = pd.Index(["Trust in institutions", "Fear of crime", "Hope"], name="code")
    columns = pd.Index(["Brazil", "Kazakhstan", "Russia & <Co>"], name="case")
    return pd.DataFrame([[0.9, 0.1, np.nan], [0.0, 0.55, 0.3], [0.25, 1.0, 0.7]], index=index, columns=columns)


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n"), (".svg", b"<?xml"), (".pdf", b"%PDF-")])
def test_writes_the_format_named_by_the_suffix(
    suffix: str, magic: bytes, table: pd.DataFrame, prov: Provenance, tmp_path: Path
) -> None:
    out = tmp_path / f"heat{suffix}"
    heatmap(table, out, prov, title="Codes per case", value_label="Share of documents")
    assert out.read_bytes().startswith(magic)


def test_svg_has_labels_title_colour_bar_and_provenance(
    table: pd.DataFrame, prov: Provenance, tmp_path: Path
) -> None:
    out = tmp_path / "heat.svg"
    heatmap(table, out, prov, title="Codes per case", value_label="Share of documents", fmt_values="{:.1f}")
    svg = out.read_text(encoding="utf-8")
    for text in ("Trust in institutions", "Fear of crime", "Hope", "Brazil", "Kazakhstan", "Codes per case"):
        assert f">{text}<" in svg
    assert ">Russia &amp; &lt;Co&gt;<" in svg  # escaped, as written
    assert ">Share of documents<" in svg and ">code<" in svg and ">case<" in svg
    assert "Source: codebook grip-arm, version 3, hash 854a80f9d578" in svg
    assert ">0.9<" in svg and ">0.6<" in svg  # annotated with fmt_values
    assert svg.count('rotate(-45 ') == 3  # the column labels


def test_cell_text_contrasts_with_the_cell(table: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    assert _text_colour((0.0, 0.0, 0.0, 1.0)) == "white"
    assert _text_colour((0.267, 0.005, 0.329, 1.0)) == "white"  # viridis low end
    assert _text_colour((0.993, 0.906, 0.144, 1.0)) == "black"  # viridis high end
    out = tmp_path / "heat.svg"
    heatmap(table, out, prov, title="t", value_label="v", fmt_values="{:.2f}")
    svg = out.read_text(encoding="utf-8")
    lowest = next(line for line in svg.splitlines() if ">0.00<" in line)
    highest = next(line for line in svg.splitlines() if ">1.00<" in line)
    assert "fill: #ffffff" in lowest and "fill: #ffffff" not in highest


@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_vector_output_is_deterministic(suffix: str, table: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    heatmap(table, first, prov, title="Codes per case", value_label="Share")
    heatmap(table, second, prov, title="Codes per case", value_label="Share")
    assert first.read_bytes() == second.read_bytes()


def test_unknown_suffix_names_the_supported_ones(table: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    with pytest.raises(AnalysisError, match=r"\.png, \.svg, \.pdf"):
        heatmap(table, tmp_path / "heat.jpg", prov, title="t", value_label="v")
    assert not (tmp_path / "heat.jpg").exists()


def test_bad_input_is_an_analysis_error(table: pd.DataFrame, prov: Provenance, tmp_path: Path) -> None:
    out = tmp_path / "heat.png"
    with pytest.raises(AnalysisError, match="empty"):
        heatmap(table.iloc[:0], out, prov, title="t", value_label="v")
    with pytest.raises(AnalysisError, match="numbers"):
        heatmap(table.assign(Brazil=["a", "b", "c"]), out, prov, title="t", value_label="v")
    with pytest.raises(AnalysisError, match="colour map"):
        heatmap(table, out, prov, title="t", value_label="v", cmap="no-such-map")
    with pytest.raises(AnalysisError, match="format"):
        heatmap(table, out, prov, title="t", value_label="v", fmt_values="{:d}")
    with pytest.raises(AnalysisError, match="does not exist"):
        heatmap(table, tmp_path / "missing" / "heat.png", prov, title="t", value_label="v")
    assert not out.exists()


def test_dollar_signs_are_text_not_math(prov: Provenance, tmp_path: Path) -> None:
    df = pd.DataFrame([[1.0, 2.0]], index=["costs $5 and $10"], columns=["a", "b"])
    out = tmp_path / "heat.svg"
    heatmap(df, out, prov, title="Price $ and $", value_label="v")
    svg = out.read_text(encoding="utf-8")
    assert ">costs $5 and $10<" in svg and ">Price $ and $<" in svg


def test_multiindex_labels_are_joined(prov: Provenance, tmp_path: Path) -> None:
    columns = pd.MultiIndex.from_tuples([("BR", "n"), ("KZ", "n")], names=["case", "measure"])
    df = pd.DataFrame([[1, 2], [3, 4]], index=["a", "b"], columns=columns)
    out = tmp_path / "heat.svg"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about for Latin labels
        heatmap(df, out, prov, title="t", value_label="v")
    svg = out.read_text(encoding="utf-8")
    assert ">BR / n<" in svg and ">KZ / n<" in svg and ">case / measure<" in svg
