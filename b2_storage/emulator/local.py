"""``LocalB2``: the local B2 server in-process, as a context manager."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from .engine import Engine, Settings, bucket_name_problem
from .errors import B2Error
from .faults import Fault, Faults
from .server import B2HTTPServer
from .store import Store


def parse_bucket_spec(spec: str) -> tuple[str, str]:
    """Split ``NAME[:allPrivate|allPublic]`` into a name and a bucket type."""
    name, _, bucket_type = spec.partition(":")
    bucket_type = bucket_type or "allPrivate"
    if bucket_type not in ("allPrivate", "allPublic"):
        raise ValueError(f"Bucket type must be allPrivate or allPublic, not {bucket_type!r}")
    problem = bucket_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return name, bucket_type


class LocalB2:
    """A B2 native API server on ``host:port`` (port 0: a free one), in a background thread.

    State is kept in memory (blobs in a private temporary directory) unless ``data_dir`` is
    given, in which case it survives a restart, master key included.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        buckets: Iterable[str] = (),
        application_key_id: str | None = None,
        application_key: str | None = None,
        token_lifetime: int = 24 * 3600,
        min_part_size: int = 5_000_000,
        recommended_part_size: int = 100_000_000,
    ) -> None:
        self._address = (host, port)
        self._data_dir = data_dir
        self._bucket_specs = [parse_bucket_spec(spec) for spec in buckets]  # ValueError now
        self._wanted_key = (application_key_id, application_key)
        self._settings = Settings(token_lifetime, min_part_size, recommended_part_size)
        self._faults = Faults()
        self._server: B2HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.application_key_id = ""
        self.application_key = ""

    def __repr__(self) -> str:
        state = self.realm if self._server is not None else "stopped"
        return f"LocalB2({state})"

    # -- life cycle ----------------------------------------------------------------------
    def start(self) -> LocalB2:
        """Open the store, bind the port and serve in a daemon thread."""
        if self._server is not None:
            return self
        store = Store(self._data_dir)
        engine = Engine(store, self._settings)
        self.application_key_id, self.application_key = engine.ensure_master_key(*self._wanted_key)
        self._server = B2HTTPServer(self._address, engine, self._faults)
        for name, bucket_type in self._bucket_specs:
            if store.bucket_by(name=name) is None:
                engine.create_bucket(name, bucket_type)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"LocalB2:{self._server.server_address[1]}", daemon=True,
        )  # fmt: skip
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, join the thread and close the store."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
        server.engine.store.close()

    def __enter__(self) -> LocalB2:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()

    @property
    def _running(self) -> B2HTTPServer:
        if self._server is None:
            raise RuntimeError(
                "LocalB2 is not running: use it as a context manager or call start()."
            )
        return self._server

    # -- what clients need ---------------------------------------------------------------
    @property
    def realm(self) -> str:
        """Return the realm URL to give b2sdk or ``B2_ENVIRONMENT`` (``http://127.0.0.1:N``)."""
        return self._running.base_url

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        return int(self._running.server_address[1])

    def storage_options(self, bucket: str, **extra: Any) -> dict[str, Any]:
        """Return the credentials and bucket as ``B2Storage`` keyword arguments."""
        return {
            "realm": self.realm,
            "application_key_id": self.application_key_id,
            "application_key": self.application_key,
            "bucket": bucket,
            **extra,
        }

    def create_bucket(self, name: str, bucket_type: str = "allPrivate") -> str:
        """Create a bucket; return its id. A name B2 would refuse raises ``ValueError``."""
        name, bucket_type = parse_bucket_spec(f"{name}:{bucket_type}")
        return self._running.engine.create_bucket(name, bucket_type).bucket_id

    def create_key(
        self,
        capabilities: Iterable[str],
        *,
        bucket: str | None = None,
        name_prefix: str | None = None,
    ) -> tuple[str, str]:
        """Create a restricted application key; return ``(key_id, key)``.

        B2's rules apply (a key limited to a bucket holds no account-level capability); a key
        they refuse, or a capability this server does not implement, raises ``ValueError``.
        """
        engine = self._running.engine
        try:
            bucket_ids = None if bucket is None else [engine.bucket(name=bucket).bucket_id]
            row = engine.create_key(
                None, list(capabilities), bucket_ids=bucket_ids, name_prefix=name_prefix
            )
        except B2Error as exc:
            raise ValueError(exc.message) from None
        return row.key_id, row.secret

    # -- observation and faults ----------------------------------------------------------
    @property
    def calls(self) -> Mapping[str, int]:
        """Return a snapshot of how many times each B2 API was called."""
        return Counter(self._running.calls)

    def reset_calls(self) -> None:
        """Set every call count back to zero."""
        self._running.calls.clear()

    def fail_next(
        self, api: str, count: int = 1, *, status: int = 503, retry_after: int = 1
    ) -> None:
        """Answer the next ``count`` calls of ``api`` (``"*"``: any) with 503 or 429."""
        if status not in (429, 503):
            raise ValueError(f"status must be 429 or 503, not {status}")
        self._faults.add(api, Fault(status=status, retry_after=retry_after), count)

    def drop_next(self, api: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``api`` without an answer."""
        self._faults.add(api, Fault(drop=True), count)

    def clear_faults(self) -> None:
        """Forget faults that have not fired yet."""
        self._faults.clear()

    def expire_tokens(self) -> None:
        """Expire every account token now: the next call with one gets ``expired_auth_token``."""
        self._running.engine.expire_tokens()
