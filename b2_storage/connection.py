"""The B2 connection: one authorized-on-demand b2sdk ``B2Api`` per credentials per process.

A ``B2Api`` is created lazily, the first time a storage with these credentials, account-info
backend and timeouts needs one, and shared by every storage (and thread) that has them.
Beside it lives the bounded HTTP session of the raw calls b2sdk does not expose.
"""

from __future__ import annotations

import hashlib
import threading
from functools import partial

from b2sdk.v2 import B2Api, B2HttpApiConfig

from .account_info import make_account_info
from .circuit import Circuit
from .config import StorageConfig
from .translate import give_up
from .transport import BoundedSession

_lock = threading.Lock()
_apis: dict[tuple[object, ...], tuple[B2Api, BoundedSession]] = {}


def connection(config: StorageConfig, circuit: Circuit) -> tuple[B2Api, BoundedSession]:
    """Return the process's ``B2Api`` for ``config``'s credentials, and its raw-call session;
    every HTTP attempt of both is bounded by the timeouts and goes through ``circuit``."""
    # A digest of the key (never the key): a rotated or different key gets its own B2Api.
    secret = hashlib.sha256(config.application_key.encode()).hexdigest()[:16]
    backend = repr(sorted(config.account_info.items()))
    timeouts = (config.connect_timeout, config.read_timeout)
    key = (config.realm, config.application_key_id, secret, backend, *timeouts)
    with _lock:
        found = _apis.get(key)
        if found is None:
            key_id, app_key = config.application_key_id, config.application_key
            info = make_account_info(config.account_info, config.realm, key_id, app_key)
            # b2sdk's public hook for its HTTP: every attempt bounded, behind the circuit.
            session = partial(BoundedSession, circuit, *timeouts, give_up)
            sdk = B2HttpApiConfig(http_session_factory=session)
            found = _apis[key] = (B2Api(info, api_config=sdk), session())
    return found
