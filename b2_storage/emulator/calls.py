"""One call of B2's JSON API as its handler sees it, and the checks every handler shares.

A handler takes a :class:`Call` and returns the JSON body of a 200; any refusal is a
:class:`.errors.B2Error`. The key behind the call's token is checked here, for every endpoint the
same way: its capability, its bucket and its name prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import Engine
from .errors import bad_request
from .files import FileEngine
from .keys import Key
from .refusals import refuse_params
from .rows import BucketRow, FileRow


@dataclass
class Call:
    """One API call: its version (``v1`` to ``v4``), parameters, token and the base URL."""

    version: str
    params: dict[str, Any]
    token: str | None
    base_url: str
    engine: Engine
    files: FileEngine
    _key: Key | None = field(default=None, repr=False)

    def key(self) -> Key:
        """Return the key behind this call's account token (401 if none or expired)."""
        if self._key is None:
            self._key = self.engine.check_account_token(self.token)
        return self._key

    def get(self, name: str, kind: type | tuple[type, ...] = str, default: Any = None) -> Any:
        """Return an optional parameter, checking its JSON type."""
        value = self.params.get(name)
        if value is None:  # b2sdk sends unset optional parameters as JSON null
            return default
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
            raise bad_request(f"Parameter {name!r} has the wrong type")
        return value

    def need(self, name: str, kind: type | tuple[type, ...] = str) -> Any:
        """Return a required parameter, or raise B2's 400 naming it."""
        if self.params.get(name) is None:
            raise bad_request(f"Missing required parameter: {name}")
        return self.get(name, kind)

    def count(self, name: str, default: int, maximum: int) -> int:
        """Return a count parameter between 1 and ``maximum`` (0 or absent: ``default``)."""
        value = self.get(name, int, default) or default
        if not 1 <= value <= maximum:
            raise bad_request(f"{name} must be between 1 and {maximum}")
        return int(value)

    def refuse(self, features: Mapping[str, str]) -> None:
        """Refuse (501) parameters that ask for a feature this server does not implement."""
        refuse_params(self.params, features)

    def bucket(self, capability: str, bucket_id: str | None = None) -> tuple[Key, BucketRow]:
        """Return the key and the bucket (``bucketId`` unless given) it may use ``capability``."""
        key = self.key()
        bucket_id = bucket_id or self.need("bucketId")
        key.require(capability, bucket_id)
        return key, self.engine.bucket(bucket_id)

    def file(self, capability: str, row: FileRow) -> Key:
        """Return the key, if it may use ``capability`` on this file version (bucket, prefix)."""
        key = self.key()
        key.require(capability, row.bucket_id)
        key.require_prefix(row.name)
        return key
