"""Case attributes and document fields as typed REFI-QDA variables, for the .qdpx export.

Each case attribute is a variable of scope ``case``; a document's kind, language, date and source, and each
of its metadata keys, are variables of scope ``document`` named ``Document <field>``. A variable's type is
the REFI type of its values (Text, Boolean, Integer, Float, Date), or Text where they differ, so every value
can be written. Metadata that is not a single value (a PDF's page offsets) travels as JSON text under
``Document <key> (JSON)``; the import reads these names back (:mod:`gripcode.exchange.qdpx_read`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from gripcode.codebook.refi_common import derived_guid, escape_text, xml_safe
from gripcode.db.models import Case, Document

DOCUMENT_VARIABLE_PREFIX = "Document "
JSON_SUFFIX = " (JSON)"


def variable_guid(scope: str, name: str, kind: str) -> str:
    return derived_guid("variable", scope, name, kind)


def _decimal(value: float) -> str:
    # xsd:decimal has no exponent: 1e-07 must be written 0.0000001.
    return format(Decimal(repr(value)), "f")


_REFI_TYPE = {str: "Text", bool: "Boolean", int: "Integer", float: "Float", dt.date: "Date"}
_VALUE_ELEMENT = {"Text": "TextValue", "Boolean": "BooleanValue", "Integer": "IntegerValue", "Float": "FloatValue",
                  "Date": "DateValue"}


def _refi_type(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "Text"
    return _REFI_TYPE.get(type(value))


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value):
        return _decimal(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class Variables:
    """Typed variables collected from case attributes and document fields, one per (scope, name)."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[int, Any]] = defaultdict(dict)
        self._declared: list[tuple[str, str, str, str]] | None = None

    def add(self, scope: str, name: str, owner: int, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()) or _refi_type(value) is None:
            return
        self.values[(scope, name)][owner] = value

    def declared(self) -> list[tuple[str, str, str, str]]:
        """(scope, name, type, guid) in a fixed order."""
        if self._declared is not None:
            return self._declared
        out = []
        for (scope, name), by_owner in sorted(self.values.items()):
            kinds = {kind for v in by_owner.values() if (kind := _refi_type(v)) is not None}
            kind = kinds.pop() if len(kinds) == 1 else "Text"
            out.append((scope, name, kind, variable_guid(scope, name, kind)))
        self._declared = out
        return out

    def xml(self, scope: str, owner: int, indent: str) -> list[str]:
        lines = []
        for var_scope, name, kind, guid in self.declared():
            if var_scope != scope or owner not in self.values[(scope, name)]:
                continue
            value = xml_safe(_value_text(self.values[(scope, name)][owner]), f"the value of {name!r}")
            element = _VALUE_ELEMENT[kind]
            lines += [f"{indent}<VariableValue>", f'{indent}  <VariableRef targetGUID="{guid}"/>',
                      f"{indent}  <{element}>{escape_text(value)}</{element}>", f"{indent}</VariableValue>"]
        return lines


def collect_variables(cases: list[Case], documents: list[Document]) -> Variables:
    """The variables of these cases' attributes and these documents' fields."""
    variables = Variables()
    for case in cases:
        for attr in case.attributes:
            variables.add("case", attr.key, case.id, attr.value)
    for doc in documents:
        fields: dict[str, Any] = {"kind": doc.kind, "language": doc.language, "date": doc.date,
                                  "source": doc.source}
        for key, value in sorted((doc.meta or {}).items()):
            if key in fields or value is None:
                continue
            if isinstance(value, (str, int, float, bool)):
                fields[key] = value
            else:  # lists and mappings (a PDF's page offsets) travel as JSON text
                fields[key + JSON_SUFFIX] = json.dumps(value, ensure_ascii=False, sort_keys=True)
        for key, value in fields.items():
            variables.add("document", DOCUMENT_VARIABLE_PREFIX + key, doc.id, value)
    return variables
