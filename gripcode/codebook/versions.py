"""The codebook versions a project was synced with, read without loading the YAML and pydantic machinery.

Analyses only name the version they ran under (in their provenance); importing :mod:`gripcode.codebook.sync`
for that would load the codebook loader, PyYAML and pydantic at every analysis command's start.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gripcode.db.models import CodebookVersion


def latest_version(session: Session) -> CodebookVersion | None:
    return session.scalars(select(CodebookVersion).order_by(CodebookVersion.id.desc()).limit(1)).first()
