"""Whatever text a codebook file holds, parsing either succeeds or raises CodebookError."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gripcode.codebook.loader import codebook_hash, codebook_to_yaml, parse_codebook
from gripcode.codebook.model import Code, Codebook, Example, Examples, Rules
from gripcode.errors import CodebookError

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["a", "b", "en", "ru", "#fff", "^квот", "(", "LOWER", "REGEX", "OP", "+"]),
)
keys = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        ["codebook", "codes", "id", "name", "parent", "children", "rules", "terms", "patterns", "examples",
         "positive", "negative", "merged_into", "retired", "renamed_from", "color", "LOWER", "REGEX", "en", "ru"]
    ),
)  # fmt: skip
nested = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)),
    max_leaves=25,
)

slugs = st.sampled_from(["a", "b", "c", "d", "theme", "a-b", "Bad"])
token_dicts = st.dictionaries(
    st.sampled_from(["LOWER", "TEXT", "OP", "LOWERX", "IS_ALPHA"]),
    st.one_of(
        st.sampled_from(["+", "?", "x", "квота"]),
        st.booleans(),
        st.fixed_dictionaries({"REGEX": st.text(max_size=6)}),
    ),
    max_size=2,
)
codeish: st.SearchStrategy[dict[str, Any]] = st.recursive(
    st.fixed_dictionaries(
        {"id": slugs},
        optional={
            "name": st.text(max_size=8),
            "parent": slugs,
            "merged_into": slugs,
            "retired": st.booleans(),
            "renamed_from": st.lists(slugs, max_size=2),
            "color": st.sampled_from(["#abc", "#123456", "red"]),
            "rules": st.fixed_dictionaries(
                {},
                optional={
                    "terms": st.dictionaries(
                        st.sampled_from(["en", "ru", "de"]), st.lists(st.text(max_size=8), max_size=2)
                    ),
                    "patterns": st.dictionaries(
                        st.sampled_from(["en", "zh"]), st.lists(st.lists(token_dicts, max_size=2), max_size=2)
                    ),
                },
            ),
        },
    ),
    lambda children: st.fixed_dictionaries(
        {"id": slugs, "name": st.just("N")}, optional={"children": st.lists(children, max_size=3)}
    ),
    max_leaves=6,
)
codebookish = st.fixed_dictionaries(
    {"codebook": st.text(max_size=5), "codes": st.lists(codeish, max_size=4)}, optional={"languages": nested}
)


def parses_or_refuses(text: str) -> None:
    try:
        result = parse_codebook(text, name="fuzz.yaml")
    except CodebookError as exc:
        assert exc.problems, "a codebook error always lists its problems"
        assert all(p.startswith("fuzz.yaml:") for p in exc.problems)
    else:
        assert isinstance(result, Codebook)


# Text made of YAML's own punctuation reaches the parser's rarer error paths far more often than st.text().
yamlish_text = st.text(alphabet=":-?[]{},&*!|>'\"%@`#\n\t abc019\x85\ufeff", max_size=60)


@SETTINGS
@given(st.one_of(st.text(), yamlish_text))
def test_arbitrary_text(text: str) -> None:
    parses_or_refuses(text)


@SETTINGS
@given(nested)
def test_arbitrary_yaml_structures(data: Any) -> None:
    parses_or_refuses(yaml.safe_dump(data, allow_unicode=True))


@SETTINGS
@given(codebookish)
def test_codebook_shaped_yaml(data: dict[str, Any]) -> None:
    parses_or_refuses(yaml.safe_dump(data, allow_unicode=True))


# Surrogates cannot be written to a file; everything else must survive a round trip.
free_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).map(str.strip)
names = free_text.filter(bool)


@st.composite
def codebooks(draw: st.DrawFn) -> Codebook:
    ids = draw(st.lists(st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z"), min_size=1, max_size=5, unique=True))
    codes = []
    for code_id in ids:
        positives = draw(st.lists(st.tuples(names, st.sampled_from(["en", "pt", "kk"])), max_size=2))
        examples = Examples(
            positive=[Example(text=text, lang=lang) for text, lang in positives],
            negative=[Example(text=t) for t in draw(st.lists(names, max_size=1))],
        )
        rules = draw(
            st.none()
            | st.builds(
                Rules,
                unit=st.sampled_from(["match", "sentence", "paragraph", "turn"]),
                terms=st.dictionaries(
                    st.sampled_from(["en", "zh", "xx"]), st.lists(names, max_size=3), max_size=2
                ),
            )
        )
        code = Code(
            id=code_id,
            name=draw(names),
            definition=draw(free_text),
            include=draw(free_text),
            examples=examples,
            color=draw(st.none() | st.just("#12abEF")),
            rules=rules,
        )
        codes.append(code)
    # Nest the later codes under the first so children are exercised too.
    root = codes[0].model_copy(update={"children": codes[1:]})
    return Codebook(codebook=draw(names), description=draw(free_text), languages=["en", "pt"], codes=[root])


@SETTINGS
@given(codebooks())
def test_yaml_round_trip_keeps_codebook_and_hash(cb: Codebook) -> None:
    again = parse_codebook(codebook_to_yaml(cb))
    assert again == cb
    assert codebook_hash(again) == codebook_hash(cb)
