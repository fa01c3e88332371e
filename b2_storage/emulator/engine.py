"""The local B2 server's engine: accounts, keys, tokens and buckets, with B2's semantics.

No HTTP here: :mod:`.api` turns requests into calls of :class:`Engine` (and of its file half,
:class:`.files.FileEngine`), and its results into B2's JSON.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from .errors import B2Error, bad_request, unauthorized
from .rows import BucketRow
from .store import Store
from .tokens import TokenSigner

ALL_CAPABILITIES = (
    "listKeys", "writeKeys", "deleteKeys", "listBuckets", "listAllBucketNames", "readBuckets",
    "writeBuckets", "deleteBuckets", "readBucketEncryption", "writeBucketEncryption",
    "readBucketRetentions", "writeBucketRetentions", "readFileRetentions", "writeFileRetentions",
    "readFileLegalHolds", "writeFileLegalHolds", "readBucketReplications",
    "writeBucketReplications", "bypassGovernance", "listFiles", "readFiles", "shareFiles",
    "writeFiles", "deleteFiles", "readBucketLogging", "writeBucketLogging",
    "readBucketNotifications", "writeBucketNotifications",
)  # fmt: skip
BUCKET_TYPES = ("allPrivate", "allPublic")
BUCKET_NAME = re.compile(r"^[A-Za-z0-9-]{6,63}$")
MAX_DOWNLOAD_AUTH_SECONDS = 604800


def bucket_name_problem(name: str) -> str | None:
    """Return why B2 would refuse ``name`` as a bucket name, or ``None`` when it is valid."""
    if BUCKET_NAME.match(name) and not name.lower().startswith("b2-"):
        return None
    return (
        f"Invalid bucket name {name!r}: B2 wants 6 to 63 letters, digits and '-', "
        "not starting 'b2-'"
    )


def now_ms() -> int:
    """Return the wall-clock time in epoch milliseconds, as B2 stamps uploads."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Key:
    """An authorized application key, as read from an account token."""

    key_id: str
    name: str
    capabilities: tuple[str, ...]
    bucket_id: str | None = None
    name_prefix: str | None = None


@dataclass(frozen=True)
class Settings:
    """What a :class:`LocalB2` can tune: token lifetime and part sizes."""

    token_lifetime: int = 24 * 3600
    min_part_size: int = 5_000_000
    recommended_part_size: int = 100_000_000


@dataclass
class _Clock:
    """Account tokens issued before ``revoked_before`` are expired (``expire_tokens()``)."""

    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(time.time_ns()))
    revoked_before: int = 0


