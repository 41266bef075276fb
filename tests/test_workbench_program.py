"""`gripcode workbench` as users run it: its help with the keys, mistakes answered before the app starts, the
command line staying free of Textual, and the app served to a browser over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PROGRAM, Gripcode
from workbench_project import build_project


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    return subprocess.run([str(PROGRAM), *args], capture_output=True, text=True, timeout=timeout, env=environment)


@pytest.fixture
def project(grip: Gripcode, tmp_path: Path) -> Gripcode:
    return build_project(grip, tmp_path)


def test_the_help_explains_the_keys_and_serving() -> None:
    result = run("workbench", "--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Usage: gripcode workbench [OPTIONS] [DOC]\n")
    for line in ("  Move (in the text):", "    [ ]                   the previous / next sentence",
                 "    c                     code the selection: type letters of a code id or name",
                 "    1 ... 9               apply recent code 1 to 9 (listed at the foot)",
                 "    u ctrl+z              undo the last action (again and again)",
                 "  Review mode (--review):", "    a                     accept the suggestion",
                 "  Blind sample (--sample N):",
                 "    space b               the next / previous unit of the sample, selected (c codes it)"):
        assert line + "\n" in out, line
    for option in ("--serve", "--host TEXT", "--port INTEGER RANGE", "--blind", "--review", "--by CODER",
                   "--order [position|confidence|uncertainty]", "--refresh SECONDS",
                   "--sample N"):
        assert option in out, option
    assert "ssh -L" in out and "it listens on 127.0.0.1" in out


@pytest.mark.parametrize(("args", "message"), [
    (("workbench", "99"), "Error: no document with id 99\n"),
    (("workbench", "no such interview"), "Error: no document has the id or title 'no such interview'; see "
                                         "`gripcode docs list`\n"),
    (("workbench", "--review", "--by", "rules@nothing"), "Error: no coder 'rules@nothing'; known coders: ben\n"),
    (("workbench", "--review", "--code", "quotas"), "Error: no code 'quotas'; active codes: export-restrictions, "
                                                    "price-control, local-content\n"),
    (("workbench", "--code", "price-control", "--by", "ben"), "Error: --code and --by go with --review\n"),
    (("workbench", "--review", "--blind"), "Error: --blind hides other coders' work and --review shows the machine "
                                           "coders' suggestions: use one of them\n"),
    (("workbench", "--review", "--sample", "1"), "Error: --sample hides other coders' work and --review shows the "
                                                 "machine coders' suggestions: use one of them\n"),
    (("workbench", "--sample", "5"), "Error: no validation sample 5 (draw one with `gripcode validate CODER "
                                     "--against A,B --sample N`)\n"),
])
def test_mistakes_are_answered_before_the_app_starts(project: Gripcode, args: tuple[str, ...], message: str) -> None:
    result = run("--db", project.url, *args)
    assert (result.returncode, result.stderr, result.stdout) == (1, message, "")


def test_a_review_with_nothing_to_review_says_so(project: Gripcode) -> None:
    result = run("--db", project.url, "workbench", "--review")
    assert (result.returncode, result.stdout) == (0, "No suggestions wait for review.\n")


def test_the_command_line_does_not_load_textual() -> None:
    """`gripcode --help` lists every command (loading their modules) and starts as fast as before the workbench."""
    probe = ("import sys\nfrom gripcode.cli.main import cli\nloaded = 'textual' in sys.modules\n"
             "cli.main(['--help'], standalone_mode=False)\n"
             "print(loaded, 'textual' in sys.modules, 'textual_serve' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.splitlines()[-1] == "False False False", result.stdout + result.stderr
    assert "  workbench  " in result.stdout


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_workbench_is_served_to_a_browser_on_localhost(project: Gripcode) -> None:
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GRIPCODE_")}
    server = subprocess.Popen([str(PROGRAM), "--db", project.url, "--coder", "ana", "workbench", "1", "--serve",
                               "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=environment)
    try:
        page, deadline = None, time.monotonic() + 60
        while page is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    page = (response.status, response.read().decode("utf-8"))
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.3)
        assert page is not None, "the server did not answer within a minute"
        status, html = page
        assert status == 200
        assert "<div>gripcode workbench (ana)</div>" in html
        assert f"ws://127.0.0.1:{port}/ws" in html
        with pytest.raises(OSError):  # bound to the loopback address only
            with socket.create_connection((_outward_address(), port), timeout=2):
                pass
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"Serving the workbench for ana on http://127.0.0.1:{port}" in out


def _outward_address() -> str:
    """This machine's address on its network (not 127.0.0.1), or skip where it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent
            address = probe.getsockname()[0]
        except OSError:
            pytest.skip("no network address besides the loopback")
    if address.startswith("127."):
        pytest.skip("no network address besides the loopback")
    return address


def test_the_readme_lists_every_key() -> None:
    from gripcode.workbench.keys import KEYMAP

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The coding workbench"):readme.index("### In the browser")]
    keys = {key for _, rows in KEYMAP for names, _ in rows for key in names.split() if key not in ("...", "mouse")}
    assert {key for key in keys if f"`{key}`" not in section} == set()
