"""Application keys and account tokens (a mixin of :class:`.engine.Engine`): the master key,
keys created with b2_create_key, their expiry, and the account tokens they authorize.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from .errors import bad_request, unauthorized
from .keys import ACCOUNT_CAPABILITIES, CAPABILITIES, Key, check_capabilities
from .rows import KeyRow
from .store import Store
from .tokens import TokenSigner

KEY_NAME = re.compile(r"^[A-Za-z0-9-]{1,100}$")
MAX_KEY_SECONDS = 1000 * 86400  # B2: less than 1000 days


def now_ms() -> int:
    """Return the wall-clock time in epoch milliseconds, as B2 stamps uploads."""
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Settings:
    """What a :class:`LocalB2` can tune: token lifetime and part sizes."""

    token_lifetime: int = 24 * 3600
    min_part_size: int = 5_000_000
    recommended_part_size: int = 100_000_000


@dataclass
class TokenClock:
    """Account tokens issued before ``revoked_before`` are expired (``expire_tokens()``)."""

    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(time.time_ns()))
    revoked_before: int = 0


def key_of(row: KeyRow) -> Key:
    """Return what a call may know of a stored key (everything but its secret)."""
    return Key(row.key_id, row.name, row.capabilities, row.bucket_ids, row.name_prefix, row.expires)


class Accounts:
    """Keys and account tokens, over the engine's store and token signer."""

    store: Store
    settings: Settings
    tokens: TokenSigner
    _clock: TokenClock
    _lock: threading.Lock

    @property
    def master_key_id(self) -> str:
        """Return the id of the master key."""
        return self.store.get_meta("master_key_id") or ""

    def ensure_master_key(
        self, key_id: str | None = None, secret: str | None = None
    ) -> tuple[str, str]:
        """Return the master key (created on first use, or the one given), as ``(id, key)``.

        A key given that differs from the stored master key replaces it (the old one is
        deleted). The master's capabilities are set to exactly those this server implements,
        also in a data directory made by an older version.
        """
        stored_id = self.store.get_meta("master_key_id")
        stored = None if stored_id is None else self.store.get_key(stored_id)
        if (
            stored is None
            or key_id not in (None, stored.key_id)
            or secret not in (None, stored.secret)
        ):
            key_id = key_id or self.store.get_meta("account_id") or ""
            secret = secret or "K" + secrets.token_urlsafe(22)[:30]
            for old in {stored_id, key_id} - {None}:
                self.store.delete_key(str(old))
            master = KeyRow(key_id, secret, "master", CAPABILITIES, None, None, None)
            self.store.add_key(master)
            self.store.set_meta("master_key_id", key_id)
            stored = master
        self.store.set_capabilities(stored.key_id, CAPABILITIES)
        return stored.key_id, stored.secret

    def create_key(
        self,
        creator: Key | None,
        capabilities: list[object],
        *,
        name: str = "key",
        bucket_ids: list[str] | None = None,
        name_prefix: str | None = None,
        valid_seconds: int | None = None,
    ) -> KeyRow:
        """Create an application key with B2's rules; ``creator`` (the calling key, if any)
        cannot grant more than it has itself."""
        wanted = check_capabilities(capabilities)
        if not KEY_NAME.match(name):
            raise bad_request("keyName must be 1 to 100 letters, digits and '-'")
        if valid_seconds is not None and not 1 <= valid_seconds < MAX_KEY_SECONDS:
            raise bad_request("validDurationInSeconds must be positive and under 1000 days")
        if bucket_ids is not None:
            self._check_buckets(bucket_ids, wanted)
        if creator is not None:
            _check_creator(creator, wanted, bucket_ids, name_prefix or "")
        expires = None if valid_seconds is None else now_ms() + valid_seconds * 1000
        row = KeyRow(
            "00" + secrets.token_hex(12)[:23],
            "K" + secrets.token_urlsafe(22)[:30],
            name,
            tuple(wanted),
            None if bucket_ids is None else tuple(bucket_ids),
            name_prefix or None,
            expires,
        )
        self.store.add_key(row)
        return row

    def _check_buckets(self, bucket_ids: list[str], capabilities: list[str]) -> None:
        if not bucket_ids:
            raise bad_request("bucketIds must name at least one bucket")
        for bucket_id in bucket_ids:
            if self.store.bucket_by(bucket_id=bucket_id) is None:
                raise bad_request(f"Invalid bucketId: {bucket_id}", "bad_bucket_id")
        account_level = sorted(set(capabilities) & ACCOUNT_CAPABILITIES)
        if account_level:
            raise bad_request(f"A key restricted to buckets cannot have {', '.join(account_level)}")

    def find_key(self, key_id: str) -> KeyRow | None:
        """Return a stored key (secret included) by id, or ``None``."""
        return self.store.get_key(key_id)

    def list_keys(self, start: str, limit: int) -> list[KeyRow]:
        """Return up to ``limit`` keys by id from ``start``, never the master key."""
        return self.store.keys(start, limit, self.master_key_id)

    def delete_key(self, key_id: str) -> KeyRow:
        """Delete an application key (not the master key); its tokens stop working."""
        row = self.store.get_key(key_id)
        if row is None or key_id == self.master_key_id:
            raise bad_request(f"Invalid applicationKeyId: {key_id}")
        self.store.delete_key(key_id)
        return row

    def authorize(self, key_id: str, secret: str) -> tuple[Key, str]:
        """Check a key id and key; return the key and a fresh account token."""
        stored = self.store.get_key(key_id)
        # Compare bytes: compare_digest refuses str with non-ASCII characters.
        if (
            stored is None
            or not secrets.compare_digest(stored.secret.encode(), secret.encode())
            or (stored.expires is not None and stored.expires <= now_ms())
        ):
            raise unauthorized(
                "Invalid authorization token. Server could not verify key.", "bad_auth_token"
            )
        with self._lock:
            serial = next(self._clock.counter)
        expires = now_ms() + self.settings.token_lifetime * 1000
        if stored.expires is not None:
            expires = min(expires, stored.expires)
        token = self.tokens.issue("acct", {"k": key_id, "e": expires, "n": serial})
        return key_of(stored), token

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
        if stored is None:  # deleted since
            raise unauthorized("Invalid authorization token", "bad_auth_token")
        return key_of(stored)


def _check_creator(
    creator: Key, capabilities: list[str], bucket_ids: list[str] | None, name_prefix: str
) -> None:
    """Refuse (401) a key that would grant more than its creator has."""
    beyond = sorted(set(capabilities) - set(creator.capabilities))
    if beyond:
        raise unauthorized(f"The key cannot grant capabilities it lacks: {', '.join(beyond)}")
    if creator.bucket_ids is not None and (
        bucket_ids is None or not set(bucket_ids) <= set(creator.bucket_ids)
    ):
        raise unauthorized("The key cannot grant buckets outside its own restriction.")
    if creator.name_prefix and not name_prefix.startswith(creator.name_prefix):
        raise unauthorized("The key cannot grant names outside its own name prefix.")
