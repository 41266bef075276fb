"""REFI-QDA project exchange (``.qdpx``) with NVivo, ATLAS.ti, MAXQDA, QualCoder and other programs.

``export_qdpx`` writes a project; ``import_qdpx`` reads one into a new or existing project. Both work in the
caller's transaction. See ``gripcode/docs/refi-qda.md`` for what is carried and what is not.
"""

from __future__ import annotations

from gripcode.exchange.qdpx_archive import ArchiveLimits
from gripcode.exchange.qdpx_export import ExportReport, export_qdpx
from gripcode.exchange.qdpx_import import QdpxImportReport, import_qdpx
from gripcode.exchange.qdpx_positions import ORIGINS

__all__ = ["ORIGINS", "ArchiveLimits", "ExportReport", "QdpxImportReport", "export_qdpx", "import_qdpx"]
