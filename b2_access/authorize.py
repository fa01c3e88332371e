"""B2 download URLs for signed grants: the response headers a grant pins, and the storages'
one token path (:mod:`b2_storage.tokens`: in process, then the shared cache, then B2,
single-flight) with ``B2_ACCESS``'s lifetimes and shared cache.
"""

from __future__ import annotations

import logging
import unicodedata

from django.conf import settings

from b2_storage.tokens import DownloadTokens, process_tokens
from b2_storage.transport import deadline

from .conf import AccessSettings
from .isolation import scope_conflict
from .signing import Delivery
from .storages import SignedB2Storage, registry_generation

logger = logging.getLogger(__name__)
Overrides = tuple[tuple[str, str], ...]
_said: set[str] = set()  # the storages whose unsafe scope was logged (once per process)
# Per storage fingerprint: the verdict, and the registry generation and STORAGES it was for.
_verdicts: dict[str, tuple[int, int, bool]] = {}


def content_disposition(grant: Delivery) -> str | None:
    """Return the ``b2ContentDisposition`` for a delivery, or ``None`` for inline.

    B2 refuses ``filename*=``: a non-ASCII stored name is left out (browsers then take the name
    from the URL's last segment, which is the real name); a non-ASCII custom filename is reduced
    to an ASCII fallback.
    """
    if not grant.attachment:
        return None
    if grant.filename is None:
        filename = grant.name.rsplit("/", 1)[-1]
        return f'attachment; filename="{filename}"' if _plain_ascii(filename) else "attachment"
    if _plain_ascii(grant.filename):
        return f'attachment; filename="{grant.filename}"'
    fallback = unicodedata.normalize("NFKD", grant.filename).encode("ascii", "ignore").decode()
    fallback = "".join(c for c in fallback if _plain_ascii(c)) or "download"
    return f'attachment; filename="{fallback}"'


def _plain_ascii(text: str) -> bool:
    return all(32 <= ord(c) < 127 and c not in '"\\' for c in text)


def overrides_for(grant: Delivery) -> Overrides:
    """Return the B2 response-header overrides a delivery pins in its download token."""
    pairs = []
    disposition = content_disposition(grant)
    if disposition is not None:
        pairs.append(("b2ContentDisposition", disposition))
    if grant.cache_control:
        pairs.append(("b2CacheControl", grant.cache_control))
    return tuple(pairs)


class DownloadAuthorizer:
    """Turn deliveries into B2 download URLs with ``B2_ACCESS``'s token policy."""

    def __init__(self, conf: AccessSettings, tokens: DownloadTokens | None = None) -> None:
        self.conf = conf
        self.policy = conf.token_policy
        # Its own token cache unless given one: an authorizer may stand for another process.
        self.tokens = tokens or DownloadTokens(conf.local_cache_size)

    @classmethod
    def for_process(cls, conf: AccessSettings) -> DownloadAuthorizer:
        """Return an authorizer on this process's token cache (the one ``B2Storage.url()``
        uses too)."""
        return cls(conf, process_tokens(conf.local_cache_size))

    def url(self, storage: SignedB2Storage, grant: Delivery, *, file_only: bool = False) -> str:
        """Return the B2 URL that downloads ``grant``'s file (B2 calls only when cold): its
        token covers the storage's scope, or with ``file_only`` that one file.

        Raise :class:`B2NameNotSealed` when a token for the file's own name would open another
        file too, :class:`B2FileNotFound` for a missing file, :class:`B2AccessRefused` while B2
        refuses the storage's key, and :class:`B2Unavailable` when B2 does not answer within
        the storage's ``link_timeout`` (all of the click's B2 calls together) or is known down.
        """
        headers = dict(overrides_for(grant))
        file_only = file_only or not scope_is_safe(storage)
        with deadline(storage.config.link_timeout):
            return storage.download_url(
                grant.name, self.policy, headers, tokens=self.tokens, file_only=file_only
            )

    def warm_url(
        self, storage: SignedB2Storage, grant: Delivery, *, file_only: bool = False
    ) -> str | None:
        """Return the B2 URL from this process's caches only (no I/O at all), or ``None``."""
        headers = dict(overrides_for(grant))
        file_only = file_only or not scope_is_safe(storage)
        return storage.warm_download_url(
            grant.name, self.policy, headers, tokens=self.tokens, file_only=file_only
        )

    def clear(self) -> None:
        """Forget the tokens and refusals remembered by this authorizer's cache."""
        self.tokens.clear()


def scope_is_safe(storage: SignedB2Storage) -> bool:
    """Return whether ``storage``'s tokens may cover its scope: no other storage's files lie in
    it (system check E011, which gunicorn and uvicorn never run). Otherwise its links get one
    file's token, and the problem is logged once per process."""
    if storage.scope_region is None:
        return True
    seen = (registry_generation(), id(getattr(settings, "STORAGES", None)))
    verdict = _verdicts.get(storage.fingerprint)
    if verdict is not None and verdict[:2] == seen:
        return verdict[2]
    problem = scope_conflict(storage)
    _verdicts[storage.fingerprint] = (*seen, problem is None)
    if problem is None:
        return True
    if storage.fingerprint not in _said:
        _said.add(storage.fingerprint)
        logger.error(
            "b2_access: %s Its links get tokens for one file each until this is fixed "
            "(b2_access.E011).",
            problem,
        )
    return False
