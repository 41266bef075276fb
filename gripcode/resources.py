"""Folders shipped with gripcode: the sample corpus, the study's codebooks and the migrations.

In a source checkout they are top-level folders; a wheel carries them inside the package as ``_<name>``.
"""

from __future__ import annotations

from pathlib import Path

from gripcode.errors import GripcodeError

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PACKAGE_DIR / f"_{name}", _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise GripcodeError(f"the {name} folder is missing from this installation of gripcode")
