"""One chat request to an OpenAI-compatible endpoint, with retries and back-off.

The ``openai`` client does the HTTP: it retries timeouts, dropped connections, 408, 409, 429 and 5xx answers
with exponential back-off and jitter (0.5 s doubling to 8 s), honours a server's ``Retry-After``, and keeps a
pool of connections that the threads of a run share. It is imported only here, when a run starts (0.3 s), so
no other command pays for it. Why this client rather than plain httpx or the standard library, and what that
costs per request: ARCHITECTURE.md and ``benchmarks/llm_bench.py``.

A failure after the retries is a :class:`Reply` with an ``error``; ``fatal`` marks the failures that every
further request would meet too (an unknown model, a key refused, a request the server cannot take), so that
the run stops instead of sending the rest in vain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gripcode.nlp.llm.endpoint import Endpoint


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    finish_reason: str | None = None
    error: str | None = None
    fatal: bool = False


@dataclass(frozen=True)
class ClientSettings:
    model: str
    timeout: float = 120.0  # seconds per attempt
    retries: int = 4


class ChatClient:
    """Sends chat completions to one endpoint; safe to use from several threads at once."""

    def __init__(self, endpoint: Endpoint, key: str, settings: ClientSettings, *, concurrency: int = 4) -> None:
        import httpx2
        import openai

        self._openai = openai
        self.settings = settings
        # As many kept-alive connections as requests in flight.
        limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = openai.OpenAI(base_url=endpoint.url, api_key=key, timeout=settings.timeout,
                                     max_retries=settings.retries,
                                     http_client=openai.DefaultHttpxClient(limits=limits))

    def ask(self, messages: list[dict[str, str]], *, parameters: dict[str, Any],
            response_format: dict[str, Any] | None) -> Reply:
        openai = self._openai
        extra: dict[str, Any] = {} if response_format is None else {"response_format": response_format}
        try:
            completion = self._client.chat.completions.create(model=self.settings.model, messages=messages,
                                                              **parameters, **extra)
        except openai.APITimeoutError:
            return Reply(error=f"no answer within {self.settings.timeout:g} s, {self.settings.retries + 1} "
                               "time(s)")
        except openai.APIConnectionError as exc:
            return Reply(error=f"cannot connect: {_cause(exc)}")
        except openai.NotFoundError as exc:
            return Reply(error=f"the server does not know the model {self.settings.model!r} or the address "
                               f"(404: {_message(exc)})", fatal=True)
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            return Reply(error=f"the server refused the API key ({exc.status_code}: {_message(exc)}); set it in "
                               "GRIPCODE_LLM_API_KEY", fatal=True)
        except openai.BadRequestError as exc:
            return Reply(error=f"the server refused the request (400: {_message(exc)})", fatal=True)
        except openai.APIStatusError as exc:
            return Reply(error=f"the server answered {exc.status_code}: {_message(exc)}")
        except openai.OpenAIError as exc:  # an answer that is not a chat completion at all
            return Reply(error=f"the server's answer could not be read: {exc}")
        if not completion.choices:
            return Reply(content=None, finish_reason=None)
        choice = completion.choices[0]
        return Reply(content=choice.message.content, finish_reason=choice.finish_reason)

    def close(self) -> None:
        self._client.close()


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:300]
        if isinstance(inner, str):
            return inner[:300]
    return str(getattr(exc, "message", exc))[:300]


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return str(cause or exc)[:300] or exc.__class__.__name__
