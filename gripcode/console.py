"""The `gripcode` console script. Worker processes are started with spawn, which re-imports the script that
launched them; keeping this module tiny means a worker does not load the whole command line first."""


def main() -> None:
    from gripcode.cli.main import main as run

    run()
