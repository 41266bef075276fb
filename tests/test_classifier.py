"""The text classifier: training data and labelling, the minimum-data check, learning, hashing, evaluation beside
the rules, suggestions, and storing models in the project."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from gripcode.db.engine import make_engine, transaction
from gripcode.db.models import Code, Coder, Coding, Document, TrainedModel
from gripcode.nlp import classifier
from gripcode.nlp.training_data import (
    collect_training_data,
    coded_document_ids,
    held_out_documents,
    label_units,
    labelled_units,
    labels_unit,
)

from conftest import Gripcode

CODEBOOK = """
codebook: synthetic
codes:
  - id: trade
    name: Trade restrictions
    rules:
      unit: paragraph
      terms:
        en: [quota, quotas]
  - id: env
    name: Environmental damage
  - id: other
    name: Something else
"""

TRADE = ["quota", "quotas", "export", "exports", "licence", "licences", "tariff", "customs", "shipment", "permits"]
ENV = ["tailings", "river", "pollution", "waste", "toxic", "water", "sludge", "contamination", "fish", "runoff"]
NEUTRAL = ["the", "officials", "said", "in", "year", "company", "report", "meeting", "province", "after", "local",
           "new", "week", "staff", "plans"]
FAST = ("--epochs", "4")


def sentence(rng: random.Random, pool: list[str] | None) -> str:
    words = (rng.sample(pool, 3) if pool else []) + rng.sample(NEUTRAL, 4)
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def write_corpus(folder: Path, docs: int, seed: int = 7, prefix: str = "doc") -> dict[str, list[str | None]]:
    """Documents of one-sentence paragraphs about trade, the environment or neither; returns each one's topics."""
    rng = random.Random(seed)
    topics: dict[str, list[str | None]] = {}
    for d in range(docs):
        order: list[str | None] = ["trade"] * 4 + ["env"] * 4 + [None] * 4
        rng.shuffle(order)
        name = f"{prefix}{d:02d}"
        pools = {"trade": TRADE, "env": ENV, None: None}
        (folder / f"{name}.txt").write_text("\n\n".join(sentence(rng, pools[t]) for t in order) + "\n",
                                            encoding="utf-8")
        topics[name] = order
    return topics


def codings_csv(folder: Path, topics: dict[str, list[str | None]], only: int | None = None) -> Path:
    """Paragraph codings by two coders (alternating documents); ``only`` keeps that many rows per code."""
    rows, kept = ["document,code,unit,coder"], {"trade": 0, "env": 0}
    for d, (name, order) in enumerate(topics.items()):
        for i, topic in enumerate(order, start=1):
            if topic is None or (only is not None and kept[topic] >= only):
                continue
            kept[topic] += 1
            rows.append(f"{name},{topic},paragraph:{i},{'ana' if d % 2 else 'ben'}")
    path = folder / "codings.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def engine(grip: Gripcode) -> Iterator[Engine]:
    e = make_engine(grip.url)
    yield e
    e.dispose()


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    (tmp_path / "cb.yaml").write_text(CODEBOOK, encoding="utf-8")
    grip.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    return grip


