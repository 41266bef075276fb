"""The demo project: a fresh SQLite database with the study's cases and sample corpus."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from gripcode.analysis.compare import compare_cases
from gripcode.analysis.framework import framework_matrix
from gripcode.analysis.provenance import project_provenance
from gripcode.codebook.loader import parse_codebook, read_codebook_text
from gripcode.codebook.sync import sync_codebook
from gripcode.codebook.testing import run_codebook_tests
from gripcode.coding.csv_import import import_codings_csv
from gripcode.coding.review import decide_many
from gripcode.corpus.cases import add_case
from gripcode.corpus.importer import import_items, read_manifest
from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import COUNTED_STATUS, Coding
from gripcode.db.migrate import init_database
from gripcode.errors import GripcodeError
from gripcode.export.figures import heatmap
from gripcode.export.tables import write_table
from gripcode.nlp.autocode import autocode
from gripcode.reliability.agreement import OVERALL, AgreementResult, compute_agreement
from gripcode.resources import resource_dir

DEMO_CASES = {
    "China": ["role=producer", "region=East Asia", "world_share_estimate_pct=80"],
    "Brazil": ["role=producer", "region=South America"],
    "Kazakhstan": ["role=producer", "region=Central Asia"],
    "Japan-EU importers": ["role=importer", "region=Europe and East Asia"],
}
DEMO_ACTOR = "demo"
DEMO_REVIEWER = "ana"
# The sample reviewer accepts the rules' suggestions for codes whose terms are unambiguous, and rejects those
# of the generic materials code, which names minerals without saying anything about strategy.
DEMO_ACCEPT = ("export-restrictions", "radioactive-byproducts", "heavy-rare-earths")
DEMO_REJECT = ("materials",)
DEMO_CODERS = ("ana", "ben")


def write_outputs(engine: Engine, out: Path) -> list[Path]:
    """The tables and figure a paper would take from the demo project: the comparison of codes by case
    (CSV, XLSX, LaTeX), a framework matrix with quotes, and a heatmap of the share of documents coded."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"compare": out / "compare-by-case", "matrix": out / "framework-matrix.xlsx",
             "figure": out / "share-of-documents-by-case.png"}
    with transaction(engine) as session:
        table = compare_cases(session, by="case", measures=["documents", "share", "coverage"])
        share = compare_cases(session, by="case", measures=["share"])
        matrix = framework_matrix(session, by="case", quotes=2)
        counted = Coding.status == COUNTED_STATUS
        provenance = project_provenance(session, "Cross-case comparison of codes by case",
                                        filters={"by": "case"}, codings=counted)
        matrix_provenance = project_provenance(session, "Framework matrix: cases x codes, two quotes per cell",
                                               codings=counted)
    written = []
    for fmt, suffix in (("csv", ".csv"), ("xlsx", ".xlsx"), ("latex", ".tex")):
        path = paths["compare"].with_suffix(suffix)
        write_table(table, fmt, path, provenance, caption="Codes by case", label="tab:compare-case")
        written.append(path)
    write_table(matrix, "xlsx", paths["matrix"], matrix_provenance, caption="Framework matrix")
    heatmap(share, paths["figure"], provenance, title="Share of documents coded, by case",
            value_label="share of documents")
    return written + [paths["matrix"], paths["figure"]]


def agreement_summary(result: AgreementResult) -> str:
    """Two lines on how far the sample coders agree: pooled over codes, and the spread over codes."""
    overall = next(row for row in result.rows if row["code"] == OVERALL)
    per_code = sorted(row["krippendorff_alpha"] for row in result.rows
                      if row["code"] != OVERALL and row["krippendorff_alpha"] == row["krippendorff_alpha"])
    median = per_code[len(per_code) // 2] if per_code else float("nan")
    return (f"Agreement of {' and '.join(result.selection.coders)} at the paragraph unit "
            f"({len(result.selection.documents)} documents, {overall['units']} paragraph x code decisions): "
            f"Cohen's kappa {overall['cohen_kappa']:.2f}, Krippendorff's alpha {overall['krippendorff_alpha']:.2f} "
            f"pooled; alpha per code median {median:.2f} over {len(per_code)} codes")


def run_demo(folder: Path, say: Callable[[str], None] = print) -> Path:
    """Build the demo project in ``folder`` (which must be new or empty) and return its database file."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise GripcodeError(f"{folder} is not empty; name a new folder for the demo")
    folder.mkdir(parents=True, exist_ok=True)
    db_file = folder / "gripcode.db"
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        init_database(engine)
        say(f"Created a project in {db_file}")
        corpus = resource_dir("corpus")
        with transaction(engine) as session:
            for name, attrs in DEMO_CASES.items():
                add_case(session, name, attrs, DEMO_ACTOR)
            say(f"Added {len(DEMO_CASES)} cases: {', '.join(DEMO_CASES)}")
            report = import_items(session, read_manifest(corpus / "manifest.csv"), actor=DEMO_ACTOR)
        say(f"Imported {len(report.imported)} documents ({report.words} words, {report.units} units) "
            f"from {corpus / 'manifest.csv'}")
        codebook_file = folder / "grip-arm.yaml"
        shutil.copy(resource_dir("codebooks") / "grip-arm.yaml", codebook_file)
        codebook_text = read_codebook_text(codebook_file)
        codebook = parse_codebook(codebook_text, name=str(codebook_file))
        results = run_codebook_tests(codebook)
        passed = sum(r.passed for r in results)
        say(f"Copied the study's codebook to {codebook_file}; its example tests: "
            f"{passed} of {len(results)} codes pass")
        with transaction(engine) as session:
            synced = sync_codebook(session, codebook, codebook_text, actor=DEMO_ACTOR)
        say(f"Synced it into the project: {len(synced.plan.of_kind('added'))} codes, codebook version "
            f"{synced.version.id if synced.version else '-'}")
        with transaction(engine) as session:
            coded = import_codings_csv(session, corpus / "sample-codings.csv", default_coder=DEMO_ACTOR,
                                       actor=DEMO_ACTOR)
        say(f"Added {coded.added} manual codings by the sample coders {' and '.join(coded.coders)} "
            f"from {corpus / 'sample-codings.csv'}")
        auto = autocode(engine, actor=DEMO_ACTOR)
        say(f"Autocoded with the codebook's rules: {auto.suggestions} suggestions as {auto.coder}, "
            "waiting for review")
        with transaction(engine) as session:
            accepted = sum(decide_many(session, "accept", reviewer=DEMO_REVIEWER, code=code)
                           for code in DEMO_ACCEPT)
            rejected = sum(decide_many(session, "reject", reviewer=DEMO_REVIEWER, code=code)
                           for code in DEMO_REJECT)
        say(f"{DEMO_REVIEWER} reviewed part of them: accepted {accepted} ({', '.join(DEMO_ACCEPT)}), "
            f"rejected {rejected} ({', '.join(DEMO_REJECT)}); the rest wait for `gripcode review`")
        with transaction(engine) as session:
            agreement = compute_agreement(session, list(DEMO_CODERS), "paragraph")
        say(agreement_summary(agreement))
        written = write_outputs(engine, folder / "out")
        say(f"Wrote the cross-case outputs to {folder / 'out'}:")
        for path in written:
            say(f"  {path}")
    finally:
        engine.dispose()
    return db_file
