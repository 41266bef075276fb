"""Team work across copies of a project: stable identities (``identity``), a coder's copy (``copy``) and the
merge of a copy's work back (``merge``). Rows are matched by their GUIDs, never by name or position."""
