"""The local B2 server's engine: accounts, keys, tokens and buckets, with B2's semantics.

No HTTP here: :mod:`.api` turns requests into calls of :class:`Engine` (and of its file half,
:class:`.files.FileEngine`), and its results into B2's JSON.
"""

from __future__ import annotations

import re
import secrets
import threading

from .accounts import Accounts, Settings, TokenClock, now_ms
from .errors import B2Error, bad_request, not_found
from .keys import Key
from .rows import BucketRow
from .store import Store
from .tokens import TokenSigner

__all__ = ["Engine", "Key", "Settings", "bucket_name_problem", "now_ms"]

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


class Engine(Accounts):
    """Accounts, keys, account tokens and buckets of one local B2 server."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        self._clock = TokenClock()
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

    def close(self) -> None:
        """Close the store (its database); the engine is not used afterwards."""
        self.store.close()

    # -- buckets -------------------------------------------------------------------------
    def list_buckets(self) -> list[BucketRow]:
        """Return every bucket, ordered by name."""
        return self.store.buckets()

    def find_bucket(
        self, bucket_id: str | None = None, *, name: str | None = None
    ) -> BucketRow | None:
        """Return a bucket by id or name, or ``None``."""
        return self.store.bucket_by(bucket_id=bucket_id, name=name)

    def bucket(self, bucket_id: str | None = None, *, name: str | None = None) -> BucketRow:
        """Return a bucket by id or name, or raise B2's 400 ``bad_bucket_id``/404."""
        bucket = self.find_bucket(bucket_id, name=name)
        if bucket is None:
            if bucket_id is not None:
                raise bad_request(f"Invalid bucketId: {bucket_id}", "bad_bucket_id")
            raise not_found(f"Bucket does not exist: {name}")
        return bucket

    def create_bucket(
        self,
        name: str,
        bucket_type: str,
        *,
        info: dict[str, str] | None = None,
    ) -> BucketRow:
        """Create a bucket, with B2's rules for names and types (no CORS or lifecycle rules:
        :mod:`.refusals` turns those away)."""
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
            bucket = BucketRow(secrets.token_hex(12), name, bucket_type, info or {}, [], [], 1)
            self.store.put_bucket(bucket)
        return bucket

    def update_bucket(
        self,
        bucket_id: str,
        *,
        bucket_type: str | None = None,
        info: dict[str, str] | None = None,
        if_revision_is: int | None = None,
    ) -> BucketRow:
        """Change a bucket's type or info."""
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
                old.cors,
                old.lifecycle,
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
