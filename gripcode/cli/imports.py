"""gripcode import [files] | gripcode import qdpx: documents, or a REFI-QDA project.

Both subcommands live here, so the `import` group the program loads lazily is whole on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import to_json
from gripcode.db.engine import transaction
from gripcode.db.models import DOCUMENT_KINDS


@click.command("import")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--manifest", type=click.Path(path_type=Path), help="CSV of files: path,title,case,kind,language,date,source,...")
@click.option("--case", help="Case of every document (must exist unless --create-cases).")
@click.option("--kind", type=click.Choice(DOCUMENT_KINDS), help="Document kind.")
@click.option("--lang", "language", help="Language code (en, pt, zh, ru, kk, ...); default en.")
@click.option("--date", help="Date yyyy-mm-dd.")
@click.option("--title", help="Title (default: the file's own title or name).")
@click.option("--source", help="Source, outlet or informant.")
@click.option("--encoding", help="Force a text encoding (default: BOM, UTF-8, then detection).")
@click.option("--text-column", default="text", show_default=True, help="CSV column with the text.")
@click.option("--title-column", default="title", show_default=True, help="CSV column with titles.")
@click.option("--date-column", default="date", show_default=True, help="CSV column with dates.")
@click.option("--format", "news_format", type=click.Choice(["auto", "nexis", "factiva", "plain"]), default="auto",
              show_default=True,
              help="News-database exports: auto tells a Nexis (.txt .docx .rtf) or Factiva (.html .rtf) export "
                   "from an ordinary file by its first lines and imports one media document per article; nexis "
                   "or factiva reads every file as that export, and refuses one that is not; plain reads every "
                   "file as an ordinary document of its kind, even one that looks like an export.")
@click.option("--create-cases", is_flag=True, help="Create cases that do not exist yet.")
@click.option("--max-size", type=click.FloatRange(min=0, min_open=True), default=None, metavar="MB",
              help="Largest document accepted, in MB (default: max_document_mb in gripcode.toml, else 500).")
@click.option("--jobs", type=click.IntRange(min=0), default=None,
              help="Worker processes that read and segment beside the database writer (0: none; default: "
                   "one per spare core for 400+ files).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_(app: App, paths: tuple[Path, ...], manifest: Path | None, case: str | None, kind: str | None,
            language: str | None, date: str | None, title: str | None, source: str | None,
            encoding: str | None, text_column: str, title_column: str, date_column: str, news_format: str,
            create_cases: bool, max_size: float | None, jobs: int | None, as_json: bool) -> None:
    """Import documents (.txt .md .docx .odt .rtf .pdf .html .htm .csv .vtt .srt) in one transaction.

    A saved web page (.html, .htm) is imported as its main text only, without menus, adverts, banners and
    footers, with its title, date, author and site. A Nexis or Factiva export (.txt, .docx, .rtf, .html)
    becomes one media document per article (headline as title, outlet as source, byline, section and word
    count as metadata); --format nexis/factiva forces that reading, --format plain turns it off. Word and
    OpenDocument files are read in reading order, with footnotes and endnotes at the end. Text already in the
    project is skipped and reported. Paragraphs, sentences and speaker turns are stored as units. A file that is UTF-8 but for a few invalid bytes is read as UTF-8 with those bytes
    replaced, and the report lists where they were. A file above the size limit is refused, and nothing is
    imported.
    """
    # The readers (pypdf, python-docx, trafilatura) load only when something is imported, not at every start.
    from gripcode.corpus.importer import ImportOptions, collect_items
    from gripcode.corpus.readers import CsvOptions, ReadLimits
    from gripcode.corpus.staged_import import import_into_project

    given = ImportOptions(case=case, kind=kind, language=language, date=date, title=title, source=source)
    items = collect_items(paths, given, manifest)
    csv_options = CsvOptions(text_column=text_column, title_column=title_column, date_column=date_column)
    report = import_into_project(app.engine(), items, actor=app.coder, encoding=encoding, csv_options=csv_options,
                                 create_cases=create_cases, jobs=jobs, news_format=news_format,
                                 limits=ReadLimits.from_mb(max_size or app.settings.max_document_mb))
    if as_json:
        click.echo(to_json({"imported": report.imported, "skipped": report.skipped, "replaced": report.replaced,
                            "words": report.words, "units": report.units}))
        return
    lines = [f"imported  {doc['id']:>5}  {doc['title']}  ({doc['words']} words)" for doc in report.imported]
    lines += [f"skipped   {skip['file']}: {skip['reason']}" for skip in report.skipped]
    lines += [f"replaced  {fix['file']}: {fix['message']}" for fix in report.replaced]
    if lines:
        click.echo("\n".join(lines))  # one write: thousands of lines are common
    click.echo(f"{len(report.imported)} document(s), {report.words} words, {report.units} units imported; "
               f"{len(report.skipped)} skipped")


class _DefaultGroup(click.Group):
    """A group whose first argument falls through to a default subcommand unless it names another one, so
    `gripcode import a.txt b.docx` keeps importing documents beside `gripcode import qdpx FILE`."""

    def __init__(self, *args: Any, default: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default = default

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@click.group("import", cls=_DefaultGroup, default="files")
def import_group() -> None:
    """Import documents (`gripcode import FILES...`, see `gripcode import files --help`) or a REFI-QDA
    project (`gripcode import qdpx FILE`)."""


import_group.add_command(import_, name="files")

_ORIGIN_CHOICES = ["auto", "gripcode", "qualcoder", "maxqda", "nvivo", "atlasti"]
_TOOL_NAMES = {"nvivo": "NVivo", "atlasti": "ATLAS.ti", "maxqda": "MAXQDA", "qualcoder": "QualCoder",
               "gripcode": "gripcode", "unknown": "an unnamed program"}


def _print_import(report: Any) -> None:
    how = "as given" if report.origin_given else "from the file"
    click.echo(f"Read {report.file} (written by {_TOOL_NAMES.get(report.origin, report.origin)}, {how})")
    click.echo(f"documents: {len(report.documents_added)} added, {len(report.documents_reused)} already in the "
               "project (their codings attached to them)")
    version = f" as codebook version {report.codebook_version}" if report.codebook_version else ""
    click.echo(f"codes: {len(report.codes_added)} added{version}, {report.codes_reused} already in the project")
    click.echo(f"cases: {len(report.cases_added)} added, {len(report.cases_reused)} already in the project"
               + (" (from sets of sources)" if report.cases_from_sets else ""))
    click.echo(f"coders: {len(report.coders_added)} added" + (f" ({', '.join(report.coders_added)})"
                                                             if report.coders_added else ""))
    whole = f", {report.codings_whole_source} of them on whole sources" if report.codings_whole_source else ""
    click.echo(f"codings: {report.codings_added} added{whole}, {report.codings_present} already present")
    click.echo(f"memos: {report.memos_added} added, {report.memos_present} already present")
    if report.placed_by:
        click.echo("positions: " + "; ".join(f"{n} selection(s) counted in {label}"
                                             for label, n in report.placed_by.most_common()))
        confirmed = [(how_, n) for how_, n in report.confirmed_by.most_common() if how_ != "unconfirmed"]
        if confirmed:
            click.echo("  confirmed by " + ", ".join(f"{how_}: {n}" for how_, n in confirmed))
        if report.confirmed_by["unconfirmed"]:
            click.echo(f"  {report.confirmed_by['unconfirmed']} placed without confirmation (no name to compare, "
                       "not on word boundaries under any convention), e.g.:")
            for example in report.unconfirmed_examples:
                click.echo(f"    {example}")
    if report.unplaced:
        click.echo(f"not placed: {report.unplaced} selection(s) could not be placed and were not imported, e.g.:")
        for example in report.unplaced_examples:
            click.echo(f"  {example}")
    if report.non_text:
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(report.non_text.items()))
        click.echo(f"not text: {listed} not imported ({report.non_text_codings} coding(s) on them)")
    for line in report.sources_without_text:
        click.echo(f"no text: {line}")
    for line in report.warnings:
        click.echo(f"note: {line}")


@import_group.command("qdpx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--origin", type=click.Choice(_ORIGIN_CHOICES), default="auto", show_default=True,
              help="The program that wrote FILE; decides how positions are counted first (auto: from the file).")
@click.option("--sets-as-cases", is_flag=True,
              help="Make sets of sources cases even when the file has cases (without cases they always are).")
@click.option("--lang", "language", default="en", show_default=True,
              help="Language of documents whose language the file does not give.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_app
def import_qdpx_command(app: App, file: Path, origin: str, sets_as_cases: bool, language: str, as_json: bool) -> None:
    """Import a REFI-QDA project FILE (.qdpx from NVivo, ATLAS.ti, MAXQDA, QualCoder or gripcode), in one
    transaction, into this project, empty or not.

    Documents already in the project (same text) are reused, codes with the same GUID are reused and new ones
    synced as a codebook version, coders are matched by name. Codings are stored as accepted, origin import.
    Selections whose place cannot be confirmed, and selections or sources that are not text, are reported.
    """
    from gripcode.exchange import import_qdpx

    with transaction(app.engine()) as session:
        report = import_qdpx(session, file, actor=app.coder, origin=origin, sets_as_cases=sets_as_cases,
                             language=language)
    if as_json:
        click.echo(to_json(report.as_dict()))
        return
    _print_import(report)


COMMANDS = [import_group]
