"""The autocoding pipelines per language: terms and patterns in Portuguese, Chinese, Russian and Kazakh,
a missing trained pipeline, and saving a pipeline with its rules."""

from __future__ import annotations

import socket
import subprocess
import sys
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from gripcode.codebook.loader import parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.nlp import pipelines
from gripcode.nlp.languages import spacy_lang
from gripcode.nlp.pipelines import PipelineSet, build_pipeline
from gripcode.nlp.rules import COMPONENT, DEFAULT_SPANS_KEY

CODEBOOK = """
codebook: languages
codes:
  - id: rare-earths
    name: Rare earths
    rules:
      terms:
        en: [rare earths, rare earth]
        pt: [terras raras, exportação, mineração]
        zh: [稀土]
        ru: [редкие металлы]
        xx: [сирек жер металдары]
      patterns:
        ru:
          - [{LOWER: {REGEX: "^редкоземельн"}}]
  - id: state
    name: State
    rules:
      terms:
        zh: [国家战略]
        ru: [национальная стратегия]
        xx: [мемлекет]
  - id: old
    name: Old
    retired: true
    rules:
      terms:
        pt: [minério]
"""


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return parse_codebook(CODEBOOK)


def spans(nlp: Any, text: str) -> list[tuple[str, str, str]]:
    """(code, rule reference, matched text) of every span, checking the offsets index ``text``."""
    doc = nlp(text)
    out = []
    for span in doc.spans[DEFAULT_SPANS_KEY]:
        assert text[span.start_char:span.end_char] == span.text
        out.append((span.label_, span.kb_id_, span.text))
    return out


def test_portuguese_terms_match_whatever_the_case_and_accents(cb: Codebook) -> None:
    nlp = build_pipeline(cb, "pt-BR")
    assert nlp.lang == "pt"
    assert spans(nlp, "As Terras Raras do Brasil; a EXPORTAÇÃO cresce e a Mineração também.") == [
        ("rare-earths", "term:terras raras", "Terras Raras"),
        ("rare-earths", "term:exportação", "EXPORTAÇÃO"),
        ("rare-earths", "term:mineração", "Mineração"),
    ]
    # The accent matters: "exportacao" is another word. A retired code's term never matches.
    assert spans(nlp, "A exportacao de minério caiu.") == []
    # English terms are not applied to Portuguese text.
    assert spans(nlp, "rare earths") == []


def test_a_term_typed_in_decomposed_form_matches_stored_text(cb: Codebook) -> None:
    decomposed = unicodedata.normalize("NFD", "exportação")
    assert decomposed != "exportação"
    nlp = build_pipeline(parse_codebook(CODEBOOK.replace("exportação", decomposed)), "pt")
    # Imported text is NFC.
    assert spans(nlp, unicodedata.normalize("NFC", "A exportação caiu.")) == [
        ("rare-earths", "term:exportação", "exportação")]


def test_chinese_terms_match_inside_words_with_character_segmentation(cb: Codebook) -> None:
    nlp = build_pipeline(cb, "zh")
    assert [t.text for t in nlp.make_doc("稀土集团")] == ["稀", "土", "集", "团"]
    assert spans(nlp, "中国稀土集团在国家战略中地位重要。") == [
        ("rare-earths", "term:稀土", "稀土"),
        ("state", "term:国家战略", "国家战略"),
    ]
    assert spans(nlp, "中国稀有金属") == []


