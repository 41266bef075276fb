"""What every command gets from the ``gripcode`` group: settings, and an engine opened on first use."""

from __future__ import annotations

from dataclasses import dataclass

import click
from sqlalchemy import Engine

from gripcode.config import Settings
from gripcode.db.engine import make_engine, require_existing_file
from gripcode.db.migrate import require_current
from gripcode.errors import DatabaseError


@dataclass
class App:
    settings: Settings
    _engine: Engine | None = None
    _schema_checked: bool = False

    def engine(self, *, check_schema: bool = True, create: bool = False) -> Engine:
        """The project's engine; by default it must be initialised and at the newest schema. Only with
        ``create`` (``gripcode init``) may a SQLite file that does not exist yet be made."""
        if self._engine is None:
            engine = make_engine(self.settings.db_url, busy_timeout=self.settings.busy_timeout)
            if not create:
                try:
                    require_existing_file(engine)
                except DatabaseError:
                    engine.dispose()
                    raise
            self._engine = engine
        if check_schema and not self._schema_checked:
            require_current(self._engine)
            self._schema_checked = True
        return self._engine

    @property
    def coder(self) -> str:
        return self.settings.coder

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


pass_app = click.make_pass_decorator(App)
