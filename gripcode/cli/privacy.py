"""gripcode pseudonymise propose|list|accept|reject|edit|add|export|import|apply|reverse"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option
from gripcode.db.models import DOCUMENT_KINDS

_KINDS = ("person", "organisation", "place", "email", "phone", "url")
_STATUSES = ("proposed", "accepted", "rejected")
_PASSPHRASE_ENV = "GRIPCODE_KEY_PASSPHRASE"


def _key_option(fn):  # type: ignore[no-untyped-def]
    return click.option("--key", "key", required=True, type=click.Path(dir_okay=False, path_type=Path),
                        metavar="KEYFILE",
                        help="The encrypted key file; its passphrase comes from GRIPCODE_KEY_PASSPHRASE or a "
                             "prompt, never the command line.")(fn)


def _passphrase(key: Path) -> str:
    value = os.environ.get(_PASSPHRASE_ENV)
    if value:
        return value
    new = not key.exists()
    try:
        return click.prompt(f"Passphrase for {'the new key file ' if new else ''}{key}", hide_input=True,
                            confirmation_prompt=new, err=True)
    except click.Abort:
        from gripcode.privacy.keyfile import KeyFileError

        raise KeyFileError(f"no passphrase: set {_PASSPHRASE_ENV} or type it when asked") from None


def _propose_options(fn):  # type: ignore[no-untyped-def]
    """The options of `propose`, also taken by `gripcode pseudonymise --key KEYFILE ...` without a subcommand."""
    options = [
        click.option("--docs", "docs", multiple=True, metavar="DOC", help="Only this document (id or title; "
                                                                          "repeatable)."),
        click.option("--case", "cases", multiple=True, help="Only documents of this case (repeatable)."),
        click.option("--kind", "kinds", multiple=True, type=click.Choice(DOCUMENT_KINDS),
                     help="Only documents of this kind (repeatable), e.g. interview."),
        click.option("--language", "languages", multiple=True, help="Only documents in this language (repeatable)."),
        click.option("--names", "names_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="A file of names to replace, one a line (`organisation: NAME` for other kinds)."),
        click.option("--no-informants", is_flag=True, help="Do not take the documents' informant metadata as "
                                                           "names."),
        click.option("--organisations", is_flag=True, help="Also propose organisations (needs a trained "
                                                           "pipeline)."),
        click.option("--places", is_flag=True, help="Also propose places (needs a trained pipeline)."),
        click.option("--emails", is_flag=True, help="Also propose e-mail addresses."),
        click.option("--phones", is_flag=True, help="Also propose phone numbers."),
        click.option("--urls", is_flag=True, help="Also propose web addresses."),
        click.option("--all-kinds", is_flag=True, help="Propose every kind: names, organisations, places, e-mail "
                                                       "addresses, phone numbers and URLs."),
        click.option("--pattern", "patterns", multiple=True, metavar="KIND=PATTERN",
                     help="Pseudonyms for a kind, with {n} or {letter}: person='[Informant {n}]' (repeatable)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


_PROPOSE_PARAMS = ("docs", "cases", "kinds", "languages", "names_file", "no_informants", "organisations", "places",
                   "emails", "phones", "urls", "all_kinds", "patterns")


@click.group("pseudonymise", invoke_without_command=True)
@click.option("--key", "key", type=click.Path(dir_okay=False, path_type=Path), metavar="KEYFILE",
              help="Without a subcommand: the key file to propose into (or, with --reverse, to restore with).")
@_propose_options
@click.option("--reverse", is_flag=True, help="Without a subcommand: restore the original values, as `reverse` "
                                              "(needs --key and --to).")
@click.option("--to", "target", metavar="NEW", help="With --reverse: the restored project to write.")
@click.pass_context
def pseudonymise_group(ctx: click.Context, key: Path | None, reverse: bool, target: str | None,
                       **propose_options) -> None:  # type: ignore[no-untyped-def]
    """Replace names and other identifying values with pseudonyms in a new copy of the project.

    `propose` finds candidates and keeps them in an encrypted KEYFILE; `list`, `accept`, `reject`, `edit`,
    `add`, `export` and `import` are the review; `apply --to NEW` writes a new project with the accepted values
    replaced and every coding remapped; `reverse --to NEW` puts the original values back. The original project
    is never changed, and the key (pseudonym to real value) is only in KEYFILE.

    Without a subcommand: `gripcode pseudonymise [--docs ... --case ... --kind interview] --key KEYFILE` is
    `propose` with those options, and `gripcode pseudonymise --reverse --key KEYFILE --to NEW` is `reverse`.
    """
    given = key is not None or reverse or target is not None or any(
        value not in (None, False, ()) for value in propose_options.values())
    if ctx.invoked_subcommand is not None:
        if given:
            raise click.UsageError(f"give the options after the subcommand: gripcode pseudonymise "
                                   f"{ctx.invoked_subcommand} --key ...")
        return
    if not given:
        click.echo(ctx.get_help())
        return
    if key is None:
        raise click.UsageError("give --key KEYFILE (the encrypted key file to propose into, or to restore with)")
    if reverse:
        if target is None:
            raise click.UsageError("--reverse needs --to NEW, the restored project to write")
        if any(value not in (None, False, ()) for value in propose_options.values()):
            raise click.UsageError("--reverse takes only --key and --to")
        ctx.invoke(reverse_command, key=key, target=target)
        return
    if target is not None:
        raise click.UsageError("--to is for --reverse (or `gripcode pseudonymise apply --to NEW`)")
    ctx.invoke(propose_command, key=key, **propose_options)


@pseudonymise_group.command("propose")
@_key_option
@_propose_options
@pass_app
def propose_command(app: App, key: Path, docs: tuple[str, ...], cases: tuple[str, ...], kinds: tuple[str, ...],
                    languages: tuple[str, ...], names_file: Path | None, no_informants: bool, organisations: bool,
                    places: bool, emails: bool, phones: bool, urls: bool, all_kinds: bool,
                    patterns: tuple[str, ...]) -> None:
    """Find personal names (and, with the flags, other identifying values) in the chosen documents and keep
    them as proposals in KEYFILE (made if new). Names come from the documents' informant metadata, from
    --names, and from the trained spaCy pipelines named in gripcode.toml [pipelines]; e-mail addresses, phone
    numbers and URLs from patterns. Nothing changes until you review them."""
    from gripcode.privacy.service import propose

    parsed: dict[str, str] = {}
    for item in patterns:
        kind, sep, pattern = item.partition("=")
        if not sep or not pattern.strip():
            raise click.UsageError(f"--pattern needs KIND=PATTERN, e.g. person='[Informant {{n}}]' (got {item!r})")
        parsed[kind.strip()] = pattern.strip()
    find = ["person"] + [kind for kind, flag in (("organisation", organisations), ("place", places),
                                                 ("email", emails), ("phone", phones), ("url", urls))
                         if flag or all_kinds]
    report = propose(app.engine(), key, _passphrase(key), docs=docs, cases=cases, kinds=kinds, languages=languages,
                     find=find, names_file=names_file, use_informants=not no_informants, patterns=parsed,
                     pipelines=app.settings.pipelines)
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Looked for {', '.join(find)} in {report.documents} document(s): {len(report.added)} new "
               f"proposal(s); {report.waiting} of {report.total} wait for review in {key}")
    click.echo("Nothing is replaced until you accept: `gripcode pseudonymise list --key ...`")


@pseudonymise_group.command("list")
@_key_option
@click.option("--kind", type=click.Choice(_KINDS), help="Only proposals of this kind.")
@click.option("--status", type=click.Choice(_STATUSES), help="Only proposals with this status.")
@format_option()
def list_command(key: Path, kind: str | None, status: str | None, fmt: str) -> None:
    """List the proposals in KEYFILE with their pseudonyms, status and where they occur."""
    from gripcode.privacy import review
    from gripcode.privacy.service import load_state

    state = load_state(key, _passphrase(key))
    rows = review.rows(review.select(state, kind=kind, status=status))
    emit_rows(rows, review.CSV_COLUMNS, fmt, empty="No proposals.")


def _decision_command(name: str, decision: str, verb: str) -> click.Command:
    @click.command(name)
    @click.argument("ids", nargs=-1, type=int)
    @_key_option
    @click.option("--kind", type=click.Choice(_KINDS), help="Every waiting proposal of this kind.")
    @click.option("--all", "everything", is_flag=True, help="Every waiting proposal.")
    def command(ids: tuple[int, ...], key: Path, kind: str | None, everything: bool) -> None:
        from gripcode.privacy import review
        from gripcode.privacy.service import change_key

        changed = change_key(key, _passphrase(key),
                             lambda state: review.decide(state, decision, ids, kind, everything))
        click.echo(f"{verb.capitalize()} {changed} proposal(s)")

    command.help = (f"{verb.capitalize()} proposals IDS (or every waiting one with --kind or --all). "
                    + ("Accepted values are replaced by `apply`." if decision == "accepted"
                       else "Rejected values stay as they are." if decision == "rejected"
                       else "They wait for review again."))
    return command


@pseudonymise_group.command("edit")
@click.argument("entity_id", metavar="ID", type=int)
@_key_option
@click.option("--pseudonym", help="The pseudonym to use, e.g. '[Official, Ministry A]'.")
@click.option("--same-as", type=int, metavar="OTHER", help="The same person as proposal OTHER: its pseudonym.")
@click.option("--kind", type=click.Choice(_KINDS), help="Change the kind.")
def edit_command(entity_id: int, key: Path, pseudonym: str | None, same_as: int | None, kind: str | None) -> None:
    """Change proposal ID's pseudonym or kind, or make it the same person as another."""
    from gripcode.privacy import review
    from gripcode.privacy.service import change_key

    if pseudonym is None and same_as is None and kind is None:
        raise click.UsageError("say what to change: --pseudonym, --same-as or --kind")
    entity = change_key(key, _passphrase(key),
                        lambda state: review.edit(state, entity_id, pseudonym=pseudonym, kind=kind, same_as=same_as))
    click.echo(f"Proposal {entity['id']} ({entity['kind']}, {entity['status']}) is now {entity['pseudonym']}")


