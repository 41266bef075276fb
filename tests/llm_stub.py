"""A chat-completions server for tests and the benchmark, on the loopback address, answering like a model would.

It implements ``POST /v1/chat/completions`` of the OpenAI-compatible API: it reads the passage from the user
message and answers with the codes whose trigger words it contains, as structured output. Markers in the text
ask for the troubles a real server has: ``MALFORMED`` (prose instead of JSON), ``RATE-LIMITED`` (429 the
first time, then an answer), ``STALLS`` (no answer within the client's timeout the first time), ``SLOW`` (an
answer after a pause), ``UNKNOWN-CODE`` (a code the prompt does not have). It never reaches the network.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# code id -> words that make the stub apply it
TRIGGERS = {"export-restrictions": ("export quota", "export ban"), "price-control": ("price",)}
PASSAGE = re.compile(r'"""\n(.*)\n"""', re.S)


class StubServer:
    def __init__(self, *, stall_seconds: float = 2.0, slow_seconds: float = 0.3, instant: bool = False,
                 triggers: dict[str, tuple[str, ...]] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stall_seconds, self.slow_seconds, self.instant = stall_seconds, slow_seconds, instant
        self.triggers = triggers or TRIGGERS
        self.status_override: Callable[[dict[str, Any]], tuple[int, dict[str, Any]] | None] | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as two writes; without this, Nagle's algorithm and the client's delayed
                # ACK hold every answer on a kept-alive connection for about 40 ms.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload, headers, delay = stub.respond(self.path, body)
                if delay:
                    time.sleep(delay)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def respond(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str], float]:
        if path.rstrip("/") != "/v1/chat/completions":
            return 404, {"error": {"message": f"no route {path}"}}, {}, 0.0
        user = next((m["content"] for m in body.get("messages", []) if m.get("role") == "user"), "")
        match = PASSAGE.search(user)
        text = match.group(1) if match else user
        with self.lock:
            if not self.instant:
                self.requests.append(body)
            self.attempts[text] += 1
            attempt = self.attempts[text]
        if self.status_override is not None:
            override = self.status_override(body)
            if override is not None:
                return override[0], override[1], {}, 0.0
        if self.instant:
            return 200, self.completion(body, self.answer(text)), {}, 0.0
        if "RATE-LIMITED" in text and attempt == 1:
            return 429, {"error": {"message": "rate limited"}}, {"retry-after-ms": "20"}, 0.0
        if "STALLS" in text and attempt == 1:
            return 200, self.completion(body, self.answer(text)), {}, self.stall_seconds
        if "MALFORMED" in text:
            return 200, self.completion(body, "The passage is about export quotas, I think."), {}, 0.0
        delay = self.slow_seconds if "SLOW" in text else 0.0
        return 200, self.completion(body, self.answer(text)), {}, delay

    def answer(self, text: str) -> str:
        lowered = text.lower()
        codes = [{"code": code, "rationale": f"It mentions {words[0]}."}
                 for code, triggers in self.triggers.items() for words in [triggers]
                 if any(word in lowered for word in triggers)]
        if "UNKNOWN-CODE" in text:
            codes.append({"code": "no-such-code", "rationale": "?"})
        return json.dumps({"codes": codes})

    @staticmethod
    def completion(body: dict[str, Any], content: str) -> dict[str, Any]:
        return {"id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": body.get("model", ""),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
