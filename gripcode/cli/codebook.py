"""gripcode codebook validate|test|sync|show|diff|history|export|import-qdc"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.cli.context import App, pass_app
from gripcode.cli.output import emit_rows, format_option, to_json
from gripcode.codebook.loader import (
    codebook_hash,
    codebook_to_yaml,
    load_codebook,
    parse_codebook,
    read_codebook_text,
)
from gripcode.codebook.plan import plan_codebooks
from gripcode.codebook.sync import current_codebook, latest_version, plan_sync, sync_codebook
from gripcode.codebook.views import code_tree, render_markdown, render_tree, version_history
from gripcode.db.engine import transaction
from gripcode.errors import CodebookError


@click.group("codebook")
def codebook_group() -> None:
    """YAML codebooks: validate, test, sync into the project, compare, export."""


@codebook_group.command("validate")
@click.argument("file", type=click.Path(path_type=Path))
def validate(file: Path) -> None:
    """Check FILE and report every problem with its line and code id."""
    cb = load_codebook(file)
    click.echo(f"{file}: valid codebook {cb.codebook!r}, {len(cb.flat())} codes, hash {codebook_hash(cb)[:12]}")


@codebook_group.command("test")
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def test(ctx: click.Context, file: Path) -> None:
    """Check that each code's rules match its positive examples and none of its negative ones."""
    from gripcode.codebook.testing import run_codebook_tests  # loads spaCy: only for this command

    results = run_codebook_tests(load_codebook(file))
    failed = 0
    for result in results:
        click.echo(f"{'pass' if result.passed else 'FAIL'}  {result.code}")
        for failure in result.failures:
            click.echo(f"      {failure}")
        failed += not result.passed
    click.echo(f"{len(results) - failed} passed, {failed} failed")
    if failed:
        ctx.exit(1)


@codebook_group.command("sync")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@pass_app
def sync(app: App, file: Path, dry_run: bool) -> None:
    """Make the project's codes follow FILE, in one transaction.

    New ids are added; changed names, definitions, rules, colours and parents are updated; `renamed_from`
    renames a code with its codings; `merged_into` moves a code's codings to another code; `retired: true`
    keeps a code and its codings but stops offering it. A code that has codings cannot simply be deleted.
    """
    text = read_codebook_text(file)
    cb = parse_codebook(text, name=str(file))
    with transaction(app.engine()) as session:
        result = sync_codebook(session, cb, text, actor=app.coder, dry_run=dry_run)
    if result.unchanged:
        click.echo(f"The project already follows {file} (hash {codebook_hash(cb)[:12]}); nothing to do.")
        return
    for line in result.plan.lines():
        click.echo(line)
    if result.plan.reordered and not result.plan.changes:
        click.echo("reordered   codes")
    if dry_run:
        click.echo("Dry run: nothing was changed.")
        return
    moved = f"; {result.codings_moved} coding(s) moved" if result.codings_moved else ""
    combined = f", {result.codings_combined} combined with identical ones" if result.codings_combined else ""
    assert result.version is not None
    click.echo(f"Synced {cb.codebook} as codebook version {result.version.id} "
               f"(hash {result.version.content_hash[:12]}){moved}{combined}")


@codebook_group.command("show")
@click.option("--format", "fmt", type=click.Choice(["tree", "json", "markdown"]), default="tree",
              show_default=True, help="An indented tree, JSON rows, or a Markdown outline.")
@click.option("--active", is_flag=True, help="Leave out retired and merged codes.")
@pass_app
def show(app: App, fmt: str, active: bool) -> None:
    """Show the project's codes with their numbers of codings."""
    with transaction(app.engine(), write=False) as session:
        rows = code_tree(session, include_inactive=not active)
        version = latest_version(session)
    if fmt == "json":
        click.echo(to_json(rows))
    elif fmt == "markdown":
        click.echo(render_markdown(rows, version.name if version else "Codebook"), nl=False)
    else:
        click.echo(render_tree(rows))


