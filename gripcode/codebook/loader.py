"""Read, validate, hash and write codebook YAML files.

Validation collects every problem before raising, so a methodologist fixing a codebook sees the whole list
at once, each as ``FILE:LINE: code <id>: message``. Line numbers come from the composed YAML node tree: every
mapping key and sequence item is recorded under its path (``("codes", 0, "children", 2, "color")``), which is
the same shape as a pydantic error location, so schema errors and cross-check problems point at the same lines.
Schema errors do not hide the cross-checks: those run on the codes that parsed (``_salvage``), so a file with a
bad colour and a duplicate id reports both in one run.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from gripcode.codebook.model import Code, Codebook
from gripcode.errors import CodebookError

Path_ = tuple[str, ...]


# ---------------------------------------------------------------------------------------------- YAML + lines


def _read_yaml(text: str, name: str) -> tuple[Any, dict[Path_, int], list[str]]:
    """Parse ``text``; return the data, a path -> line map and problems found in the YAML itself."""
    lines: dict[Path_, int] = {}
    problems: list[str] = []
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:  # control characters are refused before parsing starts
        where = text[: exc.position].count("\n") + 1
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:{where}: {exc.reason}"]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines, problems
        # Lines are read before construction, which rewrites merge keys (<<) in place.
        _record_lines(node, (), lines, problems, name, set())
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        reason = " ".join(p for p in (exc.context, exc.problem) if p)
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:{line}: {reason}"]) from None
    except yaml.reader.ReaderError as exc:
        where = text[: exc.position].count("\n") + 1
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:{where}: {exc.reason}"]) from None
    except yaml.YAMLError as exc:
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:1: {exc}"]) from None
    except RecursionError:
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:1: nested too deeply"]) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # PyYAML lets these through for values such as the date 2024-02-30.
        raise CodebookError(f"{name} is not valid YAML", problems=[f"{name}:1: {exc}"]) from None
    finally:
        loader.dispose()
    return data, lines, problems


def _record_lines(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], problems: list[str], name: str, seen: set[int]
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:  # aliases can make the node graph cyclic
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                if key in keys:
                    problems.append(f"{name}:{line}: duplicate key {key!r} (first at line {keys[key]})")
                else:
                    keys[key] = line
            lines.setdefault(path + (key,), line)
            _record_lines(value_node, path + (key,), lines, problems, name, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record_lines(item, path + (str(index),), lines, problems, name, seen)


def _line_of(lines: dict[Path_, int], loc: tuple[Any, ...]) -> int:
    """The line of the deepest part of ``loc`` that exists in the file (a missing key points at its mapping)."""
    path = tuple(str(part) for part in loc)
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


# --------------------------------------------------------------------------------------------- schema errors


def _code_prefix(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], str | None]:
    """The location of the innermost code ``loc`` lies in, and that code's id when it has a usable one."""
    node, best, best_id = data, (), None
    for i, part in enumerate(loc):
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if i >= 1 and loc[i - 1] in ("codes", "children") and isinstance(part, int):
            best = loc[: i + 1]
            raw_id = node.get("id") if isinstance(node, dict) else None
            best_id = raw_id if isinstance(raw_id, str) and raw_id.strip() else None
    return best, best_id


def _schema_message(error: dict[str, Any], rest: tuple[Any, ...]) -> str:
    kind, field = error["type"], ".".join(str(p) for p in rest)
    if not error["loc"] and kind in ("model_type", "dict_type"):
        return "the top level must be a mapping with a 'codebook:' name and a list of 'codes:'"
    if not rest and kind == "model_type" and error["loc"][-2:-1] in (("codes",), ("children",)):
        return "each code must be a mapping with at least an id and a name"
    message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
    last = str(rest[-1]) if rest else field
    if kind == "extra_forbidden":
        return f"unknown field {last!r}"
    if kind == "missing":
        return f"missing required field {last!r}"
    return f"{field}: {message}" if field else message


def _schema_problems(exc: ValidationError, data: Any, lines: dict[Path_, int], name: str) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        prefix, code_id = _code_prefix(data, loc)
        where = f"code {code_id}: " if code_id else ""
        text = _schema_message(error, loc[len(prefix) :] if prefix else loc)
        problems.append(f"{name}:{_line_of(lines, loc)}: {where}{text}")
    return problems


# --------------------------------------------------------------------------------------------- cross-checks


_Entry = tuple[Code, tuple[Any, ...], str | None]  # a code, its location in the file, its nesting parent


def _walk(codes: list[Code], path: tuple[Any, ...], parent: str | None, out: list[_Entry]) -> None:
    for index, code in enumerate(codes):
        here = path + (index,)
        out.append((code, here, parent))
        _walk(code.children, here + ("children",), code.id, out)


