"""The only place that talks to B2: one authorized b2sdk ``B2Api`` per credentials per process.

b2sdk is used through ``b2sdk.v2`` only (see :mod:`.account_info` for why). Every call goes
through :meth:`B2Client.call`, which translates b2sdk's exceptions once (:mod:`.translate`); its
objects become our frozen dataclasses (:mod:`.meta`) before they leave this module.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property, partial
from typing import IO, Any
from urllib.parse import quote

from b2sdk.v2 import B2Api, Bucket, UploadSourceStream, WriteIntent
from b2sdk.v2.exception import MissingAccountData, NonExistentBucket

from .circuit import Circuit, circuits
from .config import StorageConfig
from .connection import connection
from .download_auth import request_download_token
from .exceptions import B2AccessRefused, B2ConfigurationError, B2FileNotFound, B2StorageError
from .meta import FileMeta, file_meta
from .translate import T, raise_alone, retry_throttled, translate_errors
from .transport import BoundedSession, deadline


class B2Client:
    """B2 operations for one storage: its bucket, through its process-wide ``B2Api``."""

    def __init__(self, config: StorageConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._bucket: Bucket | None = None
        self._file_url_base: str | None = None

    def __repr__(self) -> str:
        return f"B2Client(bucket={self.config.bucket!r}, realm={self.config.realm!r})"

    # -- connection ----------------------------------------------------------------------
    @property
    def api(self) -> B2Api:
        """Return the process's ``B2Api`` for these credentials (created lazily, shared)."""
        return self._connection()[0]

    @property
    def circuit(self) -> Circuit:
        """Return the circuit breaker of this storage's account (process-wide)."""
        return circuits.get(self.config.realm, self.config.application_key_id)

    def _connection(self) -> tuple[B2Api, BoundedSession]:
        return connection(self.config, self.circuit)

    def authorize(self) -> None:
        """Authorize the account from the configured key (again, if it was already)."""
        config = self.config
        refused = None
        try:
            with translate_errors(config.bucket, on_busy=self.circuit.busy):
                self.api.authorize_account(
                    config.realm, config.application_key_id, config.application_key
                )
        except B2AccessRefused as exc:  # say where the key is set (raised below: no chain)
            refused = B2AccessRefused(
                f"{exc} The key is set in {config.key_source()}.",
                hint=f"Check the application key id and key set in {config.key_source()}: B2 "
                "refused to authorize them.",
            )
        if refused is not None:
            raise_alone(refused)
        self._file_url_base = None  # the account's download URL may have changed
        minimum = self.api.account_info.get_absolute_minimum_part_size()
        if config.part_size < minimum:
            raise B2ConfigurationError(
                f"B2Storage option 'part_size' must be at least {minimum} bytes for this account."
            )

    def call(self, name: str, operation: Callable[[], T], *, budget: float | None = None) -> T:
        """Run ``operation``, authorizing first when the account data is missing or lost; every
        B2 attempt within ``budget`` seconds (from now) when given."""
        self.circuit.check(name)  # at once while B2 is known down, before any lock
        with deadline(budget), translate_errors(name, on_busy=self.circuit.busy):
            try:
                return operation()
            except MissingAccountData:
                self.authorize()
                return operation()

    @property
    def bucket(self) -> Bucket:
        """Return the storage's bucket (looked up once; created if ``create_bucket`` says so)."""
        if self._bucket is None:
            with self._lock:
                if self._bucket is None:
                    self._bucket = self._find_bucket()
        return self._bucket

    def _find_bucket(self) -> Bucket:
        name = self.config.bucket
        found = self.call(name, lambda: self.api.list_buckets(bucket_name=name))
        if found:
            bucket: Bucket = found[0]
            return bucket
        wanted = self.config.create_bucket
        if wanted is False:
            with translate_errors(name):
                raise NonExistentBucket(name)
        bucket_type = wanted if isinstance(wanted, str) else "allPrivate"
        created: Bucket = self.call(name, lambda: self.api.create_bucket(name, bucket_type))
        return created

    # -- reading -------------------------------------------------------------------------
    def meta(self, name: str) -> FileMeta | None:
        """Return the newest visible version's metadata, or ``None`` when there is none."""
        try:
            version = self.call(name, lambda: self.bucket.get_file_info_by_name(name))
        except B2FileNotFound:
            return None
        return file_meta(version)

    def versions(self, name: str) -> list[FileMeta]:
        """Return every version of exactly ``name`` (hide markers included), newest first."""

        def collect() -> list[FileMeta]:
            versions = self.bucket.list_file_versions(name)
            return [file_meta(v) for v in versions if v.file_name == name]

        return self.call(name, collect)

    def open_range(
        self, name: str, start: int, end: int, chunk: int, file_id: str | None = None
    ) -> tuple[Iterator[bytes], Any]:
        """Start a download of bytes ``start..end`` (inclusive) of ``name``'s latest version
        or of version ``file_id`` (whatever was saved since); return its chunks and response."""

        def start_download() -> Any:
            if file_id:
                return self.api.download_file_by_id(file_id, range_=(start, end))
            return self.bucket.download_file_by_name(name, range_=(start, end))

        downloaded = self.call(name, start_download)
        response = downloaded.response
        return response.iter_content(chunk_size=chunk), response

    def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        """Return the directories and files directly under ``prefix`` (names relative to it)."""

        def collect() -> tuple[list[str], list[str]]:
            dirs: list[str] = []
            files: list[str] = []
            for version, folder in self.bucket.ls(prefix, recursive=False):
                if folder is not None:
                    dirs.append(folder[len(prefix) :].rstrip("/"))
                else:
                    files.append(version.file_name[len(prefix) :])
            return dirs, files

        return self.call(prefix or "/", collect)

    # -- writing -------------------------------------------------------------------------
    def upload(
        self,
        name: str,
        opener: Callable[[], IO[bytes] | io.RawIOBase],
        size: int,
        content_type: str,
        file_info: dict[str, str],
    ) -> FileMeta:
        """Upload ``size`` bytes that ``opener`` reads; parts of ``part_size`` when larger."""
        source = UploadSourceStream(opener, stream_length=size)
        sizes = self._part_sizes(min(self.config.part_size, size or 1))

        def create() -> Any:
            return self.bucket.create_file(
                [WriteIntent(source)], name, content_type=content_type, file_info=file_info, **sizes
            )

        return file_meta(self.call(name, lambda: retry_throttled(create)))

    def upload_stream(
        self, name: str, stream: IO[bytes], content_type: str, file_info: dict[str, str]
    ) -> FileMeta:
        """Upload a stream of unknown size, buffering at most two parts."""
        sizes = self._part_sizes(self.config.part_size)

        def run() -> Any:
            return self.bucket.upload_unbound_stream(
                stream, name, content_type=content_type, file_info=file_info, **sizes
            )

        return file_meta(self.call(name, run))

    def _part_sizes(self, smallest: int) -> dict[str, int]:
        part = self.config.part_size
        return {
            "recommended_upload_part_size": part,
            "min_part_size": smallest,
            "max_part_size": part,
        }

    def cancel_unfinished(self, name: str) -> int:
        """Cancel the unfinished large files of exactly ``name``; return how many."""

        def cancel() -> int:
            listed = self.bucket.list_unfinished_large_files(prefix=name)
            unfinished = [large for large in listed if large.file_name == name]
            for large in unfinished:
                self.bucket.cancel_large_file(large.file_id)
            return len(unfinished)

        return self.call(name, cancel)

    def delete_all(self, name: str) -> int:
        """Delete every version of ``name`` (a deleted file stays deleted); return how many."""
        versions = self.versions(name)
        for version in versions:
            with contextlib.suppress(B2FileNotFound):  # another delete got there first
                self.call(name, partial(self.api.delete_file_version, version.file_id, name))
        return len(versions)

    # -- URLs ----------------------------------------------------------------------------
    def public_url(self, name: str) -> str:
        """Return the direct download URL of ``name`` (for an allPublic bucket)."""
        base = self._file_url_base
        if base is None:
            download_url = self.call(
                name, self.api.account_info.get_download_url, budget=self.config.link_timeout
            )
            # Kept in this process: a warm redirect must not read the shared cache again.
            base = self._file_url_base = f"{download_url}/file/{quote(self.config.bucket)}/"
        return f"{base}{quote(name)}"

    def cached_public_url(self, name: str) -> str | None:
        """Return the direct URL of ``name`` if known without any I/O, else ``None``."""
        base = self._file_url_base
        return None if base is None else f"{base}{quote(name)}"

    def known_public(self) -> bool:  # without I/O
        return self._bucket is not None and self._bucket.type_ == "allPublic"

    def is_public(self) -> bool:
        """Return whether the bucket is allPublic (for a URL: within ``link_timeout``)."""
        with deadline(self.config.link_timeout):
            return bool(self.bucket.type_ == "allPublic")

    def download_authorization(
        self, prefix: str, seconds: int, overrides: Mapping[str, str] | None = None
    ) -> str:
        """Return a B2 download token for names starting with ``prefix``, through the raw
        endpoint: b2sdk does not expose the ``overrides`` it pins (``b2ContentDisposition``...)."""
        body = {
            "bucketId": self.bucket.id_,
            "fileNamePrefix": prefix,
            "validDurationInSeconds": seconds,
            **(overrides or {}),
        }
        return self.call(
            prefix, lambda: self._raw_download_authorization(body), budget=self.config.link_timeout
        )

    @cached_property
    def key_name_prefix(self) -> str:  # the name prefix the key is limited to (fixed), or ""
        return str((self.call("", self.api.account_info.get_allowed) or {}).get("namePrefix") or "")

    def names_from(self, name: str, count: int) -> list[str]:
        """Return up to ``count`` live file names that start with ``name``, in B2's order
        (``name`` itself first when it exists): one ``b2_list_file_names`` call."""

        def listed() -> list[str]:
            answer = self.api.session.list_file_names(self.bucket.id_, name, count, name)
            return [str(entry["fileName"]) for entry in answer.get("files", [])]

        return self.call(name, listed, budget=self.config.link_timeout)

    def _raw_download_authorization(self, body: dict[str, Any]) -> str:
        for _attempt in (1, 2):
            api, session = self._connection()
            info = api.account_info
            token = request_download_token(
                info.get_api_url(),
                info.get_account_auth_token(),
                body,
                session=session,
                on_busy=self.circuit.busy,
            )
            if token is not None:
                return token
            self.authorize()
        raise B2StorageError("B2 refused the download authorization after re-authorizing.")
