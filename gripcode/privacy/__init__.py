"""Pseudonymisation: find personal names and other identifying values, let a person review the proposals,
apply the accepted ones to a new project with every coding remapped, and keep the key only in an encrypted file.

``keyfile`` (the encrypted store), ``detect`` (what is proposed), ``review`` (the proposals and decisions),
``spans`` (finding accepted values and mapping offsets), ``rewrite`` (copying a project with new texts) and
``service`` (the operations the command line calls).
"""