def _salvage(
    raw: Any, path: tuple[Any, ...], parent: str | None, out: list[_Entry], late: list[tuple[tuple[Any, ...], str]]
) -> None:
    """The codes of a file that failed schema validation, each as much of it as is valid, with its location.

    A field that failed (a bad colour, a malformed rules block) is left out of that code so the cross-checks
    still see its id, parent and merge target; a code without a usable id is left out with its subtree, since
    nothing else can refer to it. Locations are those of the file, so lines match the schema errors'.
    Pydantic checks a whole code only once its fields are valid, so such a check failing on the retry is a
    problem the first pass could not see; it goes to ``late``.
    """
    if not isinstance(raw, list):
        return
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            continue
        fields = {key: value for key, value in item.items() if key != "children"}
        code = None
        for attempt in range(3):  # drop what failed, then try again
            try:
                code = Code.model_validate(fields)
                break
            except ValidationError as exc:
                # An error without a location is the whole-code check: a code merged into itself.
                failed = {str(error["loc"][0]) if error["loc"] else "merged_into" for error in exc.errors()}
                if attempt:
                    where = path + (index, "merged_into")
                    late.extend((where, _schema_message(e, ())) for e in exc.errors() if not e["loc"])
                if "id" in failed:
                    break
                # A key that is not a string (``1: x``, ``yes: x``) always fails, and Pydantic names it in its
                # own way (``True`` as 1, ``None`` as "None"), so such keys go by type, not by name.
                fields = {key: value for key, value in fields.items() if isinstance(key, str) and key not in failed}
                if "name" in failed or "name" not in fields:
                    fields["name"] = str(fields["id"])
        if code is None:
            continue
        here = path + (index,)
        out.append((code, here, parent))
        _salvage(item.get("children"), here + ("children",), code.id, out, late)


def _cross_check(cb: Codebook | list[_Entry], lines: dict[Path_, int], name: str) -> list[str]:
    """Problems between codes: of a valid codebook, or of the codes salvaged from an invalid one."""
    entries: list[_Entry] = []
    if isinstance(cb, Codebook):
        _walk(cb.codes, ("codes",), None, entries)
    else:
        entries = cb
    problems: list[tuple[int, str]] = []

    def report(code: Code, loc: tuple[Any, ...], message: str) -> None:
        problems.append((_line_of(lines, loc), f"code {code.id}: {message}"))

    first: dict[str, int] = {}
    for code, loc, _ in entries:
        if code.id in first:
            report(code, loc, f"duplicate id (first defined at line {first[code.id]})")
        else:
            first[code.id] = _line_of(lines, loc)
    old_ids: dict[str, str] = {}
    for code, loc, _ in entries:
        for old in code.renamed_from:
            where = loc + ("renamed_from",)
            if old == code.id:
                report(code, where, "renamed_from lists the code's own id")
            elif old in first:
                report(code, where, f"renamed_from {old!r} is the id of another code (line {first[old]})")
            elif old in old_ids and old_ids[old] != code.id:
                report(code, where, f"renamed_from {old!r} is also claimed by code {old_ids[old]}")
            old_ids.setdefault(old, code.id)

    codes = {code.id: code for code, _, _ in entries}
    effective: dict[str, str] = {}
    for code, loc, nest_parent in entries:
        if code.parent is not None:
            if nest_parent is not None and code.parent != nest_parent:
                message = f"parent {code.parent!r} contradicts its nesting under {nest_parent}"
                report(code, loc + ("parent",), message)
            elif code.parent not in codes:
                report(code, loc + ("parent",), f"unknown parent {code.parent!r}")
        parent = nest_parent or code.parent
        if parent is not None and parent in codes:
            effective.setdefault(code.id, parent)
        if code.merged_into is not None:
            target = codes.get(code.merged_into)
            where = loc + ("merged_into",)
            if target is None:
                report(code, where, f"merged_into names unknown code {code.merged_into!r}")
            elif target.retired or target.merged_into is not None:
                state = "retired" if target.retired else f"merged into {target.merged_into}"
                report(code, where, f"merged_into {target.id!r}, which is itself {state}")

    in_cycle: set[str] = set()
    for code, loc, _ in entries:
        chain, current = [code.id], effective.get(code.id)
        while current is not None and current not in chain and current not in in_cycle:
            chain.append(current)
            current = effective.get(current)
        if current == code.id:
            in_cycle.update(chain)
            report(code, loc + ("parent",), "parent cycle: " + " -> ".join(chain + [code.id]))

    for code, loc, _ in entries:
        for message, where in _pattern_problems(code, loc):
            report(code, where, message)
    return [f"{name}:{line}: {message}" for line, message in problems]


@lru_cache(maxsize=8)
def _blank(lang: str) -> Any:
    import spacy

    from gripcode.nlp.languages import spacy_lang

    return spacy.blank(spacy_lang(lang))


