"""The names of the table formats, importable without pandas (the command line builds its options from them)."""

TABLE_FORMATS = ("table", "csv", "xlsx", "latex", "markdown", "html", "json")