@pseudonymise_group.command("add")
@click.argument("value", required=False)
@_key_option
@click.option("--kind", type=click.Choice(_KINDS), default="person", show_default=True, help="What the value is.")
@click.option("--pseudonym", help="Its pseudonym (default: from the kind's pattern).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8-sig"), metavar="FILE",
              help="Read the values from FILE (- for standard input), one a line as in a --names list, so that "
                   "no real name goes into the shell's history or the process list.")
def add_command(value: str | None, key: Path, kind: str, pseudonym: str | None,
                from_file: TextIO | None) -> None:
    """Add a VALUE the detection missed (or the values of --from-file); it is accepted at once. A VALUE typed
    on the command line stays in the shell's history: prefer --from-file - and type or paste it."""
    from gripcode.privacy import review
    from gripcode.privacy.detect import parse_name_list
    from gripcode.privacy.service import change_key

    if (value is None) == (from_file is None):
        raise click.UsageError("give either a VALUE or --from-file FILE")
    if from_file is not None:
        if pseudonym is not None:
            raise click.UsageError("--pseudonym is for one VALUE; edit the pseudonyms after adding the values")
        listed = parse_name_list(from_file.read(), getattr(from_file, "name", "the input"), default=kind)
        passphrase = _passphrase(key)
        added = change_key(key, passphrase,
                           lambda state: [review.add_value(state, v, k, None) for k, v in listed])
        for entity in added:
            click.echo(f"Added proposal {entity['id']} ({entity['kind']}, accepted): {entity['pseudonym']}")
        return
    entity = change_key(key, _passphrase(key), lambda state: review.add_value(state, value, kind, pseudonym))
    click.echo(f"Added proposal {entity['id']} ({entity['kind']}, accepted): {entity['pseudonym']}")


