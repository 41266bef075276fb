"""Cross-case analysis: every function takes a SQLAlchemy session and returns a pandas DataFrame.

    from gripcode.analysis import compare_cases, framework_matrix, project_session

    with project_session("sqlite:///gripcode-demo/gripcode.db") as session:
        table = compare_cases(session, by="case", measures=["share"], kinds=["interview"])

Filters are keyword criteria (``codes``, ``cases``, ``kinds``, ``languages``, ``date_from``, ``date_to``,
``coders``, ``statuses``, ``documents``) or a :class:`Filters` built with :func:`make_filters`. Only accepted
codings count unless ``statuses`` says otherwise; aggregation runs in SQL.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from gripcode.analysis.compare import MEASURES, compare_cases, group_sizes
from gripcode.analysis.filters import Filters, make_filters
from gripcode.analysis.matrices import code_document_matrix, cooccurrence, framework_matrix
from gripcode.analysis.retrieve import retrieve
from gripcode.analysis.significance import presence_tests


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
