"""Write into a bucket as a tool other than our storages would: b2sdk's own ``B2Api``, with no
check of a name's neighbours (our storages never create a name that extends another stored name
or that another extends, whatever their options)."""

from __future__ import annotations

import threading
from typing import Any

from b2sdk.v2 import B2Api, InMemoryAccountInfo

from b2_storage.emulator import LocalB2

_lock = threading.Lock()
_apis: dict[tuple[str, str], Any] = {}


def write(server: LocalB2, bucket: str, name: str, data: bytes) -> None:
    """Upload ``data`` as ``name`` (its newest version) with the server's master key."""
    options = server.storage_options(bucket)
    realm, key_id = options["realm"], options["application_key_id"]
    with _lock:
        api = _apis.get((realm, key_id))
        if api is None:
            api = _apis[(realm, key_id)] = B2Api(InMemoryAccountInfo())
            api.authorize_account(realm, key_id, options["application_key"])
    api.get_bucket_by_name(bucket).upload_bytes(data, name)
