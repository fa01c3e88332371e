"""Where a storage's names live in B2, and what a download token for one of them covers.

:class:`B2Addressing` is the part of :class:`~b2_storage.B2Storage` that signed links are built
on: B2 names, B2 file URLs and download tokens, without reaching into the B2 client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.core.exceptions import SuspiciousFileOperation

from .client import B2Client
from .config import StorageConfig
from .content import upload_headers
from .exceptions import B2FileNotFound, B2InvalidName, B2NameNotSealed
from .layout import own_folder
from .names import b2_name_problem
from .tokens import DownloadTokens, TokenPolicy, TokenRequest, process_tokens, with_token


class B2Addressing:
    """B2 names, URLs and download tokens of one storage (its ``config`` and ``client``)."""

    config: StorageConfig
    client: B2Client

    def b2_name(self, name: str) -> str:
        """Return the B2 file name of a storage name, or raise if B2 or Django would refuse it."""
        if not isinstance(name, str) or not name:
            raise B2InvalidName(str(name), "a file name must be a non-empty string")
        if name.startswith("/") or any(part in (".", "..") for part in name.split("/")):
            raise SuspiciousFileOperation(f"Detected path traversal attempt in {name[:100]!r}.")
        full = f"{self.config.location}/{name}" if self.config.location else name
        problem = b2_name_problem(full)
        if problem is not None:
            raise B2InvalidName(name, problem)
        return full

    def _dir_prefix(self, path: str) -> str:
        path = path.strip("/")
        return (
            f"{self.b2_name(path)}/"
            if path
            else (f"{self.config.location}/" if self.config.location else "")
        )

    # -- download tokens ---------------------------------------------------------------
    def token_prefix(self, name: str) -> str:
        """Return the B2 name prefix that a download token for ``name`` covers (a signed
        storage's scope may widen it); here :meth:`file_token_prefix`."""
        return self.file_token_prefix(name)

    def file_token_prefix(self, name: str) -> str:
        """Return the narrowest B2 name prefix a token for the file ``name`` can cover: its
        own folder in the ``folder-per-file`` layout, else its own B2 name (then checked
        sealed when the token is fetched: see :meth:`download_token`)."""
        full = self.b2_name(name)
        if self.config.layout == "folder-per-file":
            return own_folder(full) or full
        return full

    def download_token(
        self,
        prefix: str,
        seconds: int,
        headers: Mapping[str, str] | None = None,
        *,
        exact: bool = False,
    ) -> str:
        """Return a B2 download token for the B2 names starting with ``prefix``.

        B2's tokens are name-prefix tokens: a token for ``docs/a`` also opens ``docs/ab``. With
        ``exact``, ``prefix`` is one file's B2 name and the token is handed out only when that
        file exists and no other live file extends it (one ``b2_list_file_names`` call first);
        otherwise raise :class:`B2FileNotFound` or :class:`B2NameNotSealed`. ``headers``
        (``b2ContentDisposition``, ...) are pinned in it.
        """
        if exact:
            names = self.client.names_from(prefix, 2)
            if not names or names[0] != prefix:  # its token would open a file saved later
                raise B2FileNotFound(prefix)
            if len(names) > 1:
                raise B2NameNotSealed(prefix, names[1])
        return self.client.download_authorization(prefix, seconds, headers)

    @property
    def token_identity(self) -> str:
        """Return what B2 tokens of this storage are keyed by: its account and bucket (a
        digest; tokens are shared by the storages of one bucket, per prefix and headers)."""
        config = self.config
        raw = "\0".join((config.realm, config.application_key_id, config.bucket))
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    @property
    def storage_identity(self) -> str:
        """Return what B2's refusals of this storage's key are remembered by: its account,
        bucket and location (a digest), so one storage's refusal stops no other's links."""
        config = self.config
        raw = "\0".join((config.realm, config.application_key_id, config.bucket, config.location))
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def download_url(
        self,
        name: str,
        policy: TokenPolicy,
        headers: Mapping[str, str] | None = None,
        *,
        tokens: DownloadTokens | None = None,
        file_only: bool = False,
    ) -> str:
        """Return the B2 URL that downloads ``name``, authorized by a token that covers
        :meth:`token_prefix` (checked sealed when that is the file's own name), living and
        handed out as ``policy`` says, cached in this process's tokens (or ``tokens``) and in
        ``policy.shared_cache``.

        With ``file_only`` the token covers :meth:`file_token_prefix` whatever the scope (for a
        view's per-object decision). Raise :class:`B2NameNotSealed` when a token for the name
        would open another file too, :class:`B2FileNotFound` when there is no such file, and
        :class:`B2AccessRefused` while B2 refuses the key.
        """
        wanted = self._token_request(name, headers, file_only)
        token = (tokens or process_tokens()).token(self, wanted, policy)
        return with_token(self.file_url(name), token, wanted.headers)

    def warm_download_url(
        self,
        name: str,
        policy: TokenPolicy,
        headers: Mapping[str, str] | None = None,
        *,
        tokens: DownloadTokens | None = None,
        file_only: bool = False,
    ) -> str | None:
        """Return :meth:`download_url` when this process has it without any I/O, else ``None``."""
        wanted = self._token_request(name, headers, file_only)
        token = (tokens or process_tokens()).warm_token(self, wanted, policy)
        file_url = self.cached_file_url(name)
        if token is None or file_url is None:
            return None
        return with_token(file_url, token, wanted.headers)

    def _token_request(
        self, name: str, headers: Mapping[str, str] | None, file_only: bool
    ) -> TokenRequest:
        own = self.file_token_prefix(name)  # the file's own name, or its own folder
        prefix = own if file_only else self.token_prefix(name)
        pinned = dict(headers or {})
        if prefix == own:  # one file's token: how B2 serves it is pinned too
            pinned = {**self.served_as(name), **pinned}
        return TokenRequest(prefix, tuple(pinned.items()), exact=prefix == self.b2_name(name))

    def served_as(self, name: str) -> dict[str, str]:
        """Return the response headers a token for the file ``name`` pins, so that its holder
        cannot choose others (B2 lets a URL's ``b2ContentType``/``b2ContentDisposition`` override
        what the token leaves open): the content type from the name, as the file was saved
        with, and ``attachment`` for the types a browser would run (see :mod:`.content`)."""
        content_type, file_info = upload_headers(name, self.config)
        served = {"b2ContentType": content_type}
        disposition = file_info.get("b2-content-disposition")
        if disposition is not None:
            served["b2ContentDisposition"] = disposition
        return served

    def file_url(self, name: str) -> str:
        """Return the B2 URL of ``name`` without a token (``{downloadUrl}/file/{bucket}/...``)."""
        return self.client.public_url(self.b2_name(name))

    def cached_file_url(self, name: str) -> str | None:
        """Return :meth:`file_url` when this process knows it without any I/O, else ``None``."""
        return self.client.cached_public_url(self.b2_name(name))

    def is_public(self) -> bool:
        """Return whether the bucket is allPublic (asks B2 once per process)."""
        return self.client.is_public()

    def known_public(self) -> bool:
        """Return whether this process already knows (without I/O) the bucket is allPublic."""
        return self.client.known_public()
