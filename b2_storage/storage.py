"""``B2Storage``: Django's ``Storage`` contract over one B2 bucket (and an optional location)."""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cachetools import TTLCache
from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage
from django.utils import timezone

from .addressing import B2Addressing
from .client import B2Client
from .config import StorageConfig
from .content import upload_headers
from .exceptions import B2FileNotFound, B2InvalidName, B2StorageError
from .files import B2File, check_mode
from .layout import in_new_folder, name_conflict, unsealing_problem, write_conflict
from .meta import FileMeta
from .recorded import recorded_as
from .sources import SharedSeekable, encoded_spool, is_text, known_size, seekable
from .tokens import TokenPolicy

NAME_ATTEMPTS = 5


@recorded_as("b2_storage.B2Storage")
class B2Storage(B2Addressing, Storage):
    """A Django storage that keeps files in a Backblaze B2 bucket.

    Options (keyword arguments or a ``STORAGES`` entry's ``OPTIONS``) override the defaults in
    ``settings.B2_STORAGE``; see the README for each. Nothing here touches the network until a
    file is used, unless ``authorize_on_init`` or ``validate_on_init`` ask for it.
    """

    options_kind = "B2Storage"
    extra_options: tuple[str, ...] = ()  # options a subclass takes out for itself

    if TYPE_CHECKING:  # set by @recorded_as (Django's @deconstructible)

        def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]: ...

    def __init__(self, **options: Any) -> None:
        self.config = StorageConfig.from_options(
            options, kind=self.options_kind, also=self.extra_options
        )
        self.client = B2Client(self.config)
        ttl = self.config.cache_ttl
        self._meta: TTLCache[str, Any] | None = (
            TTLCache(self.config.cache_maxsize, ttl, timer=lambda: time.monotonic())
            if ttl
            else None
        )
        self._meta_lock = threading.Lock()
        # allPrivate url()s are reused for half their life, so each hands out at least half.
        expires = self.config.url_expires
        self.url_policy = TokenPolicy(lifetime=expires, handout=max(1, expires // 2))
        if self.config.authorize_on_init:
            self.client.authorize()
        if self.config.validate_on_init:
            _ = self.client.bucket

    def __repr__(self) -> str:
        config = self.config
        return f"{type(self).__name__}(bucket={config.bucket!r}, location={config.location!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, B2Storage)
            and type(other) is type(self)
            and other.config == self.config
        )

    def __hash__(self) -> int:
        return hash((type(self), self.config.bucket, self.config.location, self.config.realm))

    # -- metadata ------------------------------------------------------------------------
    # size() and the times read a per-process TTL cache of files that exist (updated by this
    # instance's writes). Decisions and reads never trust it: exists(), the available-name
    # check and open() ask B2, and "missing" is never cached, so another worker's upload or
    # delete cannot make us overwrite a file or read a stale length.
    def _file_meta(self, name: str, *, fresh: bool = False) -> FileMeta | None:
        full = self.b2_name(name)
        if self._meta is not None and not fresh:
            with self._meta_lock:
                cached = self._meta.get(full)
            if cached is not None:
                return cached  # type: ignore[no-any-return]
        meta = self.client.meta(full)
        self._forget(full, meta)
        return meta

    def _forget(self, full: str, meta: FileMeta | None = None) -> None:
        if self._meta is not None:
            with self._meta_lock:
                self._meta.pop(full, None)
                if meta is not None:
                    self._meta[full] = meta

    def _require(self, name: str, *, fresh: bool = False) -> FileMeta:
        meta = self._file_meta(name, fresh=fresh)
        if meta is None:
            raise B2FileNotFound(name)
        return meta

    # -- the Storage contract ------------------------------------------------------------
    def _open(self, name: str, mode: str = "rb") -> B2File:
        check_mode(mode)
        if "w" in mode:
            self._check_write(name)
            return B2File(name, self, mode)
        return B2File(name, self, mode, meta=self._require(name, fresh=True))

    def _check_write(self, name: str) -> None:
        """Raise :class:`B2InvalidName` before anything is written when a file written as
        ``name`` (the caller's: no other can be picked) would be next to a live file that a
        download token for either opens (:func:`.layout.write_conflict`); overwriting is fine."""
        full, folders = self.b2_name(name), self.config.layout == "folder-per-file"
        if self.is_public():  # its links need no token: nothing to unseal
            return
        key_prefix = self.client.key_name_prefix
        other = write_conflict(self.client.names_from, full, key_prefix, folders=folders)
        if other is not None:
            raise B2InvalidName(name, unsealing_problem(full, other, folders=folders))

    def _open_range(
        self, name: str, start: int, end: int, chunk: int, file_id: str | None = None
    ) -> tuple[Iterator[bytes], Any]:
        return self.client.open_range(self.b2_name(name), start, end, chunk, file_id)

    def _save(self, name: str, content: File[Any]) -> str:
        self._save_file(name, content)
        return name

    def _save_file(self, name: str, content: File[Any]) -> None:
        full = self.b2_name(name)
        content_type, file_info = upload_headers(name, self.config)  # never the uploader's claim
        self._forget(full)
        try:
            meta = self._upload(full, content, content_type, file_info)
        except B2StorageError:
            with suppress(B2StorageError):
                self.client.cancel_unfinished(full)
            raise
        self._forget(full, meta)

    def _upload(
        self, full: str, content: File[Any], content_type: str, file_info: dict[str, str]
    ) -> FileMeta:
        path = getattr(content, "temporary_file_path", None)
        if callable(path):  # Django's TemporaryUploadedFile: read the file on disk
            with open(path(), "rb") as local:
                size = os.fstat(local.fileno()).st_size
                view = SharedSeekable(local)
                return self.client.upload(full, view.open, size, content_type, file_info)
        stream = content.file if content.file is not None else content
        if is_text(stream):  # encode as UTF-8, spooled to disk past one part
            with encoded_spool(stream, self.config.part_size) as spool:
                size = spool.tell()
                view = SharedSeekable(spool)
                return self.client.upload(full, view.open, size, content_type, file_info)
        known = known_size(content)
        if known is not None and seekable(stream):
            view = SharedSeekable(stream)
            return self.client.upload(full, view.open, known, content_type, file_info)
        return self.client.upload_stream(full, stream, content_type, file_info)

    def delete(self, name: str) -> None:
        """Delete every version of ``name``, so it stays deleted; a missing file is fine."""
        full = self.b2_name(name)
        self.client.delete_all(full)
        self._forget(full)

    def exists(self, name: str) -> bool:
        """Return whether ``name`` is in the bucket now (asks B2: never a cached answer)."""
        return self._file_meta(name, fresh=True) is not None

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        """Return a name to save under that no other live file's name extends or is extended
        by (B2's tokens are prefix tokens, so either would let one file's URL open the other).

        Django's rules first (``name_<7 random>.ext`` when taken; ``allow_overwrite`` keeps the
        name), then the ``b2_list_file_names`` calls of :func:`.layout.name_conflict`: a name
        that extends a stored one, or that a stored one extends, moves into a folder of its own,
        keeping its base name. ``allow_overwrite`` overwrites a stored name, but never creates
        one next to another: it moves too. In the ``folder-per-file`` layout every name gets a
        new folder. On an allPublic bucket (no token is ever needed) only Django's rules apply.
        """
        name = str(name).replace("\\", "/")
        folders = self.config.layout == "folder-per-file"
        candidate = super().get_available_name(in_new_folder(name) if folders else name, max_length)
        if not folders and self.is_public():  # its links need no token: nothing to unseal
            return candidate
        # A stored name that ends before the name's own base name is in one of its folders:
        # no new folder escapes that. One that ends later may: draw a new folder (id).
        folders_end = len(self.b2_name(name)) - len(posixpath.basename(name))
        key_prefix = self.client.key_name_prefix  # read once per client: a key's is fixed
        conflict = write_conflict if self.config.allow_overwrite and not folders else name_conflict
        for _ in range(NAME_ATTEMPTS):
            other = conflict(self.client.names_from, self.b2_name(candidate), key_prefix)
            if other is None:
                return candidate
            if len(other) < folders_end:
                raise B2InvalidName(
                    candidate,
                    f"its folder extends the stored file {other[:100]!r}, whose "
                    "download links would open it too; save it elsewhere or rename that file",
                )
            conflict = name_conflict  # a new folder is never a stored name to overwrite
            candidate = super().get_available_name(in_new_folder(name), max_length)
        raise B2StorageError(f"Could not find a free name for {name[:100]!r}.")

    def is_name_available(self, name: str, max_length: int | None = None) -> bool:
        """With ``allow_overwrite`` or in the ``folder-per-file`` layout, any name that fits
        is available (a new random folder is never taken); else Django's rule."""
        if self.config.allow_overwrite or self.config.layout == "folder-per-file":
            return not (max_length and len(name) > max_length)
        return super().is_name_available(name, max_length=max_length)

    def get_alternative_name(self, file_root: str, file_ext: str) -> str:
        """With ``allow_overwrite``, keep the name (Django then only shortens it to fit)."""
        if self.config.allow_overwrite and self.config.layout == "flat":
            return f"{file_root}{file_ext}"
        return super().get_alternative_name(file_root, file_ext)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """Return the directories and files directly under ``path``."""
        return self.client.list_dir(self._dir_prefix(path))

    def size(self, name: str) -> int:
        """Return the size of ``name`` in bytes."""
        return self._require(name).size

    def url(self, name: str | None) -> str:
        """Return a URL for ``name``: direct (or ``cdn_url``) for an allPublic bucket, else a B2
        download-authorization URL valid for ``url_expires`` seconds (one B2 call per name and
        half that time: a URL is reused while at least half of its life remains)."""
        if name is None:
            raise ValueError("url() needs a file name.")
        full = self.b2_name(name)
        if self.config.cdn_url:
            return f"{self.config.cdn_url.rstrip('/')}/{quote(full)}"
        if self.is_public():
            return self.client.public_url(full)
        return self.download_url(name, self.url_policy)

    # -- what the storage needs from B2 and Django (``manage.py b2doctor`` checks it) ------
    def required_capabilities(self, *, bucket_type: str | None = None) -> frozenset[str]:
        """Return the B2 key capabilities this storage uses on a bucket of ``bucket_type``
        (``None``: unknown): finding its bucket, listing, reading, writing and deleting files,
        and ``shareFiles`` when ``url()`` hands out download authorizations (no ``cdn_url``, a
        bucket that is not allPublic)."""
        needed = {"listBuckets", "listFiles", "readFiles", "writeFiles", "deleteFiles"}
        if bucket_type != "allPublic" and not self.config.cdn_url:
            needed.add("shareFiles")
        return frozenset(needed)

    def needs_private_bucket(self) -> bool:
        """Return whether only this storage's links may open its files, so that an allPublic
        bucket is a mistake. No: ``url()`` here follows the bucket's type."""
        return False

    def cache_aliases(self) -> frozenset[str]:
        """Return the Django cache aliases this storage shares data through (account info)."""
        info = self.config.account_info
        if info.get("backend") != "django-cache":
            return frozenset()
        return frozenset({str(info.get("cache", "b2"))})

    def path(self, name: str) -> str:
        """path(): raise ``NotImplementedError``, as Django's contract for remote storages says."""
        raise NotImplementedError("path(): B2 files have no local path; use open().")

    def get_modified_time(self, name: str) -> datetime:
        """Return when the newest version of ``name`` was uploaded."""
        return _localize(self._require(name).uploaded_at)

    def get_created_time(self, name: str) -> datetime:
        """Return when the oldest surviving version of ``name`` was uploaded."""
        self._require(name)
        uploads = [v for v in self.client.versions(self.b2_name(name)) if v.action == "upload"]
        return _localize(min(v.uploaded_at for v in uploads))

    def get_accessed_time(self, name: str) -> datetime:
        """Return the modified time: B2 does not record reads (the documented fallback)."""
        return self.get_modified_time(name)


def _localize(value: datetime) -> datetime:
    return value if settings.USE_TZ else timezone.make_naive(value)
