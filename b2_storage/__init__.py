"""A Django storage over Backblaze B2, and a local B2 server to test it with."""

from __future__ import annotations

from .exceptions import (
    B2AccessRefused,
    B2ConfigurationError,
    B2FileNotFound,
    B2IntegrityError,
    B2InvalidName,
    B2NameNotSealed,
    B2StorageError,
    B2Unavailable,
    B2UploadFailed,
)
from .storage import B2Storage

__version__ = "0.1.0"
__all__ = [
    "B2AccessRefused",
    "B2ConfigurationError",
    "B2FileNotFound",
    "B2IntegrityError",
    "B2InvalidName",
    "B2NameNotSealed",
    "B2Storage",
    "B2StorageError",
    "B2Unavailable",
    "B2UploadFailed",
]
