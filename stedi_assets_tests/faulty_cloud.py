"""A cloud that fails: an HTTP proxy on 127.0.0.1 in front of the S3/Glue emulator that throttles
some requests (503), fails some (500) and cuts the connection of some after the emulator applied
them, so that the answer is lost. Which request meets which fault is drawn from a seeded random
generator.

Written here because no well-kept Python library injects faults into AWS's two wire protocols
(S3's XML, Glue's JSON) with the errors those services really send; toxiproxy works on TCP
only and is no PyPI package.
"""

from __future__ import annotations

import http.client
import random
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
              "trailer", "upgrade", "expect", "content-length"}
OWN_HEADERS = {"server", "date"}  # the proxy's response sends its own
THROTTLED, FAILED, CUT = "throttled", "failed", "cut"
SLOW_SECONDS = 5.0


@dataclass(frozen=True)
class Faults:
    """The share of requests that meet each fault."""

    throttled: float = 0.03
    failed: float = 0.01
    cut: float = 0.01


NONE = Faults(0, 0, 0)


class FaultyCloud:
    """The proxy: `url` to give the clients; `seed` and `faults` for the next requests;
    `counts` of requests and of each fault since the last `reset`."""

    def __init__(self, upstream: str):
        self.upstream = urlsplit(upstream)
        self.faults, self._random, self._lock = NONE, random.Random(0), threading.Lock()
        self.counts: Counter = Counter()
        self.slow: list[tuple[str, str, float]] = []  # requests that took long, to see why
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, seed: int, faults: Faults) -> None:
        with self._lock:
            self.faults, self._random, self.counts = faults, random.Random(seed), Counter()
            self.slow = []

    def draw(self) -> str | None:
        with self._lock:
            self.counts["requests"] += 1
            roll, limit = self._random.random(), 0.0
            for fault in (THROTTLED, FAILED, CUT):
                limit += getattr(self.faults, fault)
                if roll < limit:
                    self.counts[fault] += 1
                    return fault
            return None

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(glue: bool, fault: str) -> tuple[int, str, bytes]:
    """The status, content type and body the service itself sends for `fault`."""
    status = 503 if fault == THROTTLED else 500
    if glue:
        kind = "ThrottlingException" if fault == THROTTLED else "InternalServiceException"
        return status, "application/x-amz-json-1.1", (
            f'{{"__type": "{kind}", "message": "injected: {fault}"}}'.encode())
    code = "SlowDown" if fault == THROTTLED else "InternalError"
    return status, "application/xml", (
        f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
        f"<Message>injected: {fault}</Message></Error>").encode()


def _handler(cloud: FaultyCloud):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue for S3 uploads
        upstream: http.client.HTTPConnection | None = None

        def log_message(self, *_):
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        while self.rfile.readline().strip():  # trailers
                            pass
                        return b"".join(parts)
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _forward(self, body: bytes) -> http.client.HTTPResponse:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            for attempt in (1, 2):  # a kept-alive connection the emulator closed: once more
                if self.upstream is None:
                    self.upstream = http.client.HTTPConnection(
                        cloud.upstream.hostname, cloud.upstream.port, timeout=120)
                try:
                    self.upstream.request(self.command, self.path, body=body, headers=headers)
                    return self.upstream.getresponse()
                except (http.client.RemoteDisconnected, ConnectionError):
                    self.upstream.close()
                    self.upstream = None
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")

        def _any(self):
            started = time.monotonic()
            try:
                self._answer()
            finally:
                seconds = time.monotonic() - started
                if seconds > SLOW_SECONDS:
                    cloud.slow.append((self.command, self.path[:80], round(seconds, 1)))

        def _answer(self):
            body = self._body()
            fault = cloud.draw()
            glue = self.headers.get("X-Amz-Target", "").startswith("AWSGlue.")
            if fault in (THROTTLED, FAILED):
                status, kind, error = _error(glue, fault)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(error)))
                self.end_headers()
                if self.command != "HEAD":  # a HEAD's answer has no body
                    self.wfile.write(error)
                return
            response = self._forward(body)
            data = response.read()
            if fault == CUT:  # applied upstream; the client never hears of it
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in HOP_BY_HOP | OWN_HEADERS:
                    self.send_header(key, value)
            length = response.getheader("Content-Length")
            self.send_header("Content-Length",
                             length if self.command == "HEAD" and length else str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

    return Handler