def _pattern_problems(code: Code, loc: tuple[Any, ...]) -> list[tuple[str, tuple[Any, ...]]]:
    """Let spaCy itself judge each Matcher pattern, so the rules cannot fail later at autocoding time."""
    if code.rules is None or not any(code.rules.patterns.values()):
        return []
    from spacy.matcher import Matcher

    out = []
    for lang, patterns in code.rules.patterns.items():
        matcher = Matcher(_blank(lang).vocab, validate=True)
        for index, pattern in enumerate(patterns):
            try:
                matcher.add(f"{code.id}:{index}", [pattern])
            except re.error as exc:
                detail = f"bad regular expression: {exc}"
            except (ValueError, TypeError, KeyError) as exc:
                # MatchPatternError lists one "- [pattern -> ...] reason" line per fault after a header.
                faults = [line[2:] for line in str(exc).splitlines() if line.startswith("- ")]
                detail = "; ".join(faults) or " ".join(str(exc).split())
            else:
                continue
            out.append((f"invalid pattern {lang}[{index}]: {detail}", loc + ("rules", "patterns", lang, index)))
    return out


# --------------------------------------------------------------------------------------------------- public


def parse_codebook(text: str, name: str = "<string>") -> Codebook:
    """Parse and validate codebook YAML; raise :class:`CodebookError` listing every problem found."""
    data, lines, problems = _read_yaml(text, name)
    if data is None:
        raise CodebookError(f"{name} is not a valid codebook", problems=[f"{name}:1: the file is empty"])
    try:
        cb = Codebook.model_validate(data)
    except ValidationError as exc:
        # Report the cross-code problems too, on the codes that parsed, so one run lists everything.
        problems.extend(_schema_problems(exc, data, lines, name))
        salvaged: list[_Entry] = []
        late: list[tuple[tuple[Any, ...], str]] = []
        if isinstance(data, dict):
            _salvage(data.get("codes"), ("codes",), None, salvaged, late)
        problems.extend(_cross_check(salvaged, lines, name))
        for loc, message in late:
            problems.append(f"{name}:{_line_of(lines, loc)}: code {_code_prefix(data, loc)[1]}: {message}")
        raise CodebookError(f"{name} is not a valid codebook", problems=_by_line(problems, name)) from None
    problems.extend(_cross_check(cb, lines, name))
    if problems:
        raise CodebookError(f"{name} is not a valid codebook", problems=_by_line(problems, name))
    return cb


def _by_line(problems: list[str], name: str) -> list[str]:
    """Problems in file order (stable, so problems on one line keep the order they were found in)."""

    def line(problem: str) -> int:
        number = problem[len(name) + 1 :].split(":", 1)[0]
        return int(number) if number.isdigit() else 0

    return sorted(problems, key=line)


def read_codebook_text(path: str | Path) -> str:
    """A codebook file's text (UTF-8, BOM dropped), with a clear error for a missing or unreadable file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CodebookError(f"codebook file {path} does not exist") from None
    except IsADirectoryError:
        raise CodebookError(f"{path} is a folder, not a codebook file") from None
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise CodebookError(f"cannot read codebook {path}: {exc.strerror or exc}") from None
    return text.removeprefix("\ufeff")


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate a codebook file."""
    return parse_codebook(read_codebook_text(path), name=str(path))


def codebook_hash(cb: Codebook) -> str:
    """SHA-256 of the codebook's canonical JSON: layout, comments and explicit defaults do not change it."""
    canonical = json.dumps(cb.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------------------------------ writing

_CODE_KEYS = (
    "id", "name", "parent", "color", "definition", "include", "exclude", "renamed_from", "merged_into",
    "retired", "refi_guid", "examples", "rules", "children",
)  # fmt: skip


class _FlowList(list):  # type: ignore[type-arg]
    """A term list or token pattern, written inline as methodologists write them by hand."""


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    if any(char in value for char in "\r\x85\u2028\u2029"):
        # PyYAML writes these unusual line breaks unescaped in plain and block styles, and reading them
        # back folds them into spaces or newlines; only double quotes keep them exact.
        style = '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", list(v), flow_style=True)
)


def _tidy_code(raw: dict[str, Any]) -> dict[str, Any]:
    out = {key: raw[key] for key in _CODE_KEYS if key in raw}
    for kind, examples in out.get("examples", {}).items():
        # An example in the default language is written as a bare string, as people write them.
        out["examples"][kind] = [e["text"] if set(e) == {"text"} else e for e in examples]
    rules = out.get("rules", {})
    if "terms" in rules:
        rules["terms"] = {lang: _FlowList(terms) for lang, terms in rules["terms"].items()}
    if "patterns" in rules:
        rules["patterns"] = {lang: [_FlowList(p) for p in ps] for lang, ps in rules["patterns"].items()}
    if "children" in out:
        out["children"] = [_tidy_code(child) for child in out["children"]]
    return out


def codebook_to_yaml(cb: Codebook) -> str:
    """A clean YAML rendering (nested children, defaults left out) that parses back to an equal codebook."""
    raw = cb.model_dump(mode="json", exclude_defaults=True)
    raw["codes"] = [_tidy_code(code) for code in raw.get("codes", [])]
    if "languages" in raw:
        raw["languages"] = _FlowList(raw["languages"])
    if not raw["codes"]:
        del raw["codes"]
    return yaml.dump(raw, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110)
