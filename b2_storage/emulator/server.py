"""The local B2 server over HTTP/1.1 (keep-alive, TCP_NODELAY), and its request routing.

Bodies stream: an upload goes from the socket to a blob file in 1 MiB chunks while its SHA1 is
computed, and a download goes from the blob files to the socket with ``sendfile``.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import socket
import sys
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .api import HANDLERS, Call, unknown_endpoint
from .engine import Engine
from .errors import B2Error, bad_request, unauthorized
from .faults import Faults
from .files import FileEngine
from .rows import FileRow
from .transfer import authorize_download, download_headers, parse_range, parse_upload
from .wire import authorize_json, file_json, part_json

logger = logging.getLogger(__name__)
MAX_JSON_BODY = 1024 * 1024
SECRET_IN_QUERY = re.compile(r"(Authorization)=[^&\s\"]*")
API_VERSIONS = ("v3", "v4")


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
        super().__init__(address, B2RequestHandler)

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


class B2RequestHandler(BaseHTTPRequestHandler):
    """Route one HTTP request to the B2 API, the upload or the download paths."""

    protocol_version = "HTTP/1.1"
    server: B2HTTPServer
    server_version = "LocalB2"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

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
        self.api_name = "unknown"
        streamed = len(segments) >= 4 and segments[3] in ("b2_upload_file", "b2_upload_part")
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
            elif len(segments) >= 4 and segments[1] == "b2api" and segments[2] in API_VERSIONS:
                self.api_name = segments[3]
                self._inject_faults()
                self._api(segments[2], segments[3], segments[4:])
            else:
                raise B2Error(404, "not_found", f"Nothing here: {parts.path}")
        except B2Error as error:
            self._send_error(error)
        except ConnectionError:
            self.close_connection = True
        except Exception:
            logger.exception("local B2 server failed on %s %s", self.command, self.api_name)
            self._send_error(B2Error(500, "internal_error", "The local B2 server failed."))

    def _inject_faults(self) -> None:
        self.server.calls[self.api_name] += 1
        fault = self.server.faults.take(self.api_name)
        if fault is None:
            return
        if fault.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError(self.api_name)
        code = "too_many_requests" if fault.status == 429 else "service_unavailable"
        headers = {"Retry-After": str(fault.retry_after)}
        raise B2Error(fault.status, code, "Injected fault from LocalB2", headers=headers)

    def _api(self, version: str, name: str, rest: list[str]) -> None:
        if name == "b2_authorize_account":
            self._authorize(version)
        elif name == "b2_upload_file" and rest:
            self._upload(rest[0], part=False)
        elif name == "b2_upload_part" and rest:
            self._upload(rest[0], part=True)
        elif name == "b2_download_file_by_id":
            self._download_by_id()
        elif name in HANDLERS and self.command in ("GET", "POST"):
            body = HANDLERS[name](self._call(version))
            self._send_json(200, body)
        else:
            raise unknown_endpoint(name)

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
            except ValueError:
                raise bad_request("The request body is not valid JSON") from None
            if not isinstance(params, dict):
                raise bad_request("The request body must be a JSON object")
        server = self.server
        token = self.headers.get("Authorization")
        return Call(version, params, token, server.base_url, server.engine, server.files)

    # -- endpoints with bodies -----------------------------------------------------------
    def _authorize(self, version: str) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        try:
            key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            key_id = secret = ""
        if scheme.lower() != "basic" or not key_id:
            raise unauthorized(
                "Basic authorization with key id and key is required", "bad_auth_token"
            )
        key, token = self.server.engine.authorize(key_id, secret)
        call = Call(version, {}, token, self.server.base_url, self.server.engine, self.server.files)
        self._send_json(200, authorize_json(call, key, token))

    def _upload(self, target: str, *, part: bool) -> None:
        engine, files = self.server.engine, self.server.files
        payload = engine.tokens.read("upld", self.headers.get("Authorization") or "")
        if payload is None or payload.get("f" if part else "b") != target:
            raise unauthorized("Invalid upload authorization token", "bad_auth_token")
        upload = parse_upload(self.headers, part=part)
        if not part:  # a key limited to a name prefix uploads only under it
            key = engine.store.get_key(str(payload.get("k", "")))
            if key is not None and key[4] and not upload.name.startswith(key[4]):
                raise unauthorized("The key is restricted to another name prefix.")
        row = files.unfinished(target) if part else None
        if not part:
            engine.bucket(target)
        blob = files.write_blob(self.rfile, upload.length, upload.sha1)
        self.close_connection = False
        if row is not None:
            number = self.headers.get("X-Bz-Part-Number") or ""
            if not number.isdigit():
                files.store.remove_blobs([blob[0]])
                raise bad_request("X-Bz-Part-Number must be a number")
            stored = files.add_part(target, int(number), blob)
            self._send_json(200, part_json(target, stored))
            return
        new = files.add_upload(target, upload.name, upload.content_type, upload.info, blob)
        self._send_json(200, file_json(engine, new))

    def _download_by_name(self, bucket_name: str, name: str) -> None:
        engine = self.server.engine
        bucket = engine.bucket(name=bucket_name)
        token = self.headers.get("Authorization") or self.query.get("Authorization")
        overrides = authorize_download(
            engine, bucket.bucket_id, bucket.type, name, token, self.query
        )
        self._send_file(self.server.files.latest(bucket.bucket_id, name), overrides)

    def _download_by_id(self) -> None:
        engine, files = self.server.engine, self.server.files
        file_id = self.query.get("fileId")
        if not file_id:
            raise bad_request("Missing required parameter: fileId")
        row = files.version(file_id)
        if row.action != "upload":
            raise B2Error(404, "not_found", f"File not present: {file_id}")
        bucket = engine.bucket(row.bucket_id)
        token = self.headers.get("Authorization") or self.query.get("Authorization")
        overrides = authorize_download(
            engine, bucket.bucket_id, bucket.type, row.name, token, self.query
        )
        self._send_file(row, overrides)

    # -- responses -----------------------------------------------------------------------
    def _send_file(self, row: FileRow, overrides: dict[str, str]) -> None:
        byte_range = parse_range(self.headers.get("Range"), row.size)
        self.send_response(206 if byte_range is not None else 200)
        for header, value in download_headers(row, overrides, byte_range):
            self.send_header(header, value)
        self.end_headers()
        if self.command == "HEAD" or row.size == 0:
            return
        first, last = byte_range if byte_range is not None else (0, row.size - 1)
        offset = 0
        for blob, size in row.segments:
            start, end = max(first, offset), min(last, offset + size - 1)
            if start <= end:
                with open(self.server.files.store.blob_path(blob), "rb") as source:
                    self.connection.sendfile(source, start - offset, end - start + 1)
            offset += size

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
