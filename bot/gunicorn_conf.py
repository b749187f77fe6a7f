"""Production settings for gunicorn: `gunicorn -c python:bot.gunicorn_conf 'bot:create_app()'`.

- A threaded worker that reads each request in its event loop before a thread sees it
  (like a buffering proxy), so slow clients cost a socket and a buffer, not a thread;
  a client gets `GUNICORN_READ_TIMEOUT` seconds to send its whole request.
- An access log without client addresses, user agents or tokens (assessment and respondent
  link tokens in paths, `token=` in queries are replaced by `[redacted]`); the error log too.
- No `Server` header.

Settings from the environment: `GUNICORN_BIND` (comma-separated, default 127.0.0.1:8000),
`WEB_CONCURRENCY` (worker processes, default 2), `GUNICORN_THREADS` (per worker, default 8),
`GUNICORN_READ_TIMEOUT` (seconds, default 20), `GUNICORN_ACCESS_LOG` (a file, `-` for stdout
(the default), or empty for none). Command-line options override all of these.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import re
import selectors
import time
from functools import partial
from typing import Any

from gunicorn import glogging  # type: ignore[import-untyped]
from gunicorn.http import wsgi  # type: ignore[import-untyped]
from gunicorn.http2 import negotiation  # type: ignore[import-untyped]
from gunicorn.workers.gthread import TConn, ThreadWorker  # type: ignore[import-untyped]

from bot.edges import RedactTokens, redact

# Bytes of request line and headers, and of a body, read before a thread takes over. The app refuses
# bodies over 64 KiB (MAX_CONTENT_LENGTH) from their Content-Length without reading them.
HEAD_LIMIT = 64 * 1024
BODY_LIMIT = 128 * 1024
READ_TIMEOUT = float(os.environ.get("GUNICORN_READ_TIMEOUT") or 20)

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_LENGTH = re.compile(rb"\ncontent-length[ \t]*:[ \t]*(\d+)")
_CHUNKED = re.compile(rb"\ntransfer-encoding[ \t]*:[^\n]*chunked")
_CHUNKED_END = re.compile(rb"(?:^|\r\n)0(?:;[^\r\n]*)?\r\n\r\n")


def request_is_complete(buffer: bytes | bytearray) -> bool:
    """Whether a buffered request can go to a thread: headers and body are in (or past the limits, or the client waits for 100 Continue)."""
    end = _HEAD_END.search(buffer)
    if end is None:
        return len(buffer) > HEAD_LIMIT  # the parser refuses it as too large
    head = bytes(buffer[: end.start()]).lower()
    body = buffer[end.end() :]
    if b"\nexpect:" in head and b"100-continue" in head:
        return True  # the client sends its body only after the app's answer
    length = _CONTENT_LENGTH.search(head)
    if length is not None:
        wanted = int(length.group(1))
        return wanted > BODY_LIMIT or len(body) >= wanted
    if _CHUNKED.search(head):
        return len(body) > BODY_LIMIT or _CHUNKED_END.search(body) is not None
    return True


class BufferingThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, with each plain-HTTP/1 request read in the event loop before a thread handles it.

    gthread hands a connection to a thread as soon as its first byte arrives; a client
    that then sends its headers a byte at a time holds that thread for as long as it
    likes, and a few dozen such clients take them all (slowloris). Here a connection
    waits in the event loop, costing only its buffer, until its request is complete,
    and is closed if that takes longer than READ_TIMEOUT. TLS and HTTP/2 prior
    knowledge (both off in this setup: TLS ends at the proxy) keep gthread's path.
    """

    def init_process(self) -> None:
        """Set up the reading state; drop the Server header from every response of this worker."""
        self.reading: dict[Any, float] = {}  # connection -> deadline, in the order they arrived
        _drop_server_header()
        super().init_process()

    def _buffers(self, conn: Any) -> bool:
        """Whether this connection's requests are read in the event loop (plain HTTP/1)."""
        return not self.cfg.is_ssl and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def accept(self, listener: Any) -> None:
        """Accept a connection and start reading its request in the event loop."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return  # another worker took it, or the client gave up
            raise
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        if self._buffers(conn):
            self._start_reading(conn)
        else:
            self.enqueue_req(conn)  # gthread's own path

    def on_client_socket_readable(self, conn: Any, client: Any) -> None:
        """A kept-alive connection sends its next request: read it in the event loop too."""
        if not self._buffers(conn):
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._start_reading(conn)
        self._read_some(conn, client)

    def _start_reading(self, conn: Any) -> None:
        conn.request_bytes = bytearray()
        self.reading[conn] = time.monotonic() + READ_TIMEOUT
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_some, conn))

    def _stop_reading(self, conn: Any) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _read_some(self, conn: Any, _client: Any) -> None:
        """Read what the client has sent; hand the connection to a thread once its request is complete."""
        try:
            data = conn.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()
            return
        conn.request_bytes += data
        if request_is_complete(conn.request_bytes):
            self._stop_reading(conn)
            conn.data_ready = True
            self.enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Give the parser the bytes read in the event loop, then handle the request as gthread does."""
        buffered = getattr(conn, "request_bytes", None)
        if buffered:
            conn.request_bytes = None
            conn.sock.setblocking(True)
            conn.init()  # creates the parser on the first request; a no-op on a kept-alive connection
            conn.parser.unreader.unread(bytes(buffered))
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also close connections that have not sent a complete request within READ_TIMEOUT."""
        super().murder_pending()
        now = time.monotonic()
        for conn, deadline in list(self.reading.items()):
            if deadline > now:
                break  # in arrival order, and every deadline is arrival + READ_TIMEOUT
            self._stop_reading(conn)
            self.nr_conns -= 1
            conn.close()


def _drop_server_header() -> None:
    """Leave gunicorn's `Server: gunicorn` header out of responses (gunicorn has no setting for it)."""
    if getattr(wsgi.Response.default_headers, "without_server", False):
        return
    original = wsgi.Response.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in original(self) if not line.lower().startswith("server:")]

    default_headers.without_server = True  # type: ignore[attr-defined]
    wsgi.Response.default_headers = default_headers  # type: ignore[method-assign]


