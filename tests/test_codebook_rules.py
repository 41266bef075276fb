from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import spacy

from gripcode.codebook.loader import load_codebook, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.codebook.testing import CodeTestResult, run_codebook_tests
from gripcode.nlp.rules import RuleMatcher, build_rules_pipeline, rules_for_language

GRIP_ARM = Path(__file__).resolve().parents[1] / "codebooks" / "grip-arm.yaml"
README = GRIP_ARM.with_name("README.md")

CODEBOOK = textwrap.dedent(
    """\
    codebook: rules-demo
    languages: [en, pt, zh, ru, xx]
    codes:
      - id: rare-earths
        name: Rare earths
        examples:
          positive:
            - Rare earths are everywhere.
            - {text: Выпуск редкоземельных металлов вырос., lang: ru}
          negative: [Copper is not one of them.]
        rules:
          terms:
            en: [rare earth, rare earths]
            pt: [terras raras]
            zh: [稀土]
            ru: [РЗМ]
            xx: [сирек жер металдары]
          patterns:
            ru:
              - [{LOWER: {REGEX: "^редкоземельн"}}, {LOWER: {REGEX: "^(металл|элемент)"}}]
            xx:
              - [{LOWER: сирек}, {LOWER: жер}, {LOWER: {REGEX: "^металд"}}]
      - id: export-restrictions
        name: Export restrictions
        rules:
          terms:
            en: [export quota, export quotas]
            pt: [cota de exportação]
            zh: [出口配额]
          patterns:
            ru:
              - [{LOWER: {REGEX: "^экспортн"}}, {LOWER: {REGEX: "^квот"}}]
      - id: old-code
        name: Old code
        retired: true
        rules: {terms: {en: [rare earth]}}
      - id: merged-code
        name: Merged code
        merged_into: export-restrictions
        rules: {terms: {en: [quota]}}
    """
)


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return parse_codebook(CODEBOOK)


def spans(nlp: spacy.Language, text: str) -> list[tuple[str, str, str]]:
    doc = nlp(text)  # a SpanGroup needs its Doc alive
    return [(s.text, s.label_, s.kb_id_) for s in doc.spans["gripcode"]]


def test_rules_for_language_keeps_active_codes_and_own_language(cb: Codebook) -> None:
    assert rules_for_language(cb, "en") == [
        {"code": "rare-earths", "terms": ["rare earth", "rare earths"], "patterns": [], "entities": []},
        {"code": "export-restrictions", "terms": ["export quota", "export quotas"], "patterns": [], "entities": []},
    ]
    ru = rules_for_language(cb, "ru")
    assert [r["code"] for r in ru] == ["rare-earths", "export-restrictions"]
    assert ru[1]["terms"] == [] and len(ru[1]["patterns"]) == 1
    # Kazakh reads the xx lists; English terms are never borrowed.
    assert rules_for_language(cb, "kk") == rules_for_language(cb, "xx")
    assert [r["code"] for r in rules_for_language(cb, "xx")] == ["rare-earths"]


def test_english_terms_match_case_insensitively_with_rule_refs(cb: Codebook) -> None:
    nlp = build_rules_pipeline(cb, "en")
    assert nlp.pipe_names == ["sentencizer", "gripcode_rules"]
    assert spans(nlp, "Rare Earths and EXPORT QUOTAS, not a quota.") == [
        ("Rare Earths", "rare-earths", "term:rare earths"),
        ("EXPORT QUOTAS", "export-restrictions", "term:export quotas"),
    ]


def test_portuguese_terms(cb: Codebook) -> None:
    nlp = build_rules_pipeline(cb, "pt")
    assert spans(nlp, "A cota de exportação de Terras Raras caiu.") == [
        ("cota de exportação", "export-restrictions", "term:cota de exportação"),
        ("Terras Raras", "rare-earths", "term:terras raras"),
    ]


