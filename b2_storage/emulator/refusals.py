"""What the local B2 server does not implement, and how it says so: a 501 ``not_implemented``
naming the feature, never "not found" and never a success that ignores the request.

Server-side encryption (SSE-B2 and SSE-C), object lock (retention, legal hold), replication,
CORS and lifecycle rules, event notifications and bucket logging are refused. A request that
asks for their "off" state (``{"mode": "none"}``, ``"off"``, ``false``, empty rules) is what the
server does anyway, so it is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import Message
from typing import Any

from .errors import not_implemented

ENCRYPTION = "server-side encryption (SSE-B2, SSE-C)"
SSE_C = "server-side encryption with customer keys (SSE-C)"
OBJECT_LOCK = "object lock (file retention and legal hold)"
REPLICATION = "replication"

# B2 endpoints this server refuses, with the feature each belongs to.
ENDPOINTS = {
    "b2_update_file_retention": OBJECT_LOCK,
    "b2_update_file_legal_hold": OBJECT_LOCK,
    "b2_get_bucket_notification_rules": "event notifications",
    "b2_set_bucket_notification_rules": "event notifications",
}

# JSON parameters that ask for a refused feature, per endpoint.
BUCKET_PARAMS = {
    "defaultServerSideEncryption": ENCRYPTION,
    "fileLockEnabled": OBJECT_LOCK,
    "defaultRetention": OBJECT_LOCK,
    "replicationConfiguration": REPLICATION,
    "corsRules": "CORS rules",
    "lifecycleRules": "lifecycle rules",
}
FILE_PARAMS = {
    "serverSideEncryption": ENCRYPTION,
    "fileRetention": OBJECT_LOCK,
    "legalHold": OBJECT_LOCK,
}
COPY_PARAMS = {
    "sourceServerSideEncryption": ENCRYPTION,
    "destinationServerSideEncryption": ENCRYPTION,
    "fileRetention": OBJECT_LOCK,
    "legalHold": OBJECT_LOCK,
}

# Request headers that ask for a refused feature (uploads, parts and downloads).
HEADERS = {
    "X-Bz-Server-Side-Encryption": ENCRYPTION,
    "X-Bz-Server-Side-Encryption-Customer-Algorithm": SSE_C,
    "X-Bz-Server-Side-Encryption-Customer-Key": SSE_C,
    "X-Bz-Server-Side-Encryption-Customer-Key-Md5": SSE_C,
    "X-Bz-File-Retention-Mode": OBJECT_LOCK,
    "X-Bz-File-Retention-Retain-Until-Timestamp": OBJECT_LOCK,
    "X-Bz-File-Legal-Hold": OBJECT_LOCK,
}

OFF_VALUES = ("", "none", "off", "false")


def is_off(value: Any) -> bool:
    """Return whether a parameter asks for nothing: null, false, "none"/"off", empty or all off."""
    if value is None or value is False:
        return True
    if isinstance(value, str):
        return value.lower() in OFF_VALUES
    if isinstance(value, Mapping):
        return all(is_off(item) for item in value.values())
    if isinstance(value, list):
        return all(is_off(item) for item in value)
    return False


def refuse_params(params: Mapping[str, Any], features: Mapping[str, str]) -> None:
    """Raise the 501 for the first parameter that asks for a refused feature."""
    for name, feature in features.items():
        if not is_off(params.get(name)):
            raise not_implemented(f"{feature} (parameter {name})")


def refuse_headers(headers: Message[str, str]) -> None:
    """Raise the 501 for the first request header that asks for a refused feature."""
    for name, feature in HEADERS.items():
        if not is_off(headers.get(name)):
            raise not_implemented(f"{feature} (header {name})")
