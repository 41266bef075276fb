"""The .qdpx container: a zip with one ``.qde`` project file and the sources, read defensively, written
reproducibly.

A project file comes from another program or another person, so reading trusts nothing in it: member paths
that are absolute or climb out with ``..`` are refused outright (gripcode never extracts by member name,
but such a path means the archive was made to attack some other program), and sizes are checked twice,
once as the archive declares them (before anything is decompressed) and again while reading, so a member
that inflates beyond what it declared, or beyond the limits, stops being read at the limit.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from types import TracebackType

from gripcode.corpus.bounded_zip import ZipLimits, check_declared, iter_member, read_member, size_text
from gripcode.errors import ExchangeError
from gripcode.export.files import unusable_path

QDE_NAME = "project.qde"
SOURCES_FOLDER = "sources"
INTERNAL_PREFIX = "internal://"
# Zip timestamps cannot be earlier than 1980; a fixed one makes two exports of the same project identical.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


# How much a .qdpx may hold: the limits shared with the .docx reader. The project file is parsed as it is
# unpacked, never held whole, so the limit per member does not apply to it; the ratio and the total do.
ArchiveLimits = ZipLimits


_DRIVE = re.compile(r"^[A-Za-z]:")


def _unsafe_path(name: str) -> str | None:
    """Why the member path ``name`` is refused, or None when it is an ordinary relative path."""
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        return "is absolute"
    if ".." in path.split("/"):
        return "climbs out of the archive with '..'"
    if "\x00" in path:
        return "contains a NUL character"
    return None


class QdpxArchive:
    """An open .qdpx: its checked member list, the project file's bytes, and bounded reads of sources."""

    def __init__(self, path: Path, limits: ArchiveLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or ArchiveLimits()
        self._read_total = 0
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ExchangeError(f"{self.path} does not exist") from None
        except IsADirectoryError:
            raise ExchangeError(f"{self.path} is a folder, not a .qdpx file") from None
        except zipfile.BadZipFile:
            raise ExchangeError(f"{self.path.name} is not a .qdpx project: it is not a zip archive") from None
        except OSError as exc:
            raise ExchangeError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        try:
            self._members, self.qde_name = self._checked_members()
        except BaseException:
            self._zip.close()
            raise
        # Lower-case paths with forward slashes, so "Sources/X.txt" and "sources\\x.txt" find the same member.
        self._by_folded = {name.replace("\\", "/").lower(): name for name in self._members}

    def __enter__(self) -> QdpxArchive:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    def _checked_members(self) -> tuple[dict[str, zipfile.ZipInfo], str]:
        infos = self._zip.infolist()
        where = self.path.name
        for info in infos:
            reason = _unsafe_path(info.filename)
            if reason is not None:
                raise ExchangeError(f"{where} contains the member {info.filename!r}, whose path {reason}: refused "
                                    "(a .qdpx never needs such a path; the archive may be crafted to overwrite files)")
        members = {info.filename: info for info in infos if not info.is_dir()}
        qde = self._find_qde(members)
        check_declared(infos, self.limits, where, ExchangeError,
                       streamed=[qde] if not isinstance(qde, ExchangeError) else [])
        if isinstance(qde, ExchangeError):
            raise qde
        return members, qde

    def _find_qde(self, members: dict[str, zipfile.ZipInfo]) -> str | ExchangeError:
        candidates = [name for name in members if name.lower().endswith(".qde") and not name.startswith("__MACOSX/")]
        if not candidates:
            return ExchangeError(f"{self.path.name} has no .qde project file; is it a REFI-QDA project (.qdpx)?")
        if len(candidates) > 1:
            at_root = [name for name in candidates if "/" not in name.replace("\\", "/")]
            if len(at_root) == 1:
                return at_root[0]
            return ExchangeError(f"{self.path.name} holds several project files ({', '.join(sorted(candidates))}); "
                                 "expected one")
        return candidates[0]

    @property
    def names(self) -> list[str]:
        return list(self._members)

    def read(self, name: str) -> bytearray:
        """The bytes of member ``name``, never more than it declares or the limits allow (in the buffer they
        were read into, not copied: the readers take any bytes-like object)."""
        data = read_member(self._zip, self._members[name], self.limits, self.path.name, ExchangeError,
                           self._read_total)
        self._read_total += len(data)
        return data

    def read_qde(self) -> bytearray:
        return self.read(self.qde_name)

    def stream_qde(self) -> Iterator[bytes]:
        """The project file in pieces as it is unpacked, held to what it declares and, with whatever else is
        read meanwhile, to the total limit (not to the limit per member: it is never held whole)."""
        for chunk in iter_member(self._zip, self._members[self.qde_name], self.limits, self.path.name, ExchangeError,
                                 streamed=True):
            self._read_total += len(chunk)
            if self._read_total > self.limits.max_total_bytes:
                raise ExchangeError(f"{self.path.name} unpacks to more than {size_text(self.limits.max_total_bytes)}; "
                                    "refused")
            yield chunk

    def resolve(self, reference: str | None) -> str | None:
        """The member a source path points to, or None when the archive does not hold it.

        Accepts ``internal://name`` (the standard form: a file in the sources folder), a path relative to the
        archive, ``Sources/`` in any case, and, as a last resort, the file name of an absolute path some tools
        leave behind when the file was copied into the archive anyway.
        """
        if not reference or not reference.strip():
            return None
        ref = reference.strip().replace("\\", "/")
        if ref.lower().startswith(INTERNAL_PREFIX):
            ref = ref[len(INTERNAL_PREFIX):]
        elif ref.lower().startswith("file://"):
            ref = ref[len("file://"):]
        ref = ref.lstrip("/")
        candidates = [ref, f"{SOURCES_FOLDER}/{ref}", f"{SOURCES_FOLDER}/{PurePosixPath(ref).name}"]
        for candidate in candidates:
            found = self._by_folded.get(candidate.lower())
            if found is not None:
                return found
        return None


def write_qdpx_streamed(path: Path, qde: Iterable[str], sources: Iterable[tuple[str, bytes]]) -> None:
    """Write ``project.qde`` (given in pieces) and ``sources/<name>`` members (given in name order) with fixed
    timestamps, so the same project always gives the same bytes. The archive goes to a file beside ``path`` as
    it is made and takes its place when complete: a failure leaves no file, and memory holds one piece."""
    partial = path.with_name(path.name + ".partial")
    with unusable_path(path, ExchangeError):
        handle = partial.open("wb")
    try:
        with handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            with archive.open(_member(QDE_NAME), "w") as stream:
                for piece in qde:
                    stream.write(piece.encode("utf-8"))
            previous = ""
            for name, data in sources:
                if name <= previous:
                    raise ValueError(f"sources out of order: {name} after {previous}")
                previous = name
                archive.writestr(_member(f"{SOURCES_FOLDER}/{name}"), data)
        if path.is_dir():
            raise ExchangeError(f"cannot write {path}: it is a folder; give a file name")
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o644 << 16
    return info
