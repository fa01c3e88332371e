"""Application keys: B2's capabilities, which of them this server implements, and the checks a
key's capabilities, buckets and name prefix impose on every call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import bad_request, not_implemented, unauthorized

# Every capability B2 defines (b2_create_key knows these names and no others).
B2_CAPABILITIES = (
    "listKeys",
    "writeKeys",
    "deleteKeys",
    "listBuckets",
    "listAllBucketNames",
    "readBuckets",
    "writeBuckets",
    "deleteBuckets",
    "readBucketEncryption",
    "writeBucketEncryption",
    "readBucketRetentions",
    "writeBucketRetentions",
    "readFileRetentions",
    "writeFileRetentions",
    "readFileLegalHolds",
    "writeFileLegalHolds",
    "readBucketReplications",
    "writeBucketReplications",
    "bypassGovernance",
    "listFiles",
    "readFiles",
    "shareFiles",
    "writeFiles",
    "deleteFiles",
    "readBucketLogging",
    "writeBucketLogging",
    "readBucketNotifications",
    "writeBucketNotifications",
)
# The capabilities that unlock something here: exactly what the master key advertises.
CAPABILITIES = (
    "listKeys",
    "writeKeys",
    "deleteKeys",
    "listBuckets",
    "writeBuckets",
    "deleteBuckets",
    "listFiles",
    "readFiles",
    "shareFiles",
    "writeFiles",
    "deleteFiles",
)
# Capabilities a key restricted to buckets may not hold (B2's rule for b2_create_key).
ACCOUNT_CAPABILITIES = frozenset(
    {"listKeys", "writeKeys", "deleteKeys", "writeBuckets", "deleteBuckets"}
)
_FEATURES = {
    "object lock": (
        "readBucketRetentions",
        "writeBucketRetentions",
        "readFileRetentions",
        "writeFileRetentions",
        "readFileLegalHolds",
        "writeFileLegalHolds",
        "bypassGovernance",
    ),
    "server-side encryption": ("readBucketEncryption", "writeBucketEncryption"),
    "replication": ("readBucketReplications", "writeBucketReplications"),
    "bucket access logging": ("readBucketLogging", "writeBucketLogging"),
    "event notifications": ("readBucketNotifications", "writeBucketNotifications"),
    "bucket details apart from listBuckets": ("readBuckets", "listAllBucketNames"),
}


def check_capabilities(capabilities: Iterable[object]) -> list[str]:
    """Return the capabilities asked for, or raise: 400 for names B2 does not have, 501 for
    capabilities of features this server does not implement."""
    wanted = list(dict.fromkeys(capabilities))
    if not wanted or not all(isinstance(c, str) for c in wanted):
        raise bad_request("capabilities must be a non-empty list of strings")
    names = [str(c) for c in wanted]
    unknown = sorted(set(names) - set(B2_CAPABILITIES))
    if unknown:
        raise bad_request(f"Unknown capabilities: {', '.join(unknown)}")
    refused = [
        f"{', '.join(sorted(set(caps) & set(names)))} ({feature})"
        for feature, caps in _FEATURES.items()
        if set(caps) & set(names)
    ]
    if refused:
        raise not_implemented(f"the capabilities {'; '.join(refused)}")
    return names


@dataclass(frozen=True)
class Key:
    """An application key: its capabilities and restrictions (``None``: unrestricted)."""

    key_id: str
    name: str
    capabilities: tuple[str, ...]
    bucket_ids: tuple[str, ...] | None = None
    name_prefix: str | None = None
    expires: int | None = None  # epoch milliseconds

    def allows_bucket(self, bucket_id: str) -> bool:
        """Return whether the key's bucket restriction lets it use ``bucket_id``."""
        return self.bucket_ids is None or bucket_id in self.bucket_ids

    def require(self, capability: str, bucket_id: str | None = None) -> None:
        """Raise B2's 401 ``unauthorized`` unless the key may do this (in this bucket)."""
        if capability not in self.capabilities:
            raise unauthorized(f"The key does not have the {capability} capability.")
        if bucket_id is not None and not self.allows_bucket(bucket_id):
            raise unauthorized("The key is restricted to another bucket.")

    def require_prefix(self, name: str) -> None:
        """Raise B2's 401 unless ``name`` (a file name or a listing prefix) is in the key's
        name prefix."""
        if self.name_prefix and not name.startswith(self.name_prefix):
            raise unauthorized("The key is restricted to another name prefix.")
