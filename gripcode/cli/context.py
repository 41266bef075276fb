"""What every command gets from the ``gripcode`` group: settings, and an engine opened on first use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click
from sqlalchemy import Engine

from gripcode.config import Settings
from gripcode.db.engine import make_engine
from gripcode.db.migrate import require_current

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class App:
    settings: Settings
    _engines: dict[bool, Engine] = field(default_factory=dict)

    def engine(self, *, check_schema: bool = True) -> Engine:
        """The project's engine; by default it must be initialised and at the newest schema."""
        if check_schema not in self._engines:
            engine = self._engines.get(not check_schema) or make_engine(self.settings.db_url)
            if check_schema:
                require_current(engine)
            self._engines[check_schema] = engine
        return self._engines[check_schema]

    @property
    def coder(self) -> str:
        return self.settings.coder

    def close(self) -> None:
        for engine in set(self._engines.values()):
            engine.dispose()


pass_app = click.make_pass_decorator(App)
