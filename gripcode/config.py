"""Settings: where the database is and who is coding.

Precedence, highest first: an explicit argument (the CLI's ``--db``/``--coder``), the environment
(``GRIPCODE_DB``, ``GRIPCODE_CODER``), a ``gripcode.toml`` in the current folder, then the defaults
(``sqlite:///gripcode.db`` in the current folder, and the login name).
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from gripcode.errors import ConfigError

DEFAULT_DB_URL = "sqlite:///gripcode.db"
# Seconds a write waits for another command's write lock before it answers that the project is busy.
DEFAULT_BUSY_TIMEOUT = 10.0
CONFIG_FILE = "gripcode.toml"
# The largest document an import accepts, in MB, unless --max-size or max_document_mb says otherwise.
DEFAULT_MAX_DOCUMENT_MB = 500.0
# The largest document limit that can be set, in MB (100 GB): far above any document, and finite, so that
# the limit in bytes fits the integers that readers pass on (the csv module's field limit is a C long).
LARGEST_MAX_DOCUMENT_MB = 100_000.0


@dataclass(frozen=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    coder: str = "researcher"
    # Trained spaCy pipelines per language, e.g. {"en": "en_core_web_sm"}; blank pipelines otherwise.
    pipelines: dict[str, str] = field(default_factory=dict)
    # The largest document an import accepts, in MB (``max_document_mb``; ``gripcode import --max-size``).
    max_document_mb: float = DEFAULT_MAX_DOCUMENT_MB
    # Seconds a write waits for another command's write lock before it answers that the project is busy.
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT


def _login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry in some containers
        return "researcher"


def _read_toml(folder: Path) -> dict:
    path = folder / CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
    return data.get("gripcode", data)


def normalise_db_url(value: str) -> str:
    """Accept a bare file path as shorthand for a SQLite database."""
    value = value.strip()
    if not value:
        raise ConfigError("the database URL is empty")
    if "://" in value:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            # psycopg 3 is the driver gripcode installs; make the plain form work too.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{value}"


def load_settings(db: str | None = None, coder: str | None = None, folder: Path | None = None) -> Settings:
    file_settings = _read_toml(folder or Path.cwd())
    db_url = db or os.environ.get("GRIPCODE_DB") or file_settings.get("db") or DEFAULT_DB_URL
    coder_name = coder or os.environ.get("GRIPCODE_CODER") or file_settings.get("coder") or _login_name()
    pipelines = file_settings.get("pipelines", {})
    if not isinstance(pipelines, dict):
        raise ConfigError(f"{CONFIG_FILE}: [pipelines] must map language codes to pipeline names")
    max_mb = file_settings.get("max_document_mb", Settings.max_document_mb)
    if (isinstance(max_mb, bool) or not isinstance(max_mb, (int, float))
            or not 0 < max_mb <= LARGEST_MAX_DOCUMENT_MB):
        raise ConfigError(f"{CONFIG_FILE}: max_document_mb must be a positive number of megabytes up to "
                          f"{LARGEST_MAX_DOCUMENT_MB:,.0f}, not {max_mb!r}")
    busy_timeout = _seconds(os.environ.get("GRIPCODE_BUSY_TIMEOUT") or file_settings.get("busy_timeout"),
                            DEFAULT_BUSY_TIMEOUT)
    return Settings(db_url=normalise_db_url(db_url), coder=coder_name.strip() or _login_name(), pipelines=pipelines,
                    max_document_mb=float(max_mb), busy_timeout=busy_timeout)


def _seconds(value: object, default: float) -> float:
    if value is None or value == "":
        return default
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = -1.0
    if not 0 <= seconds <= 86400:
        raise ConfigError(f"busy_timeout (GRIPCODE_BUSY_TIMEOUT) must be a number of seconds from 0 to 86400, "
                          f"not {value!r}")
    return seconds
