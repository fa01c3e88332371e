"""Signed storages: ``url()`` returns a short-lived signed Django link, signed locally.

``SignedB2Storage`` adds the options ``tier``, ``expires``, ``attachment`` and ``scope`` to
``B2Storage``'s; ``PublicStorage``, ``LoggedInStorage`` and ``StaffStorage`` preset the tier.
Every instance registers under its fingerprint (credentials, bucket and location), so the
middleware finds it from a link, whether it came from ``STORAGES`` or ``FileField(storage=...)``.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import storages
from django.urls import get_script_prefix

from b2_storage import B2Storage
from b2_storage.exceptions import B2ConfigurationError
from b2_storage.options import check_fields
from b2_storage.recorded import recorded_as

from .conf import MAX_B2_SECONDS, current_signer, get_access_settings
from .signing import Grant

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

ACCESS_OPTIONS = ("tier", "expires", "attachment", "scope")
_registry: dict[str, SignedB2Storage] = {}  # by fingerprint: what a link names
# Every live instance with distinct access options, for the system checks (two storages on one
# location that differ in tier share a fingerprint, but the checks must see both).
_instances: weakref.WeakValueDictionary[tuple[str, AccessOptions], SignedB2Storage] = (
    weakref.WeakValueDictionary()
)
_registry_lock = threading.Lock()
_generation = [0]  # how many signed storages this process has registered


@dataclass(frozen=True)
class AccessOptions:
    """The options a signed storage adds: who may follow its links, and for how long."""

    tier: str
    expires: int | None  # None: B2_ACCESS["expires"]
    attachment: bool
    scope: str  # "file", "bucket", or a name prefix

    @classmethod
    def parse(cls, options: dict[str, Any], default_tier: str, kind: str) -> AccessOptions:
        """Validate the access options of a signed storage."""
        check_fields(
            cls,
            options,
            named=lambda key: f"{kind} option {key!r}",
            error=B2ConfigurationError,
            what=f"{kind} option",
            required=False,
        )
        if options.get("scope") == "":
            raise B2ConfigurationError(
                f"{kind} option 'scope' must be 'file', 'bucket' or a prefix."
            )
        expires = options.get("expires")
        if expires is not None and not 1 <= expires <= MAX_B2_SECONDS:
            raise B2ConfigurationError(f"{kind} option 'expires' must be 1 to {MAX_B2_SECONDS}.")
        return cls(
            options.get("tier", default_tier),
            expires,
            options.get("attachment", False),
            options.get("scope", "file"),
        )


@recorded_as("b2_access.SignedB2Storage")
class SignedB2Storage(B2Storage):
    """A B2 storage whose ``url()`` is a signed, expiring link checked against a tier."""

    options_kind = "SignedB2Storage"
    extra_options = ACCESS_OPTIONS
    default_tier = "logged_in"

    def __init__(self, **options: Any) -> None:
        access = {key: options.pop(key) for key in ACCESS_OPTIONS if key in options}
        super().__init__(**options)
        self.access = AccessOptions.parse(access, self.default_tier, self.options_kind)
        config, scope = self.config, self.access.scope
        parts = [config.realm, config.application_key_id, config.bucket, config.location, scope]
        if config.layout != "flat":  # its tokens cover other prefixes (flat links keep theirs)
            parts.append(config.layout)
        identity = "\0".join(parts)
        self.fingerprint = hashlib.sha256(identity.encode()).hexdigest()[:12]
        with _registry_lock:
            _registry.setdefault(self.fingerprint, self)
            if _instances.setdefault((self.fingerprint, self.access), self) is self:
                _generation[0] += 1

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and self.access == getattr(other, "access", None)

    def __hash__(self) -> int:
        return super().__hash__()

    @property
    def scope_region(self) -> str | None:
        """Return the B2 name prefix a ``bucket`` or prefix scope's tokens cover (a prefix
        scope is used raw: "av" also covers "avatars/"), or ``None`` for the file scope."""
        scope, location = self.access.scope, self.config.location
        if scope == "file":
            return None
        if scope == "bucket":  # the storage's part of the bucket, never other tiers' files
            return f"{location}/" if location else ""
        return f"{location}/{scope}" if location else scope

    def token_prefix(self, name: str) -> str:
        """Return the B2 name prefix a download token for ``name`` covers under this storage's
        scope: the scope's region when it holds the file (always, for ``bucket``), else the
        file's own (see :meth:`B2Storage.token_prefix`)."""
        region = self.scope_region
        if region is not None and self.b2_name(name).startswith(region):
            return region
        return super().token_prefix(name)

    def url(self, name: str | None) -> str:
        """Return the signed link of ``name`` (the direct URL for a public tier on a public
        bucket or behind ``cdn_url``)."""
        if name is None:
            raise ValueError("url() needs a file name.")
        return self.signed_url(name)

    def signed_url(
        self,
        name: str,
        *,
        user: AbstractBaseUser | AnonymousUser | None = None,
        attachment: bool | None = None,
        filename: str | None = None,
        cache_control: str | None = None,
        expires: int | None = None,
    ) -> str:
        """Return a signed link to ``name``; with ``user``, only that user can follow it."""
        self.b2_name(name)
        if expires is not None and not 1 <= expires <= MAX_B2_SECONDS:
            raise ValueError(f"expires must be 1 to {MAX_B2_SECONDS} seconds, not {expires}.")
        if self.access.tier == "public" and user is None and self._is_direct():
            return super().url(name)
        conf = get_access_settings()
        grant = Grant(
            storage=self.fingerprint,
            name=name,
            tier=self.access.tier,
            expires=expires or self.access.expires or conf.expires,
            attachment=self.access.attachment if attachment is None else attachment,
            filename=filename,
            cache_control=cache_control,
            user=None if user is None or user.pk is None else str(user.pk),
        )
        token = current_signer().sign(grant)
        return f"{get_script_prefix()}{conf.url_prefix.lstrip('/')}{token}/{quote(name)}"

    def required_capabilities(self, *, bucket_type: str | None = None) -> frozenset[str]:
        """Add ``shareFiles``: the middleware fetches a download authorization for a link."""
        return super().required_capabilities(bucket_type=bucket_type) | {"shareFiles"}

    def needs_private_bucket(self) -> bool:
        """Return whether the tier is not ``public`` (then only links may open the files)."""
        return self.access.tier != "public"

    def cache_aliases(self) -> frozenset[str]:
        """Add ``B2_ACCESS['cache']``, where download tokens are shared."""
        shared = get_access_settings().cache
        return super().cache_aliases() | ({shared} if shared else frozenset())

    def _is_direct(self) -> bool:
        """Return whether links may skip Django, knowing it without any I/O: with ``cdn_url``,
        or once this process has seen that the bucket is allPublic (any B2 operation)."""
        return bool(self.config.cdn_url) or self.known_public()