class Engine:
    """Accounts, keys, account tokens and buckets of one local B2 server."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self._clock = _Clock()
        self._lock = threading.Lock()
        secret = store.get_meta("secret")
        if secret is None:
            secret = secrets.token_hex(32)
            store.set_meta("secret", secret)
            store.set_meta("account_id", secrets.token_hex(6))
        self.tokens = TokenSigner(bytes.fromhex(secret))
        self.account_id = store.get_meta("account_id") or ""

    def __repr__(self) -> str:
        return f"Engine(account_id={self.account_id!r})"

    # -- keys and account tokens ----------------------------------------------------------
    def ensure_master_key(
        self, key_id: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        """Return the master key (created on first use, or the one given), as ``(id, key)``."""
        stored_id = self.store.get_meta("master_key_id")
        if stored_id is not None and key_id in (None, stored_id):
            stored = self.store.get_key(stored_id)
            if stored is not None and secret in (None, stored[0]):
                return stored_id, stored[0]
        key_id = key_id or self.account_id
        secret = secret or "K" + secrets.token_urlsafe(22)[:30]
        if self.store.get_key(key_id) is None:
            self.store.add_key(key_id, secret, "master", list(ALL_CAPABILITIES), None, None)
        self.store.set_meta("master_key_id", key_id)
        return key_id, secret

    def create_key(
        self,
        capabilities: list[str],
        *,
        name: str = "key",
        bucket_id: str | None = None,
        name_prefix: str | None = None,
    ) -> tuple[str, str]:
        """Create an application key limited to ``capabilities`` (and a bucket/prefix)."""
        unknown = sorted(set(capabilities) - set(ALL_CAPABILITIES))
        if unknown:
            raise bad_request(f"unknown capabilities: {', '.join(unknown)}")
        key_id = "00" + secrets.token_hex(12)[:23]
        secret = "K" + secrets.token_urlsafe(22)[:30]
        self.store.add_key(key_id, secret, name, capabilities, bucket_id, name_prefix)
        return key_id, secret

    def authorize(self, key_id: str, secret: str) -> tuple[Key, str]:
        """Check a key id and key; return the key and a fresh account token."""
        stored = self.store.get_key(key_id)
        if stored is None or not secrets.compare_digest(stored[0], secret):
            raise unauthorized(
                "Invalid authorization token. Server could not verify key.", "bad_auth_token"
            )
        _secret, name, capabilities, bucket_id, name_prefix = stored
        with self._lock:
            serial = next(self._clock.counter)
        expires = now_ms() + self.settings.token_lifetime * 1000
        token = self.tokens.issue("acct", {"k": key_id, "e": expires, "n": serial})
        return Key(key_id, name, tuple(capabilities), bucket_id, name_prefix), token

    def expire_tokens(self) -> None:
        """Expire every account token issued so far: clients must authorize again."""
        with self._lock:
            self._clock.revoked_before = next(self._clock.counter)

    def check_account_token(self, token: str | None) -> Key:
        """Return the key behind an account token, or raise B2's 401."""
        payload = self.tokens.read("acct", token or "")
        if payload is None:
            raise unauthorized("Invalid authorization token", "bad_auth_token")
        if payload["e"] <= now_ms() or payload["n"] < self._clock.revoked_before:
            raise unauthorized("Authorization token has expired", "expired_auth_token")
        stored = self.store.get_key(payload["k"])
        if stored is None:
            raise unauthorized("Invalid authorization token", "bad_auth_token")
        _secret, name, capabilities, bucket_id, name_prefix = stored
        return Key(payload["k"], name, tuple(capabilities), bucket_id, name_prefix)

    @staticmethod
    def require(key: Key, capability: str, bucket_id: str | None = None) -> None:
        """Raise B2's 401 ``unauthorized`` unless the key may do this."""
        if capability not in key.capabilities:
            raise unauthorized(f"The key does not have the {capability} capability.")
        if bucket_id is not None and key.bucket_id not in (None, bucket_id):
            raise unauthorized("The key is restricted to another bucket.")

    @staticmethod
    def require_prefix(key: Key, name: str) -> None:
        """Raise B2's 401 unless ``name`` is inside the key's name prefix."""
        if key.name_prefix and not name.startswith(key.name_prefix):
            raise unauthorized("The key is restricted to another name prefix.")

    # -- buckets -------------------------------------------------------------------------
    def bucket(self, bucket_id: str | None = None, *, name: str | None = None) -> BucketRow:
        """Return a bucket by id or name, or raise B2's 400 ``bad_bucket_id``/404."""
        bucket = self.store.bucket_by(bucket_id=bucket_id, name=name)
        if bucket is None:
            if bucket_id is not None:
                raise B2Error(400, "bad_bucket_id", f"Invalid bucketId: {bucket_id}")
            raise B2Error(404, "not_found", f"Bucket does not exist: {name}")
        return bucket

    def create_bucket(
        self,
        name: str,
        bucket_type: str,
        *,
        info: dict[str, str] | None = None,
        cors: list[object] | None = None,
        lifecycle: list[object] | None = None,
    ) -> BucketRow:
        """Create a bucket, with B2's rules for names and types."""
        problem = bucket_name_problem(name)
        if problem is not None:
            raise bad_request(problem)
        if bucket_type not in BUCKET_TYPES:
            raise bad_request(
                f"Invalid bucketType {bucket_type!r}: expected allPrivate or allPublic"
            )
        with self.store.lock:
            if self.store.bucket_by(name=name) is not None:
                raise bad_request(f"Bucket name is already in use: {name}", "duplicate_bucket_name")
            bucket = BucketRow(
                secrets.token_hex(12), name, bucket_type, info or {}, cors or [], lifecycle or [], 1
            )
            self.store.put_bucket(bucket)
        return bucket

    def update_bucket(
        self,
        bucket_id: str,
        *,
        bucket_type: str | None = None,
        info: dict[str, str] | None = None,
        cors: list[object] | None = None,
        lifecycle: list[object] | None = None,
        if_revision_is: int | None = None,
    ) -> BucketRow:
        """Change a bucket's type, info, CORS or lifecycle rules."""
        if bucket_type is not None and bucket_type not in BUCKET_TYPES:
            raise bad_request(
                f"Invalid bucketType {bucket_type!r}: expected allPrivate or allPublic"
            )
        with self.store.lock:
            old = self.bucket(bucket_id)
            if if_revision_is is not None and if_revision_is != old.revision:
                raise B2Error(409, "conflict", "ifRevisionIs does not match the bucket's revision")
            new = BucketRow(
                old.bucket_id,
                old.name,
                bucket_type or old.type,
                old.info if info is None else info,
                old.cors if cors is None else cors,
                old.lifecycle if lifecycle is None else lifecycle,
                old.revision + 1,
            )
            self.store.put_bucket(new)
        return new

    def delete_bucket(self, bucket_id: str) -> BucketRow:
        """Delete an empty bucket."""
        with self.store.lock:
            bucket = self.bucket(bucket_id)
            if self.store.bucket_has_files(bucket_id):
                raise bad_request("Bucket is not empty.", "cannot_delete_non_empty_bucket")
            self.store.delete_bucket(bucket_id)
        return bucket