@pseudonymise_group.command("export")
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@_key_option
def export_command(csv_file: Path, key: Path) -> None:
    """Write the proposals to CSV for review in a spreadsheet. The file holds the real values: keep it as safe
    as the key file and delete it once read back."""
    from gripcode.privacy.service import export_csv

    n = export_csv(key, _passphrase(key), csv_file)
    click.echo(f"Wrote {n} proposal(s) to {csv_file}; edit status (proposed, accepted, rejected), pseudonym or "
               f"kind, add rows without an id, then `gripcode pseudonymise import {csv_file} --key {key}`")
    click.echo("Warning: the CSV holds the real values unencrypted; delete it when you are done", err=True)


@pseudonymise_group.command("import")
@click.argument("csv_file", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@_key_option
def import_command(csv_file: Path, key: Path) -> None:
    """Read decisions back from a CSV written by `export` (every row checked before anything changes)."""
    from gripcode.privacy.service import import_csv

    counts = import_csv(key, _passphrase(key), csv_file)
    click.echo(f"Read {csv_file}: {counts['changed']} proposal(s) changed, {counts['added']} added")


@pseudonymise_group.command("apply")
@_key_option
@click.option("--to", "target", required=True, metavar="NEW",
              help="The new project: a SQLite file that does not exist yet, or the URL of an empty database.")
@pass_app
def apply_command(app: App, key: Path, target: str) -> None:
    """Write a new project NEW in which every accepted value is replaced by its pseudonym in every document,
    with codings, units and memos remapped to the new texts. The original project is not changed; KEYFILE
    records how to undo it."""
    from gripcode.privacy.service import apply

    report = apply(app.engine(), target, key, _passphrase(key), app.coder)
    _report(report, f"Wrote the pseudonymised project {report.target}: {report.entities} accepted value(s)")


@pseudonymise_group.command("reverse")
@_key_option
@click.option("--to", "target", required=True, metavar="NEW",
              help="The restored project: a SQLite file that does not exist yet, or the URL of an empty database.")
@pass_app
def reverse_command(app: App, key: Path, target: str) -> None:
    """Write a new project NEW with the original values of the pseudonymised project (--db) put back."""
    from gripcode.privacy.service import reverse

    report = reverse(app.engine(), target, key, _passphrase(key), app.coder)
    _report(report, f"Wrote the restored project {report.target}")


def _report(report, headline: str) -> None:  # type: ignore[no-untyped-def]
    result = report.result
    click.echo(f"{headline}; {result.replacements} replacement(s) in {result.documents_changed} of "
               f"{result.documents} document(s); {result.codings} coding(s) and {result.units} unit(s) remapped, "
               f"{len(result.snapped_codings)} coding(s) moved to the edges of a replaced value")
    from gripcode.privacy.rewrite import LEFT_OUT

    for table, n in result.left_out.items():
        click.echo(f"Left out {n} row(s) of {table}: {LEFT_OUT[table]}")


pseudonymise_group.add_command(_decision_command("accept", "accepted", "accepted"))
pseudonymise_group.add_command(_decision_command("reject", "rejected", "rejected"))
pseudonymise_group.add_command(_decision_command("reopen", "proposed", "reopened"))

COMMANDS = [pseudonymise_group]
