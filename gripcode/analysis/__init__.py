"""Cross-case analysis: every function takes a SQLAlchemy session and returns a pandas DataFrame.

    from gripcode.analysis import compare_cases, framework_matrix, project_session

    with project_session("sqlite:///gripcode-demo/gripcode.db") as session:
        table = compare_cases(session, by="case", measures=["share"], kinds=["interview"])

Filters are keyword criteria (``codes``, ``cases``, ``kinds``, ``languages``, ``date_from``, ``date_to``,
``coders``, ``statuses``, ``documents``) or a :class:`Filters` built with :func:`make_filters`. Only accepted
codings count unless ``statuses`` says otherwise; aggregation runs in SQL. ``compare_grid``, ``retrieve_grid``
and ``framework_grid`` give the same tables as plain rows (a :class:`~gripcode.export.grid.Grid`), which is
what the command line renders, without loading pandas.
"""

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from gripcode.analysis.compare import MEASURES, compare_cases, compare_grid, group_sizes
from gripcode.analysis.filters import Filters, make_filters
from gripcode.analysis.framework import framework_grid, framework_matrix
from gripcode.analysis.retrieve import retrieve, retrieve_grid

# Loaded on first use: these need numpy, pandas or scipy as soon as they are imported, which the modules above
# load only when a DataFrame is asked for.
_LAZY = {"code_document_matrix": "matrices", "cooccurrence": "matrices", "presence_tests": "significance"}

__all__ = ["MEASURES", "Filters", "compare_cases", "compare_grid", "framework_grid", "framework_matrix", "group_sizes",
           "make_filters", "project_session", "retrieve", "retrieve_grid", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


@contextmanager
def project_session(url: str) -> Iterator[Session]:
    """A read-only look at a project: a session on the database at ``url`` (a URL or a SQLite file path)."""
    from gripcode.config import normalise_db_url
    from gripcode.db.engine import make_engine, require_existing_file, transaction
    from gripcode.db.migrate import require_current

    engine = make_engine(normalise_db_url(url))
    try:
        require_existing_file(engine)  # a mistyped path is an error, not a new empty file
        require_current(engine)
        with transaction(engine, write=False) as session:
            yield session
            session.rollback()
    finally:
        engine.dispose()


__all__ = [
    "MEASURES", "Filters", "code_document_matrix", "compare_cases", "cooccurrence", "framework_matrix",
    "group_sizes", "make_filters", "presence_tests", "project_session", "retrieve",
]