def test_chinese_terms_line_up_with_character_segmentation(cb: Codebook) -> None:
    nlp = build_rules_pipeline(cb, "zh")
    doc = nlp("中国削减了稀土出口配额。")
    assert [t.text for t in doc][:3] == ["中", "国", "削"]  # one token per character
    assert [(s.text, s.label_, s.kb_id_) for s in doc.spans["gripcode"]] == [
        ("稀土", "rare-earths", "term:稀土"),
        ("出口配额", "export-restrictions", "term:出口配额"),
    ]
    assert (doc.spans["gripcode"][0].start_char, doc.spans["gripcode"][0].end_char) == (5, 7)


def test_russian_regex_patterns_match_inflected_forms(cb: Codebook) -> None:
    nlp = build_rules_pipeline(cb, "ru")
    text = "Экспортные квоты на редкоземельные металлы; без экспортных квот и редкоземельных элементов. РЗМ."
    assert spans(nlp, text) == [
        ("Экспортные квоты", "export-restrictions", "pattern:0"),
        ("редкоземельные металлы", "rare-earths", "pattern:0"),
        ("экспортных квот", "export-restrictions", "pattern:0"),
        ("редкоземельных элементов", "rare-earths", "pattern:0"),
        ("РЗМ", "rare-earths", "term:РЗМ"),
    ]


def test_kazakh_uses_multilanguage_pipeline_and_keeps_one_span_per_match(cb: Codebook) -> None:
    nlp = build_rules_pipeline(cb, "kk")
    assert nlp.lang == "xx"
    # The term and the pattern both match the first phrase: one span remains, credited to the term.
    assert spans(nlp, "Сирек жер металдары және сирек жер металдарын өндіру.") == [
        ("Сирек жер металдары", "rare-earths", "term:сирек жер металдары"),
        ("сирек жер металдарын", "rare-earths", "pattern:0"),
    ]


def test_overlapping_codes_are_kept_and_exact_duplicates_dropped() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "gripcode_rules",
        config={
            "rules": [
                {
                    "code": "a",
                    "terms": ["rare earth", "rare earth"],
                    "patterns": [[{"LOWER": "rare"}, {"LOWER": "earth"}]],
                },
                {"code": "b", "terms": ["earth", "rare earth"]},
            ],
            "spans_key": "codes",
        },
    )
    doc = nlp("rare earth")
    assert [(s.label_, s.start, s.end, s.kb_id_) for s in doc.spans["codes"]] == [
        ("a", 0, 2, "term:rare earth"),
        ("b", 0, 2, "term:rare earth"),
        ("b", 1, 2, "term:earth"),
    ]


def test_pipeline_without_rules_gives_empty_group() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("gripcode_rules")
    assert list(nlp("nothing to see").spans["gripcode"]) == []


def test_to_disk_and_spacy_load_round_trip(cb: Codebook, tmp_path: Path) -> None:
    nlp = build_rules_pipeline(cb, "ru")
    text = "Экспортные квоты на редкоземельные металлы и РЗМ."
    before = spans(nlp, text)
    nlp.to_disk(tmp_path / "ru-rules")
    assert (tmp_path / "ru-rules" / "gripcode_rules" / "rules.json").is_file()
    loaded = spacy.load(tmp_path / "ru-rules")
    assert loaded.pipe_names == ["sentencizer", "gripcode_rules"]
    assert spans(loaded, text) == before and len(before) == 3
    component = loaded.get_pipe("gripcode_rules")
    assert isinstance(component, RuleMatcher)
    assert component.rules == rules_for_language(cb, "ru")


def test_component_from_disk_restores_spans_key_and_rules(tmp_path: Path) -> None:
    nlp = spacy.blank("pt")
    source = nlp.add_pipe("gripcode_rules", config={"rules": [{"code": "x", "terms": ["ímã"]}], "spans_key": "k"})
    source.to_disk(tmp_path / "component")
    other = RuleMatcher(spacy.blank("pt"), "gripcode_rules", [], "gripcode")
    other.from_disk(tmp_path / "component")
    assert other.spans_key == "k"
    doc = other(other.nlp.make_doc("Um ÍMÃ novo."))
    assert [(s.text, s.label_, s.kb_id_) for s in doc.spans["k"]] == [("ÍMÃ", "x", "term:ímã")]