@pytest.fixture
def coded(project: Gripcode, tmp_path: Path) -> Gripcode:
    """Ten coded documents of a clearly separable task, and two nobody has coded yet."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    topics = write_corpus(corpus, 10)
    write_corpus(corpus, 2, seed=99, prefix="new")
    project.ok("import", *sorted(str(p) for p in corpus.glob("*.txt")), "--lang", "en")
    project.ok("code", "import", str(codings_csv(tmp_path, topics)))
    return project


def add_coding(engine: Engine, doc: str, code: str, start: int, end: int, *, coder: str = "ana",
               origin: str = "manual", status: str = "accepted") -> int:
    with transaction(engine) as s:
        document = s.scalars(select(Document).where(Document.title == doc)).one()
        person = s.scalars(select(Coder).where(Coder.name == coder)).first() or Coder(name=coder)
        coding = Coding(document=document, code=s.scalars(select(Code).where(Code.slug == code)).one(), coder=person,
                        start=start, end=end, quote=document.text[start:end], origin=origin, status=status)
        s.add(coding)
        s.flush()
        return coding.id


# ------------------------------------------------------------------------------------------- training data


@pytest.mark.parametrize(("coding", "labels"), [
    ((0, 100), True),  # the whole unit
    ((10, 20), True),  # a quote inside the unit
    ((50, 150), True),  # covers exactly half of the unit
    ((60, 150), False),  # spills over into less than half of the unit
    ((-50, 40), False),  # covers the first 40% only, and starts before the unit
    ((-50, 160), True),  # a longer coding covering the unit
    ((100, 150), False),  # touches the end only
])
def test_labelling_rule(coding: tuple[int, int], labels: bool) -> None:
    assert labels_unit(0, 100, *coding) is labels


def test_label_units_pools_codes_per_unit() -> None:
    units = [(31, 40), (0, 10), (11, 30)]  # in any order
    # a: a quote in (0, 10), and over half of (31, 40) but little of (11, 30); b: two whole units; c: an edge.
    assert label_units(units, [("a", 2, 5), ("b", 0, 30), ("a", 28, 36), ("c", 39, 60)]) == [
        frozenset({"a"}), frozenset({"a", "b"}), frozenset({"b"})]


def test_held_out_split_is_by_document_fixed_and_never_everything() -> None:
    shas = [f"{i:064x}" for i in range(10)]
    held = held_out_documents(shas, 0.2, seed=0)
    assert len(held) == 2 and held == held_out_documents(reversed(shas), 0.2, seed=0)
    assert held != held_out_documents(shas, 0.2, seed=1)
    assert held_out_documents(shas[:2], 0.9, seed=0) and len(held_out_documents(shas[:2], 0.9, seed=0)) == 1
    assert held_out_documents(shas[:1], 0.5, seed=0) == set()
    assert held_out_documents(shas, 0.2, seed=0, eligible=shas[:3]) <= set(shas[:3])


def test_training_units_use_counted_codings_of_every_coder(project: Gripcode, engine: Engine,
                                                           tmp_path: Path) -> None:
    text = "Quota talks began.\n\nRivers were polluted by tailings.\n\nNothing here.\n"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    second, third = text.index("Rivers"), text.index("Nothing")
    (tmp_path / "b.txt").write_text("Only a suggestion here.\n\nAnd more.\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Nobody coded this.\n", encoding="utf-8")
    project.ok("import", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), str(tmp_path / "c.txt"))
    add_coding(engine, "a", "trade", 0, 18, coder="ana")  # paragraph 1, whole
    add_coding(engine, "a", "env", 0, 5, coder="ben")  # a quote inside paragraph 1, by another coder
    add_coding(engine, "a", "env", 15, second + 2, coder="ben")  # the end of paragraph 1, 2 chars of paragraph 2
    add_coding(engine, "a", "trade", second, second + 20, origin="model", status="rejected")
    suggestion = add_coding(engine, "a", "other", third, third + 13, origin="rule", status="suggested")
    add_coding(engine, "b", "env", 0, 24, origin="rule", status="suggested")

    def labels() -> dict[str, list[set[str]]]:
        with transaction(engine) as s:
            units = labelled_units(s, "paragraph", coded_document_ids(s))
            titles = dict(s.execute(select(Document.id, Document.title)).tuples().all())
        out: dict[str, list[set[str]]] = {}
        for u in units:
            out.setdefault(titles[u.document_id], []).append(set(u.labels))
        return out

    # b has only a suggestion and c nothing: neither is a coded document. a's last paragraph is a negative.
    assert labels() == {"a": [{"trade", "env"}, set(), set()]}
    with transaction(engine) as s:
        s.get(Coding, suggestion).status = "accepted"  # a researcher accepted the rule suggestion
    assert labels() == {"a": [{"trade", "env"}, set(), {"other"}]}


def test_too_little_data_says_how_much_is_needed(project: Gripcode, tmp_path: Path) -> None:
    topics = write_corpus(tmp_path, 3)
    project.ok("import", *sorted(str(p) for p in tmp_path.glob("doc*.txt")), "--lang", "en")
    project.ok("code", "import", str(codings_csv(tmp_path, topics)))
    result = project("model", "train", "--unit", "paragraph")
    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: too little training data: a code needs at least 10 positive paragraph units in the 2 training "
        "documents (the units of 1 of the 3 coded documents are held out for evaluation)")
    assert "the most are: env 8, trade 8" in result.output and "lower --min-units" in result.output
    named = project("model", "train", "--unit", "paragraph", "--codes", "trade", "--min-units", "9")
    assert named.exit_code == 1
    assert "each code needs at least 9 positive paragraph units" in named.output and "; trade 8 " in named.output
    assert project("model", "train", "--unit", "paragraph", "--min-units", "8", "--epochs", "1").exit_code == 0
    unknown = project("model", "train", "--codes", "nope")
    assert unknown.exit_code == 1 and "no code called nope" in unknown.output


# ------------------------------------------------------------------------------------------- learning


def test_model_learns_a_separable_task_on_held_out_documents(coded: Gripcode, engine: Engine) -> None:
    report = classifier.train_model(engine, actor="tester", unit="paragraph")  # the default 10 epochs
    assert report.codes == ["trade", "env"]  # "other" has no codings
    assert report.documents == 10 and report.held_out_documents == 2 and report.held_out_units == 24
    assert report.train_units == 96 and report.positives == {"trade": 32, "env": 32}
    assert report.averages["macro_f1"] is not None and report.averages["macro_f1"] > 0.8
    assert all(s.units == 8 and s.f1 > 0.8 for s in report.scores.values())
    assert report.epochs == 10 and 0 < report.seconds_per_epoch < 1
    with transaction(engine) as s:
        data = collect_training_data(s, unit="paragraph", codes=None, held_out=0.2, seed=0, min_units=10)
    assert not {u.document_id for u in data.train} & {u.document_id for u in data.held_out}


def test_hash_is_stable_and_follows_the_codings(coded: Gripcode, engine: Engine) -> None:
    first = coded.ok("model", "train", "--unit", "paragraph", *FAST).output
    again = coded.ok("model", "train", "--unit", "paragraph", *FAST).output
    name = first.split()[1].rstrip(":")
    assert name.startswith("model@") and len(name) == len("model@") + 12
    assert first.startswith(f"Stored {name}") and again.startswith(f"Replaced {name}")
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(TrainedModel)) == 1
        data_hash = s.scalars(select(TrainedModel.data_hash)).one()
    assert name == f"model@{data_hash[:12]}"
    other_epochs = coded.ok("model", "train", "--unit", "paragraph", "--epochs", "3").output
    assert name not in other_epochs  # settings are part of the hash
    # A neutral paragraph of doc00 becomes a trade paragraph: the training data, and so the name, change.
    with transaction(engine) as s:
        doc = s.scalars(select(Document).where(Document.title == "doc00")).one()
        labelled = {u.start for u in labelled_units(s, "paragraph", [doc.id]) if u.labels}
        start, end = next((u.start, u.end) for u in labelled_units(s, "paragraph", [doc.id])
                          if u.start not in labelled)
    add_coding(engine, "doc00", "trade", start, end)
    changed = coded.ok("model", "train", "--unit", "paragraph", *FAST).output
    assert changed.startswith("Stored model@") and name not in changed


def test_stored_model_reloads_with_identical_scores(coded: Gripcode, engine: Engine) -> None:
    report = classifier.train_model(engine, actor="tester", unit="paragraph", epochs=3)
    with transaction(engine) as s:
        model = classifier.find_model(s)
        units = labelled_units(s, "paragraph", coded_document_ids(s))
        data = collect_training_data(s, unit="paragraph", codes=None, held_out=0.2, seed=0, min_units=10)
    assert model.name == report.name and model.created_by == "tester" and model.unit == "paragraph"
    assert model.codes == ["trade", "env"] and model.settings["batch_size"] == 32
    assert model.metrics["held_out_units"] == 24
    loaded = classifier.predict(classifier.load_classifier(model), units)
    fresh, _ = classifier._train(data.train, data.codes, model.settings)
    assert loaded == classifier.predict(fresh, units)  # same data and settings: the same model, bit for bit
    assert all(0.0 <= v <= 1.0 for scores in loaded for v in scores.values())
    ev = classifier.evaluate_model(engine)
    assert {c: s.as_dict() for c, s in ev.model.items()} == model.metrics["held_out"]


# ------------------------------------------------------------------------------------------- commands


def test_evaluate_shows_rules_beside_the_model(coded: Gripcode) -> None:
    coded.ok("model", "train", "--unit", "paragraph", *FAST)
    table = coded.ok("model", "evaluate").output
    assert "model_f1" in table and "rules_f1" in table and "24 held-out paragraphs of 2 document(s)" in table
    trade = next(line.split() for line in table.splitlines() if line.startswith("trade"))
    env = next(line.split() for line in table.splitlines() if line.startswith("env"))
    assert trade[1] == "8" and env[1] == "8"
    # trade's rule (the term quota) finds only some trade paragraphs but never a wrong one; env has no rules.
    assert trade[5] == "1" and 0 < float(trade[6]) < 1
    assert env[5:] == ["-", "-", "-"]
    rows = json.loads(coded.ok("model", "evaluate", "--format", "json").output)
    by_code = {r["code"]: r for r in rows}
    assert set(by_code) == {"trade", "env", "(micro average)", "(macro average)"}
    assert by_code["env"]["rules_f1"] is None and by_code["trade"]["rules_precision"] == 1.0
    assert by_code["(macro average)"]["model_f1"] > 0.8
    csv_out = coded.ok("model", "evaluate", "--format", "csv").output.splitlines()
    assert csv_out[0] == ",".join(classifier.EVALUATION_COLUMNS) and len(csv_out) == 5
    missing = coded("model", "evaluate", "model@000000000000")
    assert missing.exit_code == 1 and "no model called" in missing.output and "known models: model@" in missing.output


def test_suggest_stores_model_suggestions_once(coded: Gripcode, engine: Engine) -> None:
    name = coded.ok("model", "train", "--unit", "paragraph", *FAST).output.split()[1].rstrip(":")
    dry = coded.ok("model", "suggest", "--dry-run").output
    assert dry.startswith("Would add")
    with transaction(engine) as s:
        assert s.scalar(select(func.count()).select_from(Coding).where(Coding.origin == "model")) == 0
        assert s.scalars(select(Coder).where(Coder.name == name)).first() is None
    out = coded.ok("model", "suggest").output
    assert out.startswith("Added ") and "unit(s) already coded with the suggested code" in out
    with transaction(engine) as s:
        rows = s.execute(select(Coding.origin, Coding.status, Coding.confidence, Coding.model_ref, Coder.name,
                                Coder.kind, Document.title, Coding.start, Coding.end, Coding.code_id)
                         .join(Coding.coder).join(Coding.document)).all()
    model_rows = [r for r in rows if r.origin == "model"]
    assert model_rows and all(r.status == "suggested" and r.model_ref == name and r.name == name
                              and r.kind == "model" and 0.5 <= r.confidence <= 1 for r in model_rows)
    # The new documents get suggestions; the coded paragraphs were not suggested again.
    assert {r.title for r in model_rows} >= {"new00", "new01"}
    manual = {(r.title, r.start, r.end, r.code_id) for r in rows if r.origin == "manual"}
    assert not manual & {(r.title, r.start, r.end, r.code_id) for r in model_rows}
    assert len({(r.title, r.start, r.end, r.code_id) for r in model_rows}) == len(model_rows)
    assert f"Added {len(model_rows)} suggestion(s)" in out
    again = coded.ok("model", "suggest").output
    assert again.startswith("Added 0 suggestion(s)") and f"{len(model_rows)} suggestion(s) already present" in again
    # A newer model replaces the older one's suggestions that nobody has reviewed.
    coded.ok("model", "train", "--unit", "paragraph", "--epochs", "3")
    newer = coded.ok("model", "suggest").output
    assert f"Removed {len(model_rows)} unreviewed suggestion(s) of other models" in newer
    with transaction(engine) as s:
        coders = set(s.scalars(select(Coder.name).join(Coding, Coding.coder_id == Coder.id)
                               .where(Coding.origin == "model")))
    assert len(coders) == 1 and name not in coders
    bad = coded("model", "suggest", "--codes", "other")
    assert bad.exit_code == 1 and "does not know the code(s) other" in bad.output


def test_suggest_leaves_out_codes_retired_since_training(coded: Gripcode, tmp_path: Path) -> None:
    coded.ok("model", "train", "--unit", "paragraph", *FAST)
    (tmp_path / "cb.yaml").write_text(CODEBOOK.replace("    name: Environmental damage\n",
                                                       "    name: Environmental damage\n    retired: true\n"),
                                      encoding="utf-8")
    coded.ok("codebook", "sync", str(tmp_path / "cb.yaml"))
    out = coded.ok("model", "suggest", "--dry-run").output
    assert "Warning: code(s) env are no longer active; not suggested" in out
    assert " trade" in out and " env" not in out.split("\n", 1)[1]
    named = coded("model", "suggest", "--codes", "env")
    assert named.exit_code == 1 and "env of model model@" in named.output and "no longer active" in named.output


def test_list_models(coded: Gripcode) -> None:
    assert "No models yet" in coded.ok("model", "list").output
    name = coded.ok("model", "train", "--unit", "paragraph", *FAST).output.split()[1].rstrip(":")
    [row] = json.loads(coded.ok("model", "list", "--format", "json").output)
    assert row["name"] == name and row["unit"] == "paragraph" and row["codes"] == ["trade", "env"]
    assert row["language"] == "en" and row["train_units"] == 96 and row["macro_f1"] > 0.8


def test_commands_without_spacy_start_fast() -> None:
    code = "import sys, gripcode.cli.model; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
