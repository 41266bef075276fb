"""Zip archives read within limits: a .docx document and a .qdpx project are zips made by someone else.

Sizes are checked twice: as the archive declares them, before anything is decompressed (each member, the
whole archive, and how far a member inflates from its compressed size), and again while reading, so that a
member whose header lies stops being read at its declared size or at the limit, whichever is smaller.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from gripcode.errors import GripcodeError

_CHUNK = 1 << 16
_MIB = 1 << 20

# What a damaged member raises while it is unpacked: a CRC mismatch (what a member that lies about its size
# ends in, too), a truncated stream, or compressed data the decompressor cannot follow. bz2 reports the
# last as an OSError without an errno, told apart from a failed read below.
_DAMAGED: tuple[type[Exception], ...] = (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, zlib.error)
try:
    import lzma

    _DAMAGED += (lzma.LZMAError,)
except ImportError:  # a Python built without lzma cannot open such members at all (NotImplementedError)
    pass


@dataclass(frozen=True)
class ZipLimits:
    """How much an archive may hold; generous for real documents and projects, far below a zip bomb."""

    max_members: int = 50_000
    max_member_bytes: int = 512 * _MIB
    max_total_bytes: int = 2048 * _MIB
    # Text and XML compress 5-20 times; 100 times is only reached by padding. Small members are exempt,
    # because a short run of blanks can compress further without harming anyone.
    max_ratio: int = 100
    ratio_exempt_bytes: int = 1 * _MIB


def size_text(n: int) -> str:
    """A size as people read it, in the MB (1,000,000 bytes) that ``gripcode import --max-size`` takes."""
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def check_declared(infos: list[zipfile.ZipInfo], limits: ZipLimits, where: str,
                   error: type[GripcodeError], hint: str = "", streamed: Collection[str] = ()) -> None:
    """Refuse, before decompressing anything, an archive whose declared sizes break ``limits``; ``hint`` (how
    to raise the limits) ends the messages about sizes. Members named in ``streamed`` are read a piece at a
    time (``iter_member``), never held whole, so the limit per member does not apply to them: only the ratio
    and the total do, which is what stops a zip bomb."""
    hint = f"; {hint}" if hint else ""
    if len(infos) > limits.max_members:
        raise error(f"{where} holds {len(infos)} files; refused above {limits.max_members}")
    total = 0
    for info in infos:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            raise error(f"{where}: the member {info.filename!r} is encrypted; save it without a password")
        if info.file_size > limits.max_member_bytes and info.filename not in streamed:
            raise error(f"{where}: the member {info.filename!r} unpacks to {size_text(info.file_size)}; "
                        f"refused above {size_text(limits.max_member_bytes)}{hint}")
        if (info.file_size > limits.ratio_exempt_bytes
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
            ratio = info.file_size // max(info.compress_size, 1)
            raise error(f"{where}: the member {info.filename!r} would unpack to {size_text(info.file_size)} "
                        f"from {size_text(info.compress_size)} ({ratio} times): refused as a likely zip bomb")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise error(f"{where} unpacks to more than {size_text(limits.max_total_bytes)}; refused{hint}")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, where: str,
                error: type[GripcodeError], already_read: int = 0, hint: str = "") -> bytearray:
    """The bytes of ``info``, never more than it declares, ``limits`` allow per member, or the total allows
    after ``already_read`` bytes of other members.

    The buffer they were read into is returned as it is: a copy as ``bytes`` would double the memory of a
    member of hundreds of MB."""
    out = bytearray()
    for chunk in iter_member(archive, info, limits, where, error, already_read, hint):
        out += chunk
    return out


def iter_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits, where: str,
                error: type[GripcodeError], already_read: int = 0, hint: str = "", *,
                streamed: bool = False) -> Iterator[bytes]:
    """The bytes of ``info`` in pieces, with the checks of ``read_member``; with ``streamed`` the caller holds
    one piece at a time, and the member is held to what it declares and to the total, not to the limit per
    member."""
    hint = f"; {hint}" if hint else ""
    limit = info.file_size if streamed else min(info.file_size, limits.max_member_bytes)
    size = 0
    try:
        with archive.open(info) as stream:
            while True:
                chunk = stream.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise error(f"{where}: the member {info.filename!r} unpacks to more than the "
                                f"{size_text(limit)} it declares: refused as a likely zip bomb")
                if already_read + size > limits.max_total_bytes:
                    raise error(f"{where} unpacks to more than {size_text(limits.max_total_bytes)}; "
                                f"refused{hint}")
                yield chunk
    except _DAMAGED as exc:
        raise error(f"{where}: the member {info.filename!r} cannot be unpacked (its compressed data is "
                    f"damaged): {exc}") from None
    except OSError as exc:
        if exc.errno is None:  # bz2's "Invalid data stream", not a failed read of the file
            raise error(f"{where}: the member {info.filename!r} cannot be unpacked (its compressed data is "
                        f"damaged): {exc}") from None
        raise error(f"cannot read {where}: {exc.strerror or exc}") from None
