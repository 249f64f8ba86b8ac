"""A chat-completions server on 127.0.0.1 that answers from a Python function.

For trying prompted LFs and measuring the machinery (cache, concurrency, retries, budgets) without a
model: the same HTTP protocol and the same ``openai`` client as a real endpoint, with the answers, the
latency and any failures (429, 500, stalls, malformed bodies) chosen by the caller. Built on the
standard library's ``http.server``; each request is served in its own thread.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

__all__ = ["LoopbackServer", "Reply"]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Many clients connect at once (a concurrency benchmark): the default backlog of 5 would refuse some.
    request_queue_size = 256


@dataclass
class Reply:
    """What the loopback server sends for one request.

    Attributes
    ----------
    text : str
        The answer (``choices[0].message.content``).
    status : int
        HTTP status; anything but 200 sends an error body.
    delay : float
        Seconds to wait before replying, on top of the server's latency (a stall).
    body : str, optional
        A raw body sent instead of the completion (e.g. malformed JSON).
    headers : dict
        Extra response headers (``retry-after-ms``...).
    logprobs : dict of str to float, optional
        Top log-probabilities of the first answer token, sent when the request asks for them.
    """

    text: str = ""
    status: int = 200
    delay: float = 0.0
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    logprobs: dict[str, float] | None = None


class LoopbackServer:
    """Serve ``POST /v1/chat/completions`` (and ``GET /v1/models``) on 127.0.0.1.

    Parameters
    ----------
    answer : callable
        ``answer(messages) -> str | Reply``, with ``messages`` the request's list of
        ``{"role", "content"}`` dicts.
    latency : float
        Seconds every request waits before its reply.
    model : str
        The model name ``/v1/models`` lists.
    port : int
        0 picks a free port.

    Attributes
    ----------
    url : str
        The ``base_url`` for the client, e.g. ``http://127.0.0.1:53211/v1``.
    requests : list of str
        The last user message of every request received, in arrival order.
    max_in_flight : int
        The most requests the server was handling at one time.
    authorizations : set of str
        The ``Authorization`` headers received.

    Examples
    --------
    >>> with LoopbackServer(lambda messages: "spam") as server:   # doctest: +SKIP
    ...     backend = OpenAIBackend("loopback", base_url=server.url)
    """

    def __init__(self, answer: Callable[[list[dict[str, Any]]], "str | Reply"], *, latency: float = 0.0,
                 model: str = "loopback", port: int = 0) -> None:
        self.answer = answer
        self.latency = float(latency)
        self.model = model
        self.requests: list[str] = []
        self.max_in_flight = 0
        self.authorizations: set[str] = set()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _Server(("127.0.0.1", port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet: the caller reads server.requests
                pass

            def _send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
                data = body.encode("utf-8")
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (a deadline passed)
                    pass

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": server.model, "object": "model", "created": 0, "owned_by": "votewise"}]}))
                else:
                    self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                    messages = request["messages"]
                except (ValueError, KeyError, TypeError):
                    self._send(400, json.dumps({"error": {"message": "expected a JSON body with messages"}}))
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, json.dumps({"error": {"message": f"no route {self.path}"}}))
                    return
                question = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
                with server._lock:
                    server.requests.append(question)
                    server.authorizations.add(self.headers.get("Authorization", ""))
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    reply = server.answer(messages)
                    if not isinstance(reply, Reply):
                        reply = Reply(str(reply))
                    time.sleep(server.latency + reply.delay)
                finally:
                    with server._lock:
                        server._in_flight -= 1
                if reply.body is not None:
                    self._send(reply.status, reply.body, reply.headers)
                elif reply.status != 200:
                    self._send(reply.status, json.dumps({"error": {"message": f"loopback status {reply.status}",
                                                                   "type": "loopback"}}), reply.headers)
                else:
                    self._send(200, json.dumps(server._completion(request, messages, reply)), reply.headers)

        return Handler

    def _completion(self, request: dict, messages: list[dict], reply: Reply) -> dict:
        logprobs = None
        if request.get("logprobs") and reply.logprobs:
            top = sorted(reply.logprobs.items(), key=lambda kv: -kv[1])[: int(request.get("top_logprobs") or 1)]
            logprobs = {"content": [{"token": top[0][0], "logprob": top[0][1], "bytes": None,
                                     "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top]}]}
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(reply.text.split())
        return {
            "id": f"loopback-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", self.model),
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": logprobs,
                         "message": {"role": "assistant", "content": reply.text}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def start(self) -> "LoopbackServer":
        """Serve in a background thread; returns the server."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="loopback-llm", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "LoopbackServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