def test_chinese_without_jieba_falls_back_to_characters_with_a_warning(cb: Codebook,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = pipelines.importlib.util.find_spec
    monkeypatch.setattr(pipelines.importlib.util, "find_spec",
                        lambda name, *a: None if name == "jieba" else real_find_spec(name, *a))
    warnings: list[str] = []
    nlp = build_pipeline(cb, "zh", chinese="jieba", warnings=warnings)
    assert len(warnings) == 1 and "jieba is not installed" in warnings[0]
    assert spans(nlp, "中国稀土集团") == [("rare-earths", "term:稀土", "稀土")]
    with pytest.raises(ValueError, match="segmenter"):
        build_pipeline(cb, "zh", chinese="thulac")


def test_chinese_with_jieba_segments_words(cb: Codebook) -> None:
    pytest.importorskip("jieba", reason="jieba is an optional Chinese word segmenter (pip install jieba)")
    warnings: list[str] = []
    nlp = build_pipeline(cb, "zh", chinese="jieba", warnings=warnings)
    assert warnings == []
    assert [t.text for t in nlp.make_doc("中国稀土集团")] == ["中国", "稀土", "集团"]
    assert spans(nlp, "中国稀土集团") == [("rare-earths", "term:稀土", "稀土")]
    # A term that is not a whole word under jieba no longer matches inside one.
    word_part = build_pipeline(parse_codebook(CODEBOOK.replace("zh: [稀土]", "zh: [国稀]")), "zh", chinese="jieba")
    assert spans(word_part, "中国稀土集团") == []
    assert spans(build_pipeline(parse_codebook(CODEBOOK.replace("zh: [稀土]", "zh: [国稀]")), "zh"),
                 "中国稀土集团") == [("rare-earths", "term:国稀", "国稀")]


def test_russian_terms_and_patterns_match_inflected_cyrillic(cb: Codebook) -> None:
    nlp = build_pipeline(cb, "ru")
    text = "Добыча РЕДКОЗЕМЕЛЬНЫХ металлов и Редкие Металлы; Редкоземельный сектор. Национальная стратегия."
    assert spans(nlp, text) == [
        ("rare-earths", "pattern:0", "РЕДКОЗЕМЕЛЬНЫХ"),
        ("rare-earths", "term:редкие металлы", "Редкие Металлы"),
        ("rare-earths", "pattern:0", "Редкоземельный"),
        ("state", "term:национальная стратегия", "Национальная стратегия"),
    ]
    # The term list has no inflections: "редких металлов" needs a pattern of its own.
    assert spans(nlp, "редких металлов") == []


def test_kazakh_uses_the_multi_language_lists(cb: Codebook) -> None:
    assert spacy_lang("kk") == "xx" and spacy_lang("kaz") == "xx"
    nlp = build_pipeline(cb, "kk")
    assert nlp.lang == "xx"
    assert spans(nlp, "Сирек жер металдары Қазақстанда өндіріледі, МЕМЛЕКЕТ қолдайды.") == [
        ("rare-earths", "term:сирек жер металдары", "Сирек жер металдары"),
        ("state", "term:мемлекет", "МЕМЛЕКЕТ"),
    ]
    # Russian patterns are not applied to Kazakh text.
    assert spans(nlp, "редкоземельных") == []


def test_pipeline_set_builds_one_pipeline_per_spacy_language(cb: Codebook) -> None:
    pipes = PipelineSet(cb)
    assert pipes.for_language("pt-BR") is pipes.for_language("pt")
    assert pipes.for_language("kk") is pipes.for_language(None)  # both "xx"
    assert pipes.for_language("ru") is not pipes.for_language("en")


def test_missing_trained_pipeline_warns_and_uses_the_blank_one(cb: Codebook, monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy.cli

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a trained pipeline was looked for on the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(spacy.cli, "download", no_network)
    warnings: list[str] = []
    nlp = build_pipeline(cb, "en", trained="en_core_web_sm_missing", warnings=warnings)
    assert len(warnings) == 1
    assert "'en_core_web_sm_missing'" in warnings[0] and "blank pipeline" in warnings[0]
    assert nlp.pipe_names == [COMPONENT]
    assert spans(nlp, "Rare earths are scarce.") == [("rare-earths", "term:rare earths", "Rare earths")]
    # Through a PipelineSet, as autocoding configures it.
    noted: list[str] = []
    pipes = PipelineSet(cb, trained={"ru": "ru_core_news_sm_missing"}, warnings=noted)
    assert spans(pipes.for_language("ru"), "редкие металлы") == [
        ("rare-earths", "term:редкие металлы", "редкие металлы")]
    assert len(noted) == 1 and "ru_core_news_sm_missing" in noted[0]


@pytest.mark.parametrize("lang", ["ru", "zh", "kk"])
def test_rules_component_survives_to_disk_and_spacy_load(cb: Codebook, lang: str, tmp_path: Path) -> None:
    import spacy

    import gripcode.nlp.rules  # noqa: F401 - registers the gripcode_rules factory that spacy.load needs

    texts = {"ru": "Редкоземельных и редкие металлы", "zh": "中国稀土集团", "kk": "сирек жер металдары"}
    nlp = build_pipeline(cb, lang)
    nlp.to_disk(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / COMPONENT / "rules.json").is_file()
    loaded = spacy.load(tmp_path / "pipeline")
    assert loaded.pipe_names == [COMPONENT]
    assert spans(loaded, texts[lang]) == spans(nlp, texts[lang]) != []
    # The rules came from rules.json, not from the defaults of the factory's config.
    again = spacy.blank(nlp.lang).add_pipe(COMPONENT)
    assert again.rules == []
    assert loaded.get_pipe(COMPONENT).rules == nlp.get_pipe(COMPONENT).rules


def test_saved_pipeline_loads_in_a_new_process_after_importing_the_rules(cb: Codebook, tmp_path: Path) -> None:
    build_pipeline(cb, "ru").to_disk(tmp_path / "pipeline")
    script = ("import spacy, gripcode.nlp.rules\n"
              f"nlp = spacy.load({str(tmp_path / 'pipeline')!r})\n"
              "doc = nlp('Добыча редкоземельных металлов')\n"
              "print([(s.label_, s.kb_id_, s.text) for s in doc.spans['gripcode']])\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[('rare-earths', 'pattern:0', 'редкоземельных')]"


def test_saved_pipeline_loads_in_a_fresh_interpreter_through_the_entry_point(cb: Codebook, tmp_path) -> None:
    """`spacy.load` finds the rule component through the package's spacy_factories entry point, without the
    caller importing gripcode first."""
    import subprocess
    import sys

    nlp = build_pipeline(cb, "en")
    nlp.to_disk(tmp_path / "pipeline")
    script = ("import spacy; nlp = spacy.load(r'%s'); doc = nlp('Rare earths again.'); "
              "print(nlp.pipe_names, [s.label_ for s in doc.spans['gripcode']])" % (tmp_path / "pipeline"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-500:]
    assert "gripcode_rules" in result.stdout
