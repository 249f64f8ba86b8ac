"""A local HTTP server on 127.0.0.1 for the collection tests; each test file gives its request handler."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["QuietServer", "Replies", "start", "stop"]


class QuietServer(ThreadingHTTPServer):
    """One thread per request; a client hanging up on a slow or dripping reply is part of the tests."""

    daemon_threads = True  # a dripping handler must not hold up the test's shutdown
    block_on_close = False

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class Replies(BaseHTTPRequestHandler):
    """A handler that logs nothing and answers in one call (``content_type`` unless one is given)."""

    content_type = "application/json"

    def log_message(self, *args):
        pass

    def reply(self, status: int, body: str | bytes, ctype: str | None = None, headers: dict | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype or self.content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose


def start(handler: type[BaseHTTPRequestHandler]) -> tuple[QuietServer, str]:
    """Serve ``handler`` on a free port in a background thread; returns the server and its base URL."""
    httpd = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def stop(httpd: QuietServer) -> None:
    httpd.shutdown()
    httpd.server_close()
