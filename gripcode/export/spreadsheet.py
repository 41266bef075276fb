"""The one guard against formula injection that every CSV and XLSX writer uses.

A spreadsheet opening a CSV (or an XLSX cell stored as a formula) runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula, and some also after a leading tab or carriage return, so a document title such as
``=HYPERLINK("http://...")`` could call out or run commands when a colleague opens an export. Such strings
get a leading apostrophe, which spreadsheets show as text (OWASP's advice on CSV injection); the XLSX writer
asks :func:`runs_as_formula` which strings those are and marks them with Excel's quote-prefix style instead,
since Excel shows an apostrophe stored in a cell literally. Kept apart from the table writers, so that the
command line's listings can use it without loading them.
"""

from __future__ import annotations

from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_T = TypeVar("_T")


def runs_as_formula(value: object) -> bool:
    """Whether ``value`` is a string a spreadsheet would run as a formula.

    Only strings: a number such as -0.12 stays a number (writers pass numbers through as numbers). A lone
    ``-``, the usual mark for "no value", is not a formula in any spreadsheet.
    """
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and value != "-"


def neutralise_formula(value: _T) -> _T | str:
    """``value`` with a leading apostrophe if :func:`runs_as_formula` says a spreadsheet would run it."""
    return "'" + value if runs_as_formula(value) else value  # type: ignore[operator]