def test_grip_arm_codebook_loads_and_all_example_tests_pass() -> None:
    cb = load_codebook(GRIP_ARM)
    flat = cb.flat()
    assert cb.codebook == "grip-arm" and len(flat) >= 22 and len(cb.codes) >= 5
    results = run_codebook_tests(cb)
    failures = [f"{r.code}: {f}" for r in results for f in r.failures]
    assert failures == []
    assert {r.code for r in results} == {fc.id for fc in flat}
    assert all(r.positive_total >= 2 and r.negative_total >= 1 for r in results)
    assert all(r.positive_matched == r.positive_total and r.negative_matched == 0 for r in results)
    langs = {e.lang for fc in flat for e in fc.code.examples.positive}
    assert {"pt", "zh", "ru"} <= langs
    pattern_count = sum(len(p) for fc in flat if fc.code.rules for p in fc.code.rules.patterns.values())
    assert 0 < pattern_count < 40
    colours = [fc.code.color.lower() for fc in flat if fc.code.color]
    assert len(colours) == len(flat) == len(set(colours))


def test_grip_arm_core_codes_have_terms_in_every_language() -> None:
    by_id = load_codebook(GRIP_ARM).by_id()
    core = [
        "export-restrictions", "resource-nationalism", "soe-consolidation", "value-chain-upgrading",
        "environmental-costs", "joint-ventures-foreign-capital", "green-transition-demand", "rare-earths",
    ]  # fmt: skip
    for code_id in core:
        rules = by_id[code_id].rules
        assert rules is not None
        for lang in ("en", "pt", "zh", "ru"):
            assert rules.terms.get(lang) or rules.patterns.get(lang), (code_id, lang)


def test_failing_examples_are_reported() -> None:
    cb = parse_codebook(
        textwrap.dedent(
            """\
            codebook: failing
            codes:
              - id: quotas
                name: Quotas
                examples:
                  positive:
                    - The export quota was cut.
                    - {text: A cota foi reduzida., lang: pt}
                    - {text: 出口配额减少了。, lang: zh}
                  negative:
                    - {text: Экспортные квоты отменили., lang: ru}
                    - Prices rose.
                rules:
                  terms: {en: [export quota], pt: [cota de exportação]}
                  patterns:
                    ru: [[{LOWER: {REGEX: "^экспортн"}}, {LOWER: {REGEX: "^квот"}}]]
              - id: no-examples
                name: No examples
              - id: gone
                name: Gone
                retired: true
                examples: {positive: [never tested]}
            """
        )
    )
    (result,) = run_codebook_tests(cb)
    assert isinstance(result, CodeTestResult)
    assert result.code == "quotas" and not result.passed
    assert (result.positive_total, result.positive_matched) == (3, 1)
    assert (result.negative_total, result.negative_matched) == (2, 1)
    assert result.failures == [
        'positive example not matched (pt): "A cota foi reduzida."',
        'positive example cannot match (zh): the code has no terms or patterns for zh: "出口配额减少了。"',
        'negative example matched by pattern:0 (ru): "Экспортные квоты отменили."',
    ]


def test_readme_example_is_a_valid_codebook_whose_examples_pass() -> None:
    text = README.read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    results = run_codebook_tests(parse_codebook(example, name="README.md"))
    assert [r.code for r in results] == ["market-control", "export-restrictions"]
    assert all(r.passed for r in results)


def test_codebook_test_matches_terms_typed_in_decomposed_unicode() -> None:
    """Examples and documents are NFC; a term typed with combining accents must still match them."""
    import unicodedata

    from gripcode.codebook.loader import parse_codebook
    from gripcode.codebook.testing import run_codebook_tests

    term = unicodedata.normalize("NFD", "produção")
    cb = parse_codebook(f"""
codebook: nfc
codes:
  - id: output
    name: Output
    examples:
      positive:
        - text: A produção caiu.
          lang: pt
    rules:
      terms:
        pt: ["{term}"]
""")
    [result] = run_codebook_tests(cb)
    assert result.passed, result.failures