@recorded_as("b2_access.PublicStorage")
class PublicStorage(SignedB2Storage):
    """A signed storage for the ``public`` tier: anyone may follow its links."""

    options_kind = "PublicStorage"
    default_tier = "public"


@recorded_as("b2_access.LoggedInStorage")
class LoggedInStorage(SignedB2Storage):
    """A signed storage for the ``logged_in`` tier: active, authenticated users."""

    options_kind = "LoggedInStorage"
    default_tier = "logged_in"


@recorded_as("b2_access.StaffStorage")
class StaffStorage(SignedB2Storage):
    """A signed storage for the ``staff`` tier: active staff users."""

    options_kind = "StaffStorage"
    default_tier = "staff"


def find_storage(fingerprint: str) -> SignedB2Storage | None:
    """Return the signed storage with this fingerprint, loading ``STORAGES`` if needed."""
    found = _registry.get(fingerprint)
    if found is None:
        for alias in getattr(settings, "STORAGES", {}):
            try:
                storages[alias]
            except Exception:  # a broken unrelated alias must not break every link
                continue
        found = _registry.get(fingerprint)
    return found


def registered_storage(fingerprint: str) -> SignedB2Storage | None:
    """Return the signed storage with this fingerprint if this process has built it already."""
    return _registry.get(fingerprint)


def registry_generation() -> int:
    """Return a number that changes whenever this process registers another signed storage."""
    return _generation[0]


def signed_storages() -> list[SignedB2Storage]:
    """Return every signed storage created in this process."""
    with _registry_lock:
        return list(_instances.values())
