"""Writing an export to its destination: the content is complete before the file is opened, so a failure
never leaves half a file, and an unusable path becomes a message instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gripcode.errors import GripcodeError


def write_output(out: str | Path, data: bytes | str, *, error: type[GripcodeError] = GripcodeError) -> None:
    """Write ``data`` (str as UTF-8) to ``out``; raise ``error`` with a plain reason when it cannot be done."""
    out = Path(out)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with unusable_path(out, error):
        out.write_bytes(payload)


@contextmanager
def unusable_path(out: Path, error: type[GripcodeError] = GripcodeError) -> Iterator[None]:
    """Turn the operating system's refusal to write ``out`` (or a file beside it) into ``error`` with a plain
    reason."""
    try:
        yield
    except IsADirectoryError:
        raise error(f"cannot write {out}: it is a folder; give a file name") from None
    except FileNotFoundError:
        raise error(f"cannot write {out}: the folder {out.parent} does not exist") from None
    except NotADirectoryError:
        raise error(f"cannot write {out}: part of the path {out.parent} is not a folder") from None
    except PermissionError:
        raise error(f"cannot write {out}: permission denied") from None
    except OSError as exc:
        raise error(f"cannot write {out}: {exc.strerror or exc}") from None
