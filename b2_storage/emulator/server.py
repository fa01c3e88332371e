"""The local B2 server over HTTP/1.1 (keep-alive, TCP_NODELAY), and its request routing.

Bodies stream: an upload goes from the socket to a blob file in 1 MiB chunks while its SHA1 is
computed, and a download goes from the blob files to the socket with ``sendfile``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import sys
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NoReturn
from urllib.parse import parse_qsl, unquote, urlsplit

from .api import HANDLERS, KNOWN, UNKNOWN, refused_endpoint
from .calls import Call
from .endpoints import ByteEndpoints
from .engine import Engine
from .errors import B2Error, bad_request, not_found, not_implemented
from .faults import CODES, Fault, Faults
from .files import FileEngine

logger = logging.getLogger(__name__)
MAX_JSON_BODY = 1024 * 1024
SECRET_IN_QUERY = re.compile(r"(Authorization)=[^&\s\"]*")
API_VERSIONS = ("v1", "v2", "v3", "v4")
UPLOADS = ("b2_upload_file", "b2_upload_part")


class B2HTTPServer(ThreadingHTTPServer):
    """A threading HTTP server holding the engine, the call counters and the faults."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # the stdlib's 5 resets connections under a burst of clients

    def __init__(self, address: tuple[str, int], engine: Engine, faults: Faults) -> None:
        self.engine = engine
        self.files = FileEngine(engine)
        self.faults = faults
        self.calls: Counter[str] = Counter()
        self._live_lock = threading.Lock()
        self._live: dict[socket.socket, threading.Thread] = {}
        self.closed = False
        super().__init__(address, B2RequestHandler)

    def track(self, connection: socket.socket, *, alive: bool) -> None:
        """Note a connection (and the thread serving it) as open, or as closed."""
        with self._live_lock:
            if alive:
                self._live[connection] = threading.current_thread()
            else:
                self._live.pop(connection, None)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Close every open connection, as a B2 going down would, and wait (up to ``timeout``
        seconds each) for the threads serving them, so that none uses the store afterwards."""
        self.closed = True  # a call that arrives now is dropped unanswered
        with self._live_lock:
            live = list(self._live.items())
        for connection, _thread in live:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        for _connection, thread in live:
            if thread is not threading.current_thread():
                thread.join(timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client drops its connection (browsers do, after a seek)."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        """Return ``http://host:port`` of this server."""
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class B2RequestHandler(ByteEndpoints, BaseHTTPRequestHandler):
    """Route one HTTP request to the B2 API, the upload or the download paths."""

    protocol_version = "HTTP/1.1"
    server: B2HTTPServer
    server_version = "LocalB2"

    cut_after: int | None = None  # a fault's limit on the bytes of this call's body
    _on_answer: tuple[Callable[[], None], ...] = ()  # triggers run just before answering

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, alive=True)

    def finish(self) -> None:
        self.server.track(self.connection, alive=False)
        super().finish()

    def send_response(self, code: int, message: str | None = None) -> None:
        actions, self._on_answer = self._on_answer, ()
        for action in actions:  # after the call was handled, before the client hears of it
            action()
        super().send_response(code, message)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
        message = SECRET_IN_QUERY.sub(r"\1=<hidden>", format % args)
        logger.debug("%s %s", self.address_string(), message)

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _refuse_method(self) -> None:
        self.close_connection = True
        self.api_name = self.command
        self._send_error(B2Error(405, "method_not_allowed", f"{self.command} is not supported"))

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    # -- routing -------------------------------------------------------------------------
    def _handle(self) -> None:
        parts = urlsplit(self.path)
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        segments = parts.path.split("/")
        self.api_name = UNKNOWN
        self.cut_after, self._on_answer = None, ()
        streamed = len(segments) >= 4 and segments[3] in UPLOADS
        try:
            # HTTP/1.1 keep-alive: a body must be read before answering, or the connection
            # closed; uploads stream theirs, so until they have read it the connection closes.
            if streamed:
                self.close_connection = True
            else:
                self._read_body()
            if len(segments) >= 4 and segments[1] == "file":
                self.api_name = "b2_download_file_by_name"
                self._inject_faults()
                bucket = unquote(segments[2])
                self._download_by_name(bucket, unquote("/".join(segments[3:])))
            elif len(segments) >= 4 and segments[1] == "b2api":
                # Made-up names share one counter, so unauthenticated calls cannot grow it.
                self.api_name = segments[3] if segments[3] in KNOWN else UNKNOWN
                self._inject_faults()
                if segments[2] not in API_VERSIONS:
                    versions = ", ".join(API_VERSIONS)
                    raise not_implemented(
                        f"API version {segments[2][:20]!r} (it speaks {versions})"
                    )
                self._api(segments[2], segments[3], segments[4:])
            else:
                raise not_found(f"Nothing here: {parts.path}")
        except B2Error as error:
            self._send_error(error)
        except ConnectionError:
            self.close_connection = True
        except Exception:
            logger.exception("local B2 server failed on %s %s", self.command, self.api_name)
            self._send_error(B2Error(500, "internal_error", "The local B2 server failed."))

    def _inject_faults(self) -> None:
        self.server.calls[self.api_name] += 1
        faults = self.server.faults
        for trigger in faults.fired(self.api_name):
            if trigger.on_answer:
                self._on_answer += (trigger.action,)
            else:
                trigger.action()
        if self.server.closed:  # an action stopped the server: this call goes unanswered
            self._drop()
        fault = faults.take(self.api_name, body=self.command != "HEAD")
        if fault is not None:
            self._apply(fault)

    def _apply(self, fault: Fault) -> None:
        if fault.cut_after is not None and self.api_name in UPLOADS:
            # Read part of the upload's body, then go away without answering.
            length = self.headers.get("Content-Length") or "0"
            wanted = min(fault.cut_after, int(length) if length.isdigit() else 0)
            while wanted > 0:
                chunk = self.rfile.read(min(wanted, 1 << 16))
                if not chunk:
                    break
                wanted -= len(chunk)
            self._drop()
        if fault.cut_after is not None:
            self.cut_after = fault.cut_after  # the download path sends this much of the body
            return
        if fault.drop:
            self._drop()
        headers = {"Retry-After": str(fault.retry_after)} if fault.status in (429, 503) else {}
        message = "Injected fault from LocalB2"
        raise B2Error(fault.status, CODES[fault.status], message, headers=headers)

    def _drop(self) -> NoReturn:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        raise ConnectionAbortedError(self.api_name)

    def _api(self, version: str, name: str, rest: list[str]) -> None:
        if name == "b2_authorize_account":
            self._authorize(version)
        elif name in UPLOADS:
            if not rest or not rest[0]:
                raise bad_request(f"{name} needs the URL that b2_get_upload_url gave")
            self._upload(version, rest[0], part=name == "b2_upload_part")
        elif name == "b2_download_file_by_id":
            self._download_by_id()
        elif name in HANDLERS:
            if self.command == "HEAD":
                raise B2Error(405, "method_not_allowed", f"HEAD is not supported on {name}")
            self._send_json(200, HANDLERS[name](self._call(version)))
        else:
            raise refused_endpoint(name)

    def _read_body(self) -> None:
        self.body = b""
        length_header = self.headers.get("Content-Length") or "0"
        if not length_header.isdigit() or int(length_header) > MAX_JSON_BODY:
            self.close_connection = True
            raise bad_request("The request body is too large or its length is invalid")
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            raise bad_request("Chunked request bodies are not supported; send Content-Length")
        self.body = self.rfile.read(int(length_header))

    def _call(self, version: str) -> Call:
        params: dict[str, Any] = dict(self.query)
        if self.command == "POST":
            try:
                params = json.loads(self.body or b"{}")
            except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
                raise bad_request("The request body is not valid JSON") from None
            if not isinstance(params, dict):
                raise bad_request("The request body must be a JSON object")
        server = self.server
        server.faults.shorten(self.api_name, params)
        token = self.headers.get("Authorization")
        return Call(version, params, token, server.base_url, server.engine, server.files)

    # -- responses -----------------------------------------------------------------------
    def _send_json(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "max-age=0, no-cache, no-store")
        for header, value in (headers or {}).items():
            self.send_header(header, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, error: B2Error) -> None:
        logger.debug("local B2 %s -> %s %s", self.api_name, error.status, error.code)
        try:
            self._send_json(error.status, error.body(), error.headers)
        except OSError:
            self.close_connection = True
