"""gripcode demo"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("demo")
@click.argument("folder", default="gripcode-demo", type=click.Path(file_okay=False, path_type=Path))
def demo(folder: Path) -> None:
    """Build a demo project in FOLDER (default ./gripcode-demo) from the sample corpus."""
    from gripcode.demo import run_demo  # loads spaCy: only for this command

    db_file = run_demo(folder, say=click.echo)
    click.echo("\nTry next:")
    for line in (f"export GRIPCODE_DB=sqlite:///{db_file}", "gripcode stats", "gripcode case list",
                 "gripcode docs list --case Brazil", "gripcode codebook show",
                 "gripcode codings list --coder ana", "gripcode show 3 --codes", "gripcode review",
                 "gripcode agreement --coders ana,ben --unit sentence",
                 "gripcode compare --measure share --kind interview", "gripcode matrix --codes export-restrictions",
                 f"gripcode codebook test {folder / 'grip-arm.yaml'}"):
        click.echo(f"  {line}")
    click.echo("\nThen read and code the documents in the full-screen workbench (? shows its keys, q quits):")
    click.echo(f"  gripcode --db sqlite:///{db_file} --coder ana workbench 3")


COMMANDS = [demo]
