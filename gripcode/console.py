"""The `gripcode` console script. Worker processes started with spawn (import's, and autocode's where it cannot
fork) re-import the script that launched them; keeping this module tiny means such a worker does not load the
whole command line first."""


def main() -> None:
    from gripcode.cli.main import main as run

    run()
