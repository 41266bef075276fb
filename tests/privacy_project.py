"""The sample project the pseudonymisation tests share: the sample corpus with its codings, and the invented
interviews with names in corpus/named (English, Portuguese, Russian and Chinese) coded by ana and ben."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from gripcode.codebook.loader import parse_codebook, read_codebook_text
from gripcode.codebook.sync import sync_codebook
from gripcode.coding.csv_import import import_codings_csv
from gripcode.corpus.cases import add_case
from gripcode.corpus.importer import import_items, read_manifest
from gripcode.db.engine import transaction
from gripcode.db.migrate import init_database
from gripcode.demo import DEMO_CASES
from gripcode.resources import resource_dir

NAMED = resource_dir("corpus") / "named"
PASSPHRASE = "correct horse battery staple"
# The values the tests accept, and the ones that must not survive in anything a pseudonymised project exports.
PEOPLE = ["Margaret Ellison", "Tomás Ferreira", "Luísa Carvalho", "Rafael Nogueira", "Ержан Касымов",
          "Ольга Петренко", "王建国", "李娜"]
SURNAMES = ["Ellison", "Ferreira", "Carvalho", "Nogueira", "Касымов", "Петренко"]
OTHERS = ["Hartwell Metals", "margaret.ellison@hartwell-metals.example", "+44 20 7946 0321",
          "https://www.hartwell-metals.example/reports", "luisa.carvalho@prefeitura-exemplo.example",
          "+7 701 555 12 34"]
# Inflected forms in the Russian interview that the Cyrillic endings must catch.
INFLECTED = ["Ольгой Петренко", "Касымова"]


def build_sample_project(engine: Engine) -> None:
    init_database(engine)
    corpus = resource_dir("corpus")
    with transaction(engine) as session:
        for name, attrs in DEMO_CASES.items():
            add_case(session, name, attrs, "tester")
        items = read_manifest(corpus / "manifest.csv") + read_manifest(NAMED / "manifest.csv")
        import_items(session, items, actor="tester")
    codebook_file = resource_dir("codebooks") / "grip-arm.yaml"
    body = read_codebook_text(codebook_file)
    with transaction(engine) as session:
        sync_codebook(session, parse_codebook(body, name=str(codebook_file)), body, actor="tester")
    with transaction(engine) as session:
        import_codings_csv(session, corpus / "sample-codings.csv", default_coder="tester", actor="tester")
        import_codings_csv(session, NAMED / "codings.csv", default_coder="tester", actor="tester")


def sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else None
