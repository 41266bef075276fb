"""The exceptions gripcode raises on purpose.

Library code raises a subclass of :class:`GripcodeError` with a message a researcher can act on;
the command line turns every one of them into ``Error: <message>`` and exit code 1 in one place
(``gripcode.cli.main``). Anything else that escapes is a bug.
"""

from __future__ import annotations


class GripcodeError(Exception):
    """Base class: a problem with the user's input, files or database, explained in plain words."""


class ConfigError(GripcodeError):
    """Settings, database URLs or options that cannot be used."""


class DatabaseError(GripcodeError):
    """The database cannot be opened, is not initialised, or is at the wrong schema version."""


class ProjectBusyError(DatabaseError):
    """Another command held a lock this one needed for longer than the busy timeout; nothing was changed."""


class NotFoundError(GripcodeError):
    """A case, document, code, coder or coding that was named does not exist (or is ambiguous)."""


class DocumentImportError(GripcodeError):
    """A file or manifest row could not be imported."""


class CodebookError(GripcodeError):
    """A codebook file is invalid or cannot be synced."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        if self.problems:
            message = message + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class CodingError(GripcodeError):
    """A coding cannot be applied, edited or removed as asked."""


class AnalysisError(GripcodeError):
    """A comparison, reliability or export request that cannot be computed."""


class RoundError(GripcodeError):
    """A reliability round cannot be started, closed or adjudicated as asked."""


class ExchangeError(GripcodeError):
    """A REFI-QDA file that cannot be read or written safely."""





class LlmError(GripcodeError):
    """A language-model run that cannot start or go on: no server, an unknown model, text that may not leave
    the machine."""