def post_worker_init(worker: Any) -> None:
    """Once a worker has loaded the app: collect, then move every live object to the permanent generation (`gc.freeze`).

    The app's flows, catalogs, mappers and modules (about 200,000 objects) live as long as the worker;
    without this, each full collection walks them again. Measured on the CSV of 200 organisations'
    checklists (docs/performance.md): collections took a third of its time.
    """
    gc.collect()
    gc.freeze()


class RedactingLogger(glogging.Logger):
    """gunicorn's logger with tokens removed: from every access log field and every error log message."""

    def setup(self, cfg: Any) -> None:
        """Configure as gunicorn does, then filter the error log (it quotes request lines it refuses)."""
        super().setup(cfg)
        if not any(isinstance(f, RedactTokens) for f in self.error_log.filters):
            self.error_log.addFilter(RedactTokens())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        """The access log's fields (request line, path, query, referrer, headers), each without tokens."""
        return {key: redact(value) if isinstance(value, str) else value for key, value in super().atoms(resp, req, environ, request_time).items()}


bind = [address.strip() for address in (os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000").split(",") if address.strip()]
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
worker_class = BufferingThreadWorker
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
worker_connections = 1000  # open connections per worker, waiting ones included
timeout = 30  # a worker that stops reporting for this long is restarted
graceful_timeout = 30
keepalive = 5
control_socket_disable = True  # gunicorn's management socket (in the user's home) is not needed here
logger_class = RedactingLogger
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# Time, request line (redacted), status, bytes, milliseconds: no client address, user agent or referrer.
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms'
