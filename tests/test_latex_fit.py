"""LaTeX tables fit the page: wide ones are set smaller, rotated or split, and pdfLaTeX reports no overfull box.

The layout decisions are checked on the LaTeX text everywhere; where pdfLaTeX is installed (CI installs it),
the tables that `compare`, `matrix`, `agreement`, `retrieve` and `demo` write through the installed program,
and synthetic ones up to 40 columns and 60 rows, are compiled in one document whose preamble loads exactly
the packages the fragments ask for, and the log must not report a box more than 1pt too wide.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gripcode.export.latex_fit import FitColumn, choose_layout, text_width
from gripcode.export.provenance import Provenance
from gripcode.export.tables import render_table

from conftest import PROGRAM

PDFLATEX = shutil.which("pdflatex")
OVERFULL_RE = re.compile(r"Overfull \\hbox \(([0-9.]+)pt too wide\)")
PROV = Provenance(
    what="Synthetic table", codebook="grip-arm, version 1, hash 854a80f9d578", filters={},
    statuses=("accepted",), generated_at=dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc), database="x.db",
)  # fmt: skip


def numbers(rows: int, cols: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.random((rows, cols)) - 0.3, columns=[f"industrial-policy-{i}" for i in range(cols)])
    df.index = pd.Index([f"resource-nationalism-{i}" for i in range(rows)], name="code")
    return df


def by_case(codes: int = 13) -> pd.DataFrame:
    """The demo's comparison: codes x (4 cases x 3 measures), 13 columns with the row labels."""
    cases = ["Brazil", "China", "Japan-EU importers", "Kazakhstan"]
    columns = pd.MultiIndex.from_product([cases, ["documents", "share", "coverage"]], names=["case", None])
    rng = np.random.default_rng(2)
    df = pd.DataFrame(rng.random((codes, 12)), columns=columns)
    df.index = pd.Index([f"industrial-policy-instruments-{i}" for i in range(codes)], name="code")
    return df


def quotes(cols: int) -> pd.DataFrame:
    text = "A quote that goes on for a while about export quotas, licences and the price of separated oxides."
    return pd.DataFrame({f"code-{i}": [text * 2] * 5 for i in range(cols)},
                        index=pd.Index([f"Case {i}" for i in range(5)], name="case"))


# What TeX and the OT1 encoding treat specially, in labels, headers and cells (and Latin accents).
SPECIALS = pd.DataFrame(
    {'"quoted" <a> | b': ['\\{x}$ & #1 ^_% ~', 'ação "x"'], "n": [1, -2]},
    index=pd.Index(['[first] "row"', "São Paulo <br>"], name="code|name"),
)


def latex(df: pd.DataFrame, caption: str, **options: object) -> str:
    return render_table(df, "latex", PROV, caption=caption, **options).decode("utf-8")


def tables(tex: str) -> list[str]:
    return re.findall(r"\\begin\{(?:table|sidewaystable|longtable)\}.*?\\end\{(?:table|sidewaystable|longtable)\}",
                      tex, re.S)


def packages(tex: str) -> set[str]:
    return set(re.search(r"^% Requires in the preamble: \\usepackage\{([^}]*)\}", tex).group(1).split(","))


# ------------------------------------------------------------------------------------------- layout


def test_a_table_that_fits_stays_upright_at_the_document_size() -> None:
    small = pd.DataFrame({"n": [3, 1], "share": [0.5, -0.25]}, index=pd.Index(["trust", "fear"], name="code"))
    tex = latex(small, "Small")
    assert len(tables(tex)) == 1 and r"\begin{table}[htbp]" in tex
    assert not re.search(r"\\(small|footnotesize|scriptsize)|sideways|landscape", tex)
    assert packages(tex) == {"booktabs", "graphicx"}


def test_the_demo_comparison_is_rotated_and_split_between_cases() -> None:
    tex = latex(by_case(), "Codes by case", label="tab:compare-case")
    parts = tables(tex)
    assert len(parts) == 2 and all(p.startswith(r"\begin{sidewaystable}") for p in parts)
    assert packages(tex) == {"booktabs", "graphicx", "rotating"}
    # Each part keeps whole cases (all three measures) and repeats the codes.
    assert r"\multicolumn{3}{c}{Brazil} & \multicolumn{3}{c}{China}" in parts[0]
    assert r"\multicolumn{3}{c}{Japan-EU importers} & \multicolumn{3}{c}{Kazakhstan}" in parts[1]
    for part in parts:
        assert part.count("industrial-policy-instruments-12 &") == 1
    assert r"(part 1 of 2)" in parts[0] and r"\label{tab:compare-case}" in parts[0]
    assert r"(part 2 of 2)" in parts[1] and r"\label{tab:compare-case-part2}" in parts[1]
    assert "% To fit the page it is set in \\footnotesize, on a landscape page, split into 2 tables" in tex
    assert tex.count("% Requires") == 1  # the package and provenance comments come once, at the top


def test_forty_columns_split_into_even_parts_that_repeat_the_row_labels() -> None:
    tex = latex(numbers(12, 40), "Forty")
    parts = tables(tex)
    assert len(parts) > 2
    counts = [p.split("\n")[[i for i, line in enumerate(p.split("\n")) if line == r"\toprule"][0] + 1].count("&")
              for p in parts]
    assert max(counts) - min(counts) <= 1 and sum(counts) == 40
    for part in parts:
        assert all(f"resource-nationalism-{i} &" in part for i in range(12))


