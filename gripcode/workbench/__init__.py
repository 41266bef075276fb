"""The coding workbench: a full-screen front end (Textual) beside the command line.

Like ``gripcode.cli`` it holds no SQL and no coding rules: every action calls the library in ``gripcode.coding``.
Only this package and ``gripcode.cli`` import Textual; this module and ``keys`` import nothing heavy, so the
command line can show the key map without loading Textual.
"""
