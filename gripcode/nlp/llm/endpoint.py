"""Where the model runs: local by default, and text leaves the machine only when the user allows it.

An endpoint is local when its host is ``localhost`` or a loopback address (127.0.0.0/8, ::1); anything else,
a server on the institute's network included, is remote, because the units' text would leave this machine.
The API key comes from the environment only, never from the command line (where every user of the machine can
read it) or the database (which travels with the project).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from gripcode.errors import LlmError

DEFAULT_ENDPOINT = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible API
KEY_VARIABLE = "GRIPCODE_LLM_API_KEY"
OPENAI_KEY_VARIABLE = "OPENAI_API_KEY"
# Local servers ignore the key, but the client library sends one: a placeholder, never a secret.
NO_KEY = "no-key"


@dataclass(frozen=True)
class Endpoint:
    url: str  # the base URL, without a trailing slash: .../v1
    host: str
    local: bool

    def shown(self) -> str:
        return self.url


def parse_endpoint(url: str) -> Endpoint:
    """The endpoint at ``url`` (http or https, a host, and the API's base path such as ``/v1``)."""
    text = url.strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError(f"the endpoint {url!r} is not an http:// or https:// address with a host, such as "
                       f"{DEFAULT_ENDPOINT}")
    if parts.username or parts.password:
        raise LlmError("the endpoint must not carry a user name or password; put an API key in the environment "
                       f"variable {KEY_VARIABLE}")
    if parts.query or parts.fragment:
        raise LlmError(f"the endpoint {url!r} has a query or fragment; give the API's base address, such as "
                       f"{DEFAULT_ENDPOINT}")
    return Endpoint(text, parts.hostname, is_local_host(parts.hostname))


def is_local_host(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost`` or a loopback address. A name is not looked up: a name
    that resolves to a loopback address today may not tomorrow."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def api_key(endpoint: Endpoint, environ: Mapping[str, str] | None = None) -> str:
    """The key to send: ``GRIPCODE_LLM_API_KEY``; for OpenAI's own API also ``OPENAI_API_KEY``, which is never
    sent to any other host (a key for one service must not reach another). Local servers need none."""
    env = os.environ if environ is None else environ
    key = env.get(KEY_VARIABLE, "").strip()
    if key:
        return key
    if endpoint.host == "api.openai.com":
        key = env.get(OPENAI_KEY_VARIABLE, "").strip()
        if key:
            return key
    return NO_KEY