@codebook_group.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path), required=False)
@pass_app
def diff(app: App, old: Path, new: Path | None) -> None:
    """What changes from codebook OLD to NEW; with one file, from the project's codes to that file.

    Prints the same plan `sync` would apply: added, changed (with the fields), renamed, moved, merged,
    retired, reactivated and removed codes, and codes that cannot be removed because they have codings.
    """
    if new is None:
        target = load_codebook(old)
        with transaction(app.engine(), write=False) as session:
            plan = plan_sync(session, target)
    else:
        plan = plan_codebooks(load_codebook(old), load_codebook(new))
    lines = plan.lines() + [f"blocked     {b}" for b in plan.blocked]
    click.echo("\n".join(lines) if lines else ("Only the order of codes differs." if plan.reordered
                                               else "No differences."))


@codebook_group.command("history")
@format_option()
@pass_app
def history(app: App, fmt: str) -> None:
    """List the codebook versions synced into the project."""
    with transaction(app.engine(), write=False) as session:
        rows = version_history(session)
    emit_rows(rows, ["version", "synced_at", "by", "name", "hash", "changes"], fmt,
              empty="No codebook synced yet: gripcode codebook sync FILE")


EXPORT_FORMATS = ("markdown", "latex", "csv", "docx", "qdc")


@codebook_group.command("export")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), required=True,
              help="An appendix table (markdown, latex, csv, docx) or a REFI-QDA codebook (qdc).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write (default: print it; docx needs a file).")
@click.option("--all", "include_inactive", is_flag=True, help="Also list retired and merged codes (marked).")
@pass_app
def export(app: App, file: Path | None, fmt: str, output: Path | None, include_inactive: bool) -> None:
    """Print the codebook FILE (default: the one the project was last synced with) for a paper or another tool,
    or write it to a file with -o.

    The appendix formats give one row per code (code, definition, inclusion, exclusion, an example) with the
    hierarchy numbered; qdc is the REFI-QDA codebook exchange file read by NVivo, ATLAS.ti, MAXQDA and QualCoder.
    """
    if file is not None:
        cb, source = load_codebook(file), str(file)
    else:
        with transaction(app.engine(), write=False) as session:
            version, cb = current_codebook(session)
        source = f"codebook version {version.id} of the project, synced {version.synced_at:%Y-%m-%d}"
    if output is None and fmt == "docx":
        raise CodebookError("docx is a binary format and cannot be printed: give a file, -o FILE.docx")
    if fmt == "qdc":
        from gripcode.codebook.refi_qdc import codebook_to_qdc, write_qdc

        if output is None:
            click.echo(codebook_to_qdc(cb), nl=False)  # bytes: the XML exactly as a file would hold it
            return
        write_qdc(cb, output)
    else:
        from gripcode.export.codebook_appendix import render_appendix, write_appendix

        provenance = f"Source: {source}"
        if output is None:
            click.echo(render_appendix(cb, fmt, include_inactive=include_inactive, provenance=provenance), nl=False)
            return
        write_appendix(cb, fmt, output, include_inactive=include_inactive, provenance=provenance)
    click.echo(f"Wrote {output} ({fmt}, {cb.codebook})")


@codebook_group.command("import-qdc")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The YAML codebook to write.")
@click.option("--name", help="The codebook's name (default: the file's name).")
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def import_qdc(file: Path, output: Path, name: str | None, force: bool) -> None:
    """Write a YAML codebook from a REFI-QDA codebook FILE (.qdc) made by NVivo, ATLAS.ti, MAXQDA or QualCoder.

    Each code keeps its REFI GUID (`refi_guid`), so exchanging the codebook again does not duplicate codes.
    """
    from gripcode.codebook.refi_qdc import read_qdc_file

    if output.exists() and not force:
        raise click.UsageError(f"{output} exists; pass --force to overwrite it")
    cb = read_qdc_file(file, name=name)
    text = codebook_to_yaml(cb)
    parse_codebook(text, name=str(output))  # what is written must load back as it is
    output.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {output}: codebook {cb.codebook!r} with {len(cb.flat())} codes from {file}")


COMMANDS = [codebook_group]
