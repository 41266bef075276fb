"""Serving the workbench to web browsers with textual-serve.

textual-serve answers HTTP and starts the app once per browser tab, as a process of its own that draws into the
page over a websocket. That process is the same `gripcode workbench` command without --serve; the database URL
and the coder reach it in its environment (GRIPCODE_DB, GRIPCODE_CODER), never on its command line, where other
users of the machine could read a password. There is no login: whoever reaches the port codes as the coder the
server was started for, which is why it listens on 127.0.0.1 unless told otherwise (see the README for SSH
tunnels and authenticating proxies).
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from collections.abc import Sequence

SERVER_PID = "GRIPCODE_WORKBENCH_SERVER"  # the serving process, in the environment of each tab's app


def app_command(arguments: Sequence[str]) -> str:
    """The shell command that starts the app for one browser tab."""
    return shlex.join([sys.executable, "-m", "gripcode", "workbench", *arguments])


def serve(arguments: Sequence[str], *, db_url: str, coder: str, host: str, port: int,
          public_url: str | None = None) -> None:
    """Serve `gripcode workbench ARGUMENTS` on ``host``:``port`` until interrupted."""
    from textual_serve.server import Server

    os.environ["GRIPCODE_DB"] = db_url
    os.environ["GRIPCODE_CODER"] = coder
    # A tab's app ends with its server, even one killed outright (see WorkbenchApp.watch_server).
    os.environ[SERVER_PID] = str(os.getpid())
    # The page tells the browser where the app's websocket is: this machine's name where the server listens on
    # every interface, and --public-url behind a proxy.
    shown_host = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    server = Server(app_command(arguments), host=host, port=port, title=f"gripcode workbench ({coder})",
                    public_url=public_url or f"http://{shown_host}:{port}")
    server.serve()
