"""A loopback OpenAI-compatible server, standard library only, so litellm's real client runs.

Replies come from a queue (``enqueue``) or, when it is empty, from a handler computing
them from the request body (``set_handler``). Every request body is kept in ``requests``.
Usage is reported deterministically: prompt tokens are the words of all message texts,
completion tokens the words of the reply, unless a ``FakeResponse`` says otherwise.

As OpenAI does: a request with ``n`` gets n choices (each the next reply), its prompt
counted once and the completions summed; with ``prefix_cache=True`` the prompt tokens a
request shares at its start with an earlier request of the same model are reported as
``usage.prompt_tokens_details.cached_tokens``, in steps of ``cache_step`` tokens from
``cache_min`` on (OpenAI's: 128 and 1,024, the defaults). ``count_tokens`` replaces the
word count (the benchmark counts with tiktoken, as OpenAI would).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handler = Callable[[dict], "str | FakeResponse"]
CACHE_MIN = 1024
CACHE_STEP = 128


@dataclass
class FakeResponse:
    """One scripted reply: a successful completion, an HTTP error or a raw malformed body."""

    content: str | None = None
    status: int = 200
    body: str | bytes | dict | None = None  # replaces the whole response body when set
    delay: float = 0.0  # seconds to wait before answering (time-out tests)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "0"}
    finish_reason: str = "stop"


def message_text(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def request_text(body: dict) -> str:
    return "\n".join(message_text(m) for m in body.get("messages", []))


def word_count(text: str) -> int:
    return len(text.split())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: FakeOpenAI


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep pytest output clean

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": name, "object": "model", "owned_by": "fake"} for name in ("fake-model",)]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_json(404, _error_body(404, f"no route {self.path}"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, _error_body(404, f"no route {self.path}"))
            return
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, _error_body(400, "request body is not JSON"))
            return
        reply = self.server.fake._next_reply(body, dict(self.headers.items()))
        if reply.delay:
            time.sleep(reply.delay)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(body, reply)  # the client may have given up (time-out test)

    def _answer(self, body: dict, reply: FakeResponse) -> None:
        if reply.body is not None:
            payload = reply.body
            if isinstance(payload, dict):
                payload = json.dumps(payload)
            if isinstance(payload, str):
                payload = payload.encode()
            self._send(reply.status, payload, "application/json", reply.headers)
            return
        if reply.status != 200:
            self._send_json(reply.status, _error_body(reply.status, reply.content), reply.headers)
            return
        replies = [reply, *self.server.fake._more_replies(body)]
        content = reply.content or ""
        prompt_tokens, cached = self.server.fake._prompt_usage(body, reply)
        completion_tokens = sum(
            r.completion_tokens
            if r.completion_tokens is not None
            else self.server.fake.count_tokens(r.content or "")
            for r in replies
        )
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if cached is not None:
            usage["prompt_tokens_details"] = {"cached_tokens": cached}
        model = str(body.get("model", "fake-model"))
        self.server.fake.record_usage(model, prompt_tokens, cached or 0, completion_tokens)
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(model, content, usage if include_usage else None, reply)
            return
        self._send_json(
            200,
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": index,
                        "finish_reason": r.finish_reason,
                        "message": {"role": "assistant", "content": r.content or ""},
                    }
                    for index, r in enumerate(replies)
                ],
                "usage": usage,
            },
            reply.headers,
        )

    def _stream(self, model: str, content: str, usage: dict | None, reply: FakeResponse) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
        }
        pieces = [{"role": "assistant", "content": ""}]
        pieces += [{"content": part} for part in _split_keep_spaces(content)]
        for delta in pieces:
            self._event({**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
        self._event(
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}]}
        )
        if usage is not None:
            self._event({**base, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()

    def _event(self, data: dict) -> None:
        self.wfile.write(b"data: " + json.dumps(data).encode() + b"\n\n")
        self.wfile.flush()

    def _send_json(self, status: int, data: dict, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers or {})

    def _send(self, status: int, payload: bytes, ctype: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _split_keep_spaces(text: str) -> list[str]:
    """Split into word-sized pieces that join back to exactly ``text``."""
    pieces: list[str] = []
    current = ""
    for char in text:
        if char == " " and current.strip():
            pieces.append(current)
            current = ""
        current += char
    if current:
        pieces.append(current)
    return pieces


def _error_body(status: int, message: str | None) -> dict:
    kinds = {
        400: "invalid_request_error",
        401: "authentication_error",
        404: "not_found_error",
        429: "rate_limit_error",
    }
    return {
        "error": {
            "message": message or f"fake server error {status}",
            "type": kinds.get(status, "server_error"),
            "code": str(status),
        }
    }


class FakeOpenAI:
    """The loopback server; ``base_url`` is what a tier's ``api_base`` should be set to."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        prefix_cache: bool = False,
        count_tokens: Callable[[str], int] = word_count,
        cache_min: int = CACHE_MIN,
        cache_step: int = CACHE_STEP,
    ) -> None:
        self.prefix_cache = prefix_cache
        self.cache_min, self.cache_step = cache_min, cache_step
        self.count_tokens = count_tokens
        self._prompts: dict[str, list[list[int] | list[str]]] = {}  # earlier prompts by model
        self._lock = threading.Lock()
        self._queue: deque[FakeResponse] = deque()
        self._handler: Handler | None = None
        self.requests: list[dict] = []
        # (model, prompt tokens, cached prompt tokens, completion tokens) of each answer
        self.usages: list[tuple[str, int, int, int]] = []
        self.headers: list[dict[str, str]] = []  # HTTP headers of each request (lower-case names)
        self._server = _Server((host, port), _RequestHandler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self.base_url = f"http://{host}:{self.port}/v1"
        # stop() waits for the serving loop's next poll: 0.5 s by default, on every test
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-openai",
            daemon=True,
        )

    def start(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def enqueue(self, *items: str | FakeResponse) -> None:
        with self._lock:
            for item in items:
                self._queue.append(
                    item if isinstance(item, FakeResponse) else FakeResponse(content=item)
                )

    def set_handler(self, fn: Handler | None) -> None:
        self._handler = fn

    def pending(self) -> int:
        """Replies queued and not yet served."""
        with self._lock:
            return len(self._queue)

    def prompts(self, model: str | None = None) -> list[str]:
        with self._lock:
            bodies = list(self.requests)
        return [request_text(b) for b in bodies if model is None or _same_model(b, model)]

    def record_usage(self, model: str, prompt: int, cached: int, completion: int) -> None:
        with self._lock:
            self.usages.append((model, prompt, cached, completion))

    def forget_cache(self) -> None:
        """Start with an empty prompt cache (as a provider's does once its entries expire)."""
        with self._lock:
            self._prompts.clear()

    def _more_replies(self, body: dict) -> list[FakeResponse]:
        """The replies beyond the first for a request asking for ``n`` choices."""
        wanted = body.get("n") or 1
        return [self._reply_for(body) for _ in range(1, int(wanted))]

    def _prompt_usage(self, body: dict, reply: FakeResponse) -> tuple[int, int | None]:
        """(prompt tokens, cached tokens or None) of a request, as OpenAI reports them."""
        text = request_text(body)
        if reply.prompt_tokens is not None:
            return reply.prompt_tokens, None
        count = self.count_tokens(text)
        if not self.prefix_cache:
            return count, None
        units = text.split() if self.count_tokens is word_count else _token_ids(text)
        model = str(body.get("model", ""))
        with self._lock:
            earlier = self._prompts.setdefault(model, [])
            shared = max((_common_start(units, e) for e in earlier), default=0)
            earlier.append(units)
        cached = 0 if shared < self.cache_min else shared // self.cache_step * self.cache_step
        return count, cached

    def _reply_for(self, body: dict) -> FakeResponse:
        with self._lock:
            if self._queue:
                return self._queue.popleft()
            handler = self._handler
        if handler is None:
            return FakeResponse(status=400, content="FakeOpenAI: no reply queued and no handler")
        reply = handler(body)
        return reply if isinstance(reply, FakeResponse) else FakeResponse(content=reply)

    def _next_reply(self, body: dict, headers: dict[str, str]) -> FakeResponse:
        with self._lock:
            self.requests.append(body)
            self.headers.append({k.lower(): v for k, v in headers.items()})
            if self._queue:
                return self._queue.popleft()
            handler = self._handler
        if handler is None:
            # 400 is not retried, so a test that forgot to enqueue fails fast and clearly.
            return FakeResponse(status=400, content="FakeOpenAI: no reply queued and no handler")
        reply = handler(body)
        return reply if isinstance(reply, FakeResponse) else FakeResponse(content=reply)


def _common_start(mine: list, theirs: list) -> int:
    count = 0
    for a, b in zip(mine, theirs, strict=False):
        if a != b:
            break
        count += 1
    return count


def _token_ids(text: str) -> list[int]:
    import os

    import litellm  # ships tiktoken's files: no download, offline
    import tiktoken

    tokenizers = Path(litellm.__file__).parent / "litellm_core_utils" / "tokenizers"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tokenizers))
    return tiktoken.get_encoding("o200k_base").encode(text, disallowed_special=())


def tiktoken_count(text: str) -> int:
    """Tokens as OpenAI's gpt-4o and gpt-4.1 models count them."""
    return len(_token_ids(text))


def _same_model(body: dict, model: str) -> bool:
    sent = str(body.get("model", ""))
    return sent == model or sent == model.split("/", 1)[-1]


def main() -> None:  # pragma: no cover - a manual tool and a stand-in for local servers
    """``python openai_server.py --port N``: serve a fixed reply until killed."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--reply", default="hello from the fake server")
    args = parser.parse_args()
    fake = FakeOpenAI(args.host, args.port)
    fake.set_handler(lambda body: args.reply)
    print(f"serving on {fake.base_url}", flush=True)
    fake._server.serve_forever()


if __name__ == "__main__":  # pragma: no cover
    main()
