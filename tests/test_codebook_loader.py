from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gripcode.codebook.loader import codebook_hash, codebook_to_yaml, load_codebook, parse_codebook
from gripcode.codebook.model import Codebook
from gripcode.errors import CodebookError

GRIP_ARM = Path(__file__).resolve().parents[1] / "codebooks" / "grip-arm.yaml"

VALID = textwrap.dedent(
    """\
    # a small but complete codebook
    codebook: demo
    description: |
      Two themes.
      Second line.
    languages: [en, ru]
    codes:
      - id: market
        name: Market control
        color: "#aa0000"
        children:
          - id: quotas
            name: Export quotas
            definition: Limits on exports.
            examples:
              positive: [China cut its export quotas.]
              negative:
                - text: Цены выросли.
                  lang: ru
            rules:
              unit: paragraph
              terms: {en: [export quota, export quotas]}
              patterns:
                ru:
                  - [{LOWER: {REGEX: "^экспортн"}}, {LOWER: {REGEX: "^квот"}}]
      - id: old-quotas
        name: Old quotas
        merged_into: quotas
      - id: retired-code
        name: Retired
        retired: true
        rules: {terms: {en: [whatever]}}
      - id: price
        name: Price control
        parent: market
        renamed_from: [prices]
    """
)


def line(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based number of the line holding the ``occurrence``-th ``marker``."""
    seen = 0
    for number, content in enumerate(text.splitlines(), start=1):
        if marker in content:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{marker!r} not in text")


def problems_of(text: str, name: str = "cb.yaml") -> list[str]:
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, name=name)
    assert str(info.value).startswith(f"{name} is not a valid") and info.value.problems
    return info.value.problems


def test_valid_codebook_parses() -> None:
    cb = parse_codebook(VALID)
    ids = [fc.id for fc in cb.flat()]
    assert ids == ["market", "quotas", "price", "old-quotas", "retired-code"]
    by_id = {fc.id: fc for fc in cb.flat()}
    assert by_id["price"].parent == "market" and by_id["quotas"].parent == "market"
    assert by_id["quotas"].code.examples.negative[0].lang == "ru"
    assert cb.description == "Two themes.\nSecond line."  # surrounding whitespace is stripped


def test_schema_problems_are_all_reported_with_lines_and_code_ids() -> None:
    text = textwrap.dedent(
        """\
        codebook: demo
        languages: [en]
        colour_scheme: bright
        codes:
          - id: theme
            name: Theme
            color: red
            children:
              - id: Bad Id
                name: Child
              - id: nameless
                definition: no name given
              - id: typo
                name: Typo
                inlcude: should be include
                rules:
                  terms: {de: [Seltene Erden]}
        """
    )
    problems = problems_of(text)
    assert problems == [
        f"cb.yaml:{line(text, 'colour_scheme')}: unknown field 'colour_scheme'",
        f"cb.yaml:{line(text, 'color: red')}: code theme: color: bad colour 'red': use #RRGGBB or #RGB",
        f"cb.yaml:{line(text, 'Bad Id')}: code Bad Id: id: 'Bad Id' is not a slug "
        "(lowercase letters, digits and - _ . between them)",
        f"cb.yaml:{line(text, 'id: nameless')}: code nameless: missing required field 'name'",
        f"cb.yaml:{line(text, 'inlcude')}: code typo: unknown field 'inlcude'",
        f"cb.yaml:{line(text, 'terms: {de')}: code typo: rules.terms: unknown rule language(s) de; "
        "use en, pt, zh, ru, xx (xx for Kazakh and others)",
    ]


@pytest.mark.parametrize(
    ("snippet", "marker", "message"),
    [
        (
            "- {id: a, name: A}\n  - {id: a, name: Again}",
            "Again",
            "code a: duplicate id (first defined at line 3)",
        ),
        (
            "- {id: a, name: A}\n  - {id: b, name: B, renamed_from: a}",
            "id: b",
            "code b: renamed_from 'a' is the id of another code (line 3)",
        ),
        (
            "- {id: a, name: A, renamed_from: [x]}\n  - {id: b, name: B, renamed_from: [x]}",
            "id: b",
            "code b: renamed_from 'x' is also claimed by code a",
        ),
        ("- {id: a, name: A, parent: nowhere}", "id: a", "code a: unknown parent 'nowhere'"),
        (
            "- {id: a, name: A, parent: b}\n  - {id: b, name: B, parent: a}",
            "id: a",
            "code a: parent cycle: a -> b -> a",
        ),
        ("- {id: a, name: A, merged_into: gone}", "id: a", "code a: merged_into names unknown code 'gone'"),
        (
            "- {id: a, name: A, merged_into: b}\n  - {id: b, name: B, retired: true}",
            "id: a",
            "code a: merged_into 'b', which is itself retired",
        ),
        (
            "- {id: a, name: A, merged_into: b}\n  - {id: b, name: B, merged_into: c}\n  - {id: c, name: C}",
            "id: a",
            "code a: merged_into 'b', which is itself merged into c",
        ),
        (
            "- {id: a, name: A}\n  - id: b\n    name: B\n    children:\n      - {id: c, name: C, parent: a}",
            "id: c",
            "code c: parent 'a' contradicts its nesting under b",
        ),
    ],
)
def test_cross_check_problems(snippet: str, marker: str, message: str) -> None:
    text = f"codebook: demo\ncodes:\n  {snippet}\n"
    assert problems_of(text) == [f"cb.yaml:{line(text, marker)}: {message}"]


def test_invalid_matcher_patterns_are_judged_by_spacy() -> None:
    text = textwrap.dedent(
        """\
        codebook: demo
        codes:
          - id: quotas
            name: Quotas
            rules:
              patterns:
                ru:
                  - [{LOWER: {REGEX: "^квот"}}]
                  - [{LOWERR: квота}]
                en:
                  - [{LOWER: {REGEX: "(unclosed"}}]
                  - []
        """
    )
    problems = problems_of(text)
    assert len(problems) == 3
    assert problems[0].startswith(f"cb.yaml:{line(text, 'LOWERR')}: code quotas: invalid pattern ru[1]: ")
    assert "LOWERR" in problems[0] and "Extra inputs are not permitted" in problems[0]
    assert problems[1].startswith(f"cb.yaml:{line(text, 'unclosed')}: code quotas: invalid pattern en[0]: ")
    assert problems[2].startswith(f"cb.yaml:{line(text, '- []')}: code quotas: invalid pattern en[1]: ")
    assert "zero tokens" in problems[2]


def test_schema_and_cross_check_problems_are_reported_together_in_line_order() -> None:
    text = textwrap.dedent(
        """\
        codebook: demo
        codes:
          - {id: a, name: A, parent: ghost}
          - {id: a, name: Twice}
          - id: b
            name: B
            rules:
              patterns: {en: [[{NOPE: x}]]}
          - {id: c, name: C, merged_into: nobody}
        """
    )
    problems = problems_of(text)
    assert [p.split(": ", 1)[0] for p in problems] == [f"cb.yaml:{n}" for n in (3, 4, 8, 9)]
    assert "unknown parent 'ghost'" in problems[0]
    assert "duplicate id" in problems[1]
    assert "invalid pattern en[0]" in problems[2]
    assert "unknown code 'nobody'" in problems[3]


def test_schema_errors_do_not_hide_cross_check_problems() -> None:
    text = "codebook: demo\ncodes:\n  - {id: a, name: A, color: nope}\n  - {id: a, name: B, retired: maybe}\n"
    problems = problems_of(text)
    assert [p.split(": ", 1)[0] for p in problems] == ["cb.yaml:3", "cb.yaml:4", "cb.yaml:4"]
    assert "bad colour 'nope'" in problems[0]
    assert "retired: Input should be a valid boolean" in problems[1]
    assert "code a: duplicate id (first defined at line 3)" in problems[2]


# One problem of every kind: the top level, fields of codes, and between codes. One run must list them all.
EVERY_PROBLEM = textwrap.dedent(
    """    codebok: misspelt name key
    codes:
      - id: bright
        name: Bright
        color: red
      - id: pattern
        name: Pattern
        rules:
          patterns:
            en:
              - [{LOWERR: x}]
      - id: bright
        name: Twice
      - id: orphan
        name: Orphan
        parent: nowhere
      - id: ping
        name: Ping
        parent: pong
      - id: pong
        name: Pong
        parent: ping
      - id: merged
        name: Merged
        merged_into: ghost
      - id: self
        merged_into: self
    """
)
EVERY_PROBLEM_EXPECTED: list[tuple[str, int, str]] = [  # marker of the line, its occurrence, message
    ("codebok:", 1, "missing required field 'codebook'"),
    ("codebok:", 1, "unknown field 'codebok'"),
    ("color: red", 1, "code bright: color: bad colour 'red'"),
    ("LOWERR", 1, "code pattern: invalid pattern en[0]"),
    ("- id: bright", 2, "code bright: duplicate id (first defined at line 3)"),
    ("parent: nowhere", 1, "code orphan: unknown parent 'nowhere'"),
    ("parent: pong", 1, "code ping: parent cycle: ping -> pong -> ping"),
    ("merged_into: ghost", 1, "code merged: merged_into names unknown code 'ghost'"),
    ("id: self", 1, "code self: missing required field 'name'"),
    ("merged_into: self", 1, "code self: a code cannot be merged into itself"),
]


def test_every_kind_of_problem_is_reported_in_one_run() -> None:
    problems = problems_of(EVERY_PROBLEM)
    for marker, occurrence, message in EVERY_PROBLEM_EXPECTED:
        number = line(EVERY_PROBLEM, marker, occurrence)
        assert any(p.startswith(f"cb.yaml:{number}: {message}") for p in problems), (message, problems)
    assert len(problems) == len(EVERY_PROBLEM_EXPECTED)


def test_retired_codes_may_keep_rules() -> None:
    cb = parse_codebook(VALID)
    assert cb.by_id()["retired-code"].rules is not None


def test_yaml_syntax_error_reports_file_and_line() -> None:
    text = "codebook: demo\ncodes:\n  - id: a\n    name: [unclosed\n  - id: b\n"
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, name="broken.yaml")
    assert str(info.value).startswith("broken.yaml is not valid YAML")
    (problem,) = info.value.problems
    assert problem.startswith("broken.yaml:5: ")


def test_tab_indentation_is_a_syntax_error_with_its_line() -> None:
    text = "codebook: demo\ncodes:\n\t- id: a\n"
    with pytest.raises(CodebookError) as info:
        parse_codebook(text, name="tabs.yaml")
    assert info.value.problems[0].startswith("tabs.yaml:3: ")


def test_duplicate_yaml_keys_are_reported() -> None:
    text = "codebook: demo\ncodes:\n  - id: a\n    name: A\n    name: B\n"
    assert problems_of(text) == ["cb.yaml:5: duplicate key 'name' (first at line 4)"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "cb.yaml:1: the file is empty"),
        ("# only a comment\n", "cb.yaml:1: the file is empty"),
        (
            "- a\n- b\n",
            "cb.yaml:1: the top level must be a mapping with a 'codebook:' name and a list of 'codes:'",
        ),
        ("codes: []\n", "cb.yaml:1: missing required field 'codebook'"),
        ("codebook: demo\ncodes: {a: 1}\n", "cb.yaml:2: codes: Input should be a valid list"),
    ],
)
def test_degenerate_documents(text: str, message: str) -> None:
    assert problems_of(text) == [message]


def test_unparseable_date_is_a_codebook_error() -> None:
    with pytest.raises(CodebookError):
        parse_codebook("codebook: 2024-02-30\n")


def test_load_codebook_reads_files_and_names_them(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(VALID, encoding="utf-8")
    assert load_codebook(path) == parse_codebook(VALID)
    path.write_text("codebook: demo\ncodes:\n  - {id: a}\n", encoding="utf-8")
    with pytest.raises(CodebookError) as info:
        load_codebook(path)
    assert info.value.problems == [f"{path}:3: code a: missing required field 'name'"]


def test_missing_file_and_folder_are_codebook_errors(tmp_path: Path) -> None:
    with pytest.raises(CodebookError, match="does not exist"):
        load_codebook(tmp_path / "nope.yaml")
    with pytest.raises(CodebookError, match="is a folder"):
        load_codebook(tmp_path)


def test_non_utf8_file_is_a_codebook_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("codebook: açaí\n".encode("latin-1"))
    with pytest.raises(CodebookError, match="not UTF-8"):
        load_codebook(path)


def test_round_trip_of_small_codebook() -> None:
    cb = parse_codebook(VALID)
    text = codebook_to_yaml(cb)
    assert parse_codebook(text) == cb
    assert "retired: false" not in text and "children: []" not in text
    assert '- [{LOWER: {REGEX: ^экспортн}}, {LOWER: {REGEX: ^квот}}]' in text


def test_round_trip_of_grip_arm_codebook() -> None:
    cb = load_codebook(GRIP_ARM)
    text = codebook_to_yaml(cb)
    again = parse_codebook(text)
    assert again == cb
    assert codebook_hash(again) == codebook_hash(cb)
    assert "稀土" in text  # allow_unicode: no \u escapes


def test_hash_ignores_layout_comments_and_explicit_defaults() -> None:
    reindented = textwrap.dedent(
        """\
        codebook: demo   # renamed later?
        description: "Two themes.\\nSecond line.\\n"
        languages:
        - en
        - ru
        codes:
        - id: market
          name: Market control
          color: '#aa0000'
          retired: false
          children:
          - id: quotas
            name: Export quotas
            definition: Limits on exports.
            examples:
              positive:
              - text: China cut its export quotas.
                lang: en
              negative: [{text: Цены выросли., lang: ru}]
            rules:
              unit: paragraph
              terms:
                en:
                - export quota
                - export quotas
              patterns: {ru: [[{LOWER: {REGEX: ^экспортн}}, {LOWER: {REGEX: ^квот}}]]}
        - {id: old-quotas, name: Old quotas, merged_into: quotas}
        - {id: retired-code, name: Retired, retired: true, rules: {terms: {en: [whatever]}}}
        - {id: price, name: Price control, parent: market, renamed_from: prices}
        """
    )
    original, moved = parse_codebook(VALID), parse_codebook(reindented)
    assert original == moved
    assert codebook_hash(original) == codebook_hash(moved)
    assert len(codebook_hash(original)) == 64


def test_hash_changes_with_content() -> None:
    cb = parse_codebook(VALID)
    changed = parse_codebook(VALID.replace("Limits on exports.", "Limits on exports of ore."))
    assert codebook_hash(cb) != codebook_hash(changed)


def test_codebook_to_yaml_of_empty_codebook() -> None:
    cb = Codebook(codebook="empty")
    assert parse_codebook(codebook_to_yaml(cb)) == cb


def test_validate_command_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gripcode.cli.main import cli

    path = tmp_path / "cb.yaml"
    path.write_text(EVERY_PROBLEM, encoding="utf-8")
    result = CliRunner().invoke(cli, ["codebook", "validate", str(path)])
    assert result.exit_code == 1 and result.output.startswith(f"Error: {path} is not a valid codebook\n")
    for marker, occurrence, message in EVERY_PROBLEM_EXPECTED:
        assert f"  {path}:{line(EVERY_PROBLEM, marker, occurrence)}: {message}" in result.output


@pytest.mark.parametrize("key", ["1", "yes", "~", "1.5"])
def test_a_code_with_a_key_that_is_not_a_string_is_still_cross_checked(key: str) -> None:
    # Its key error and unknown field, and also what only the cross-checks of the salvaged code find.
    text = (f"codebook: demo\ncodes:\n  - id: a\n    name: A\n    {key}: x\n    bogus: y\n    merged_into: a\n"
            "  - {id: a, name: Again}\n")
    problems = problems_of(text)
    # Pydantic names ``yes`` and ``~`` keys 1 and "None", so their problem falls back to the code's line.
    key_line = "cb.yaml:5" if key in ("1", "1.5") else "cb.yaml:3"
    assert [p.split(": ", 1)[0] for p in problems] == [key_line, "cb.yaml:6", "cb.yaml:7", "cb.yaml:8"]
    assert "code a: " in problems[0] and "Keys should be strings" in problems[0]
    assert "code a: unknown field 'bogus'" in problems[1]
    assert "code a: a code cannot be merged into itself" in problems[2]
    assert "code a: duplicate id (first defined at line 3)" in problems[3]


def test_validate_from_the_installed_program_reports_a_bad_key_with_the_code_s_other_problems(
    tmp_path: Path,
) -> None:
    import subprocess

    from conftest import PROGRAM

    path = tmp_path / "cb.yaml"
    path.write_text("codebook: demo\ncodes:\n  - id: a\n    name: A\n    1: x\n    bogus: y\n"
                    "  - {id: a, name: Again}\n", encoding="utf-8")
    result = subprocess.run([str(PROGRAM), "codebook", "validate", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"  {path}:5: code a: 1: Keys should be strings" in result.stderr
    assert f"  {path}:6: code a: unknown field 'bogus'" in result.stderr
    assert f"  {path}:7: code a: duplicate id (first defined at line 3)" in result.stderr