def test_a_wide_long_table_breaks_across_landscape_pages() -> None:
    tex = latex(numbers(60, 15), "Long and wide")
    assert r"\begin{landscape}" in tex and r"\begin{longtable}" in tex and "sideways" not in tex
    assert packages(tex) == {"booktabs", "longtable", "pdflscape"}
    assert tex.count(r"\begin{landscape}") == tex.count(r"\end{landscape}") == tex.count(r"\begin{longtable}")


def test_without_row_labels_a_split_repeats_the_first_column() -> None:
    df = numbers(4, 30).reset_index()
    parts = tables(latex(df, "No index", index=False))
    assert len(parts) > 1 and all("resource-nationalism-3 &" in p for p in parts)


def test_paragraph_columns_never_narrower_than_their_longest_word() -> None:
    word = "Internationalisation-of-separation-capacity"
    columns = [FitColumn(["case"], paragraph=False), FitColumn([f"{word} and more words " * 5], paragraph=True)]
    layout = choose_layout(columns, labels=1)
    [part] = layout.parts
    assert part.shares[1] * 345 >= text_width(word.split("-")[0])


# ------------------------------------------------------------------------------------------- pdfLaTeX


def run(*args: str, cwd: Path | None = None) -> str:
    result = subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, f"{args}: {result.stderr}"
    return result.stdout


def compile_fragments(folder: Path, fragments: dict[str, str]) -> str:
    """pdfLaTeX's log for an article that loads the packages the fragments name and inputs each of them."""
    needed: set[str] = set()
    for name, tex in fragments.items():
        (folder / f"{name}.tex").write_text(tex, encoding="utf-8")
        needed |= packages(tex)
    body = "\n".join(f"\\input{{{name}.tex}}\n\\clearpage" for name in fragments)
    (folder / "paper.tex").write_text(
        f"\\documentclass{{article}}\n\\usepackage{{{','.join(sorted(needed))}}}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n", encoding="utf-8")
    # Twice: a longtable settles its column widths over runs (the widest chunk wins on the second).
    for _ in range(2):
        result = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
                                cwd=folder, capture_output=True, text=True, timeout=300)
        if result.returncode:
            break
    log = (folder / "paper.log").read_text(encoding="utf-8", errors="replace")
    errors = "\n".join(line for line in log.splitlines() if line.startswith("!"))
    assert result.returncode == 0, errors[:3000] or log[-3000:]
    return log


@pytest.mark.skipif(PDFLATEX is None, reason="pdflatex is not installed (.ci/run installs it)")
def test_every_table_compiles_without_an_overfull_box(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    run("demo", str(demo))
    db = ["--db", f"sqlite:///{demo / 'gripcode.db'}"]
    # pdfLaTeX sets Latin script only (the fragments say to use XeLaTeX for the rest), so the commands whose
    # output would quote the Chinese and Russian documents are limited to English ones.
    fragments = {
        "demo": (demo / "out" / "compare-by-case.tex").read_text(encoding="utf-8"),
        "compare": run(*db, "compare", "--format", "latex"),
        "compare_codings": run(*db, "compare", "--by", "kind", "--measure", "codings", "--measure", "per10k",
                               "--format", "latex"),
        "matrix": run(*db, "matrix", "--lang", "en", "--format", "latex"),
        "code_document": run(*db, "matrix", "--type", "code-document", "--lang", "en", "--format", "latex"),
        "agreement": run(*db, "agreement", "--coders", "ana,ben", "--unit", "paragraph", "--format", "latex"),
        "retrieve": run(*db, "retrieve", "--lang", "en", "--format", "latex"),
        "wide40": latex(numbers(12, 40), "Forty columns"),
        "long15": latex(numbers(60, 15), "Sixty rows, fifteen columns"),
        "long40": latex(numbers(60, 40), "Sixty rows, forty columns"),
        "by_case": latex(by_case(), "Codes by case"),
        "quotes": latex(quotes(13), "Thirteen columns of quotes"),
        "specials": latex(SPECIALS, 'Every special character: <>|"\\{}$&#^_%~ and São Paulo'),
    }
    assert r"\begin{sidewaystable}" in fragments["demo"]  # the demo's 13 columns needed the room
    log = compile_fragments(tmp_path, fragments)
    too_wide = [float(x) for x in OVERFULL_RE.findall(log)]
    assert [x for x in too_wide if x > 1.0] == [], f"overfull boxes: {too_wide}"


def test_the_comments_at_the_top_cover_every_part() -> None:
    # The quote column and the Russian text are in the last part only; the first comment lines name both.
    df = numbers(3, 12)
    df["quote"] = ["Тарифы на экспорт выросли после того, как министерство ввело новые квоты."] * 3
    tex = latex(df, "Mixed")
    assert len(tables(tex)) > 1 and "array" in packages(tex)
    head = tex.split("\\begin{sidewaystable}")[0]
    assert "XeLaTeX" in head and tex.count("% Requires") == 1 and tex.count("XeLaTeX") == 1
    assert r">{\raggedright" in tables(tex)[-1] and r">{\raggedright" not in tables(tex)[0]
