"""The endpoints whose bytes or credentials travel in headers and bodies rather than JSON:
b2_authorize_account, b2_upload_file, b2_upload_part and the downloads (a mixin of the request
handler in :mod:`.server`, which gives them its server as a :class:`Host`).
"""

from __future__ import annotations

import base64
import contextlib
from email.message import Message
from typing import TYPE_CHECKING, Any, Protocol

from .accounts import key_of, now_ms
from .calls import Call
from .engine import Engine
from .errors import bad_request, not_found, unauthorized
from .files import FileEngine
from .keys import Key
from .refusals import refuse_headers
from .rows import FileRow
from .transfer import authorize_download, download_headers, parse_range, parse_upload
from .wire import authorize_json, file_json, part_json

if TYPE_CHECKING:
    import io
    import socket


class Host(Protocol):
    """What the endpoints use of the server that serves them: its engine, its files and URL."""

    engine: Engine
    files: FileEngine

    @property
    def base_url(self) -> str:
        """Return ``http://host:port`` of the server."""
        ...


class ByteEndpoints:
    """Authorize, upload, upload a part, download by name or id."""

    server: Host
    headers: Message[str, str]
    query: dict[str, str]
    command: str
    rfile: io.BufferedIOBase
    connection: socket.socket
    close_connection: bool
    cut_after: int | None  # a fault: send only this many bytes of a download's body, then close

    if TYPE_CHECKING:  # provided by the request handler this class is mixed into

        def send_response(self, code: int, message: str | None = None) -> None: ...
        def send_header(self, keyword: str, value: str) -> None: ...
        def end_headers(self) -> None: ...
        def _send_json(self, status: int, body: dict[str, Any]) -> None: ...

    def _view(self, version: str, token: str | None = None) -> Call:
        server = self.server
        return Call(version, {}, token, server.base_url, server.engine, server.files)

    def _authorize(self, version: str) -> None:
        header = self.headers.get("Authorization") or ""
        scheme, _, encoded = header.partition(" ")
        try:
            key_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
            key_id = secret = ""
        if scheme.lower() != "basic" or not key_id:
            raise unauthorized(
                "Basic authorization with key id and key is required", "bad_auth_token"
            )
        key, token = self.server.engine.authorize(key_id, secret)
        if version != "v4" and key.bucket_ids is not None and len(key.bucket_ids) > 1:
            raise unauthorized("A key restricted to several buckets needs /b2api/v4")
        self._send_json(200, authorize_json(self._view(version, token), key, token))

    def _uploader(self, payload: dict[str, Any]) -> Key:
        """Return the key an upload token was issued to, if it still exists."""
        stored = self.server.engine.find_key(str(payload.get("k", "")))
        if stored is None or (stored.expires is not None and stored.expires <= now_ms()):
            raise unauthorized("Invalid upload authorization token", "bad_auth_token")
        return key_of(stored)

    def _upload(self, version: str, target: str, *, part: bool) -> None:
        engine, files = self.server.engine, self.server.files
        payload = engine.tokens.read("upld", self.headers.get("Authorization") or "")
        if payload is None or payload.get("f" if part else "b") != target:
            raise unauthorized("Invalid upload authorization token", "bad_auth_token")
        refuse_headers(self.headers)
        upload = parse_upload(self.headers, part=part)
        key = self._uploader(payload)
        row = files.unfinished(target) if part else None
        # A key limited to a name prefix uploads (and adds parts) only under it.
        key.require_prefix(row.name if row is not None else upload.name)
        if row is None:
            engine.bucket(target)
        blob = files.write_blob(self.rfile, upload.length, upload.sha1)
        self.close_connection = False
        if row is not None:
            number = self.headers.get("X-Bz-Part-Number") or ""
            if not number.isdigit():
                files.discard_blob(blob[0])
                raise bad_request("X-Bz-Part-Number must be a number")
            stored = files.add_part(target, int(number), blob)
            self._send_json(200, part_json(target, stored))
            return
        new = files.add_upload(
            target, upload.name, upload.content_type, upload.info, blob, upload.timestamp
        )
        self._send_json(200, file_json(self._view(version), new))

    def _download_by_name(self, bucket_name: str, name: str) -> None:
        engine = self.server.engine
        bucket = engine.bucket(name=bucket_name)
        refuse_headers(self.headers)
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
            raise not_found(f"File not present: {file_id}")
        bucket = engine.bucket(row.bucket_id)
        refuse_headers(self.headers)
        token = self.headers.get("Authorization") or self.query.get("Authorization")
        overrides = authorize_download(
            engine, bucket.bucket_id, bucket.type, row.name, token, self.query
        )
        self._send_file(row, overrides)

    def _blob(self, blob: str) -> str:
        return str(self.server.files.blob_path(blob))

    def _send_file(self, row: FileRow, overrides: dict[str, str]) -> None:
        byte_range = parse_range(self.headers.get("Range"), row.size)
        with contextlib.ExitStack() as stack:
            # Open every blob before answering: a version deleted since it was looked up is
            # "not present" (404), never a 500 or headers followed by no body. Once open, its
            # bytes stay readable whatever happens to the file.
            try:
                sources = [
                    stack.enter_context(open(self._blob(blob), "rb")) for blob, _ in row.segments
                ]
            except FileNotFoundError:
                raise not_found(f"File not present: {row.name}") from None
            self.send_response(206 if byte_range is not None else 200)
            for header, value in download_headers(row, overrides, byte_range):
                self.send_header(header, value)
            self.end_headers()
            if self.command == "HEAD" or row.size == 0:
                return
            first, last = byte_range if byte_range is not None else (0, row.size - 1)
            offset, budget = 0, self.cut_after
            for source, (_blob, size) in zip(sources, row.segments, strict=True):
                start, end = max(first, offset), min(last, offset + size - 1)
                count = end - start + 1 if budget is None else min(end - start + 1, budget)
                if count > 0:
                    self.connection.sendfile(source, start - offset, count)
                    budget = None if budget is None else budget - count
                offset += size
        if self.cut_after is not None:
            self.close_connection = True  # the client gets fewer bytes than Content-Length said
