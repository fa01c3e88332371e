"""A Django storage over Backblaze B2, and a local B2 server to test it with.

The names below load on first use (PEP 562), so that ``python -m b2_storage.emulator`` and the
``b2_server`` pytest plugin import only the standard library until a storage is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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
_HOMES = {name: ".storage" if name == "B2Storage" else ".exceptions" for name in __all__}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
