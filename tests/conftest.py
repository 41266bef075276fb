"""Shared fixtures: a fresh project database per test, on SQLite or on GRIPCODE_TEST_DB (PostgreSQL)."""

from __future__ import annotations

import os
import struct
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gripcode.cli.main import cli
from gripcode.db.engine import make_engine

REPO = Path(__file__).resolve().parent.parent
# The installed `gripcode` program (the console script beside this interpreter), for tests of what users run.
PROGRAM = Path(sys.executable).parent / "gripcode"

# A codebook of two codes, one with a rule, for tests that need a small synced project.
TWO_CODES = """\
codebook: {name}
codes:
  - id: export-restrictions
    name: Export restrictions
    definition: Limits on shipping rare earths abroad.
    rules:
      terms:
        en: [export quota, export quotas]
  - id: price-control
    name: Price control
    definition: A state that sets or steers prices.
"""


def declare_size(path: Path, member: str, size: int) -> None:
    """Overwrite the uncompressed size a zip's local header and central directory give for ``member``."""
    data, name = bytearray(path.read_bytes()), member.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start != -1:
            if data[start + name_at:start + name_at + len(name)] == name:
                struct.pack_into("<I", data, start + size_at, size)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def postgres_url() -> str:
    """A reachable PostgreSQL URL, or skip with the reason."""
    url = os.environ.get("GRIPCODE_TEST_DB", "")
    url = url if url.startswith("postgresql") else PG_DEFAULT
    try:
        engine = make_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # any connection failure means: no server here
        pytest.skip(f"no PostgreSQL server at {url}: {exc.__class__.__name__}")
    return url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """An empty database: SQLite in tmp_path, or the PostgreSQL database named by GRIPCODE_TEST_DB (wiped)."""
    url = os.environ.get("GRIPCODE_TEST_DB")
    if url and url.startswith("postgresql"):
        reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path / 'project.db'}"


class Gripcode:
    """Runs the CLI against one database, like a user in a shell."""

    def __init__(self, url: str, coder: str = "tester") -> None:
        self.url, self.coder = url, coder
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):  # noqa: A002 - click's name
        return self.runner.invoke(cli, ["--db", self.url, "--coder", self.coder, *args], input=input)

    def ok(self, *args: str, input: str | None = None):
        result = self(*args, input=input)
        assert result.exit_code == 0, f"{args}: exit {result.exit_code}\n{result.output}\n{result.exception!r}"
        return result


@pytest.fixture
def grip(db_url: str) -> Gripcode:
    g = Gripcode(db_url)
    g.ok("init")
    return g


@pytest.fixture
def corpus_dir() -> Path:
    return REPO / "corpus"


def damage_member(path: Path, member: str, keep: int = 0) -> None:
    """Overwrite the compressed data of ``member`` after its first ``keep`` bytes with 0xff bytes (sizes and
    the archive's structure unchanged): a deflate stream then starts with an invalid block type, a bzip2 or
    LZMA one loses its block."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    start = info.header_offset
    name_length, extra_length = struct.unpack_from("<HH", data, start + 26)
    begin = start + 30 + name_length + extra_length + keep
    data[begin:start + 30 + name_length + extra_length + info.compress_size] = (
        b"\xff" * (info.compress_size - keep))
    path.write_bytes(bytes(data))
