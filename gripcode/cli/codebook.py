"""gripcode codebook validate|test"""

from __future__ import annotations

from pathlib import Path

import click

from gripcode.codebook.loader import codebook_hash, load_codebook


@click.group("codebook")
def codebook_group() -> None:
    """YAML codebooks: validate and test them."""


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


COMMANDS = [codebook_group]
