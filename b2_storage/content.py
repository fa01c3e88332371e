"""What a saved file is served as: its content type from its name, never from the uploader.

A browser's ``Content-Type`` for an upload is the uploader's claim: ``x.pdf`` sent as
``text/html`` would be served back inline as HTML from the B2 host. So the type comes from the
storage's ``content_types`` option or :mod:`mimetypes`, and the types a browser would run (HTML,
SVG, XML, JavaScript) are stored with ``b2-content-disposition: attachment`` (B2 then sends
``Content-Disposition: attachment``) unless the storage's ``active_content`` is ``"inline"``.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Mapping

from .config import StorageConfig

DEFAULT_TYPE = "application/octet-stream"
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "application/wasm",
        "text/vnd.wap.wml",
    }
)


def content_type_for(name: str, overrides: Mapping[str, str]) -> str:
    """Return the content type of ``name``: its suffix in ``overrides``, else ``mimetypes``."""
    base = posixpath.basename(name).lower()
    for suffix, content_type in overrides.items():
        if base.endswith(suffix.lower()):
            return content_type
    return mimetypes.guess_type(base, strict=False)[0] or DEFAULT_TYPE


def is_active(content_type: str) -> bool:
    """Return whether a browser would run or render as a document a file of this type."""
    essence = content_type.split(";", 1)[0].strip().lower()
    return essence in ACTIVE_TYPES or essence.endswith("+xml")


def upload_headers(name: str, config: StorageConfig) -> tuple[str, dict[str, str]]:
    """Return the content type and the B2 file info to upload ``name`` with."""
    content_type = content_type_for(name, config.content_types)
    file_info = dict(config.file_info)
    if config.active_content == "attachment" and is_active(content_type):
        file_info.setdefault("b2-content-disposition", "attachment")
    return content_type, file_info
