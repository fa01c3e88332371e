"""``LocalB2``: the local B2 server in-process, as a context manager."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

from .engine import Engine, Settings, bucket_name_problem
from .errors import B2Error
from .faults import CODES, Fault, Faults, Trigger
from .server import B2HTTPServer
from .store import Store

TRUNCATABLE = (
    "b2_download_file_by_name",
    "b2_download_file_by_id",
    "b2_upload_file",
    "b2_upload_part",
)


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
    given, in which case it survives a restart, master key included. ``stop()`` then ``start()``
    serves again on the same port with the same key id and key (and, with ``data_dir``, the same
    buckets and files), as a B2 that went away and came back.
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
        engine = Engine(Store(self._data_dir), self._settings)
        self.application_key_id, self.application_key = engine.ensure_master_key(*self._wanted_key)
        # A restart keeps the key (and the port): clients configured before still work.
        self._wanted_key = (self.application_key_id, self.application_key)
        self._server = B2HTTPServer(self._address, engine, self._faults)
        self._address = (self._address[0], self._server.server_address[1])
        for name, bucket_type in self._bucket_specs:
            if engine.find_bucket(name=name) is None:
                engine.create_bucket(name, bucket_type)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"LocalB2:{self._server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection (as a B2 going down would), join the
        threads and close the store. May be called from any thread, even from a fault's action
        running in one of the server's own threads."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()
        if self._thread is not None:
            self._thread.join()
        server.engine.close()

    @property
    def running(self) -> bool:
        """Return whether the server is serving."""
        return self._server is not None

    def __enter__(self) -> LocalB2:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
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
        """Answer the next ``count`` calls of ``api`` (``"*"``: any) with B2's error for
        ``status``: 503 or 429 (with ``Retry-After: retry_after``), 401 ``expired_auth_token``
        (the token used has expired: b2sdk authorizes again, or gets a new upload URL) or 500."""
        if status not in CODES:
            raise ValueError(f"status must be one of {sorted(CODES)}, not {status}")
        self._faults.add(api, Fault(status=status, retry_after=retry_after), count)

    def drop_next(self, api: str, count: int = 1) -> None:
        """Close the connection of the next ``count`` calls of ``api`` without an answer."""
        self._faults.add(api, Fault(drop=True), count)

    def truncate_next(self, api: str, count: int = 1, *, after_bytes: int) -> None:
        """Cut the body of the next ``count`` calls of ``api`` after ``after_bytes`` bytes,
        then close the connection: a download sends its headers and that much of the file; an
        upload (``b2_upload_file``, ``b2_upload_part``) reads that much, then goes away."""
        if api not in TRUNCATABLE:
            raise ValueError(f"only {', '.join(TRUNCATABLE)} have a body to cut, not {api!r}")
        if after_bytes < 0:
            raise ValueError(f"after_bytes must be at least 0, not {after_bytes}")
        self._faults.add(api, Fault(cut_after=after_bytes), count)

    def on_call(
        self, api: str, action: Callable[[], None], *, nth: int = 1, answered: bool = False
    ) -> None:
        """Run ``action`` (in a server thread) when the ``nth`` call of ``api`` from now
        arrives, or with ``answered`` once it is handled, just before its answer is sent; the
        call itself goes on as usual. ``action`` may call :meth:`stop` (the call then fails)."""
        self._faults.add_trigger(Trigger(api, nth, action, on_answer=answered))

    def expire_after(self, api: str, nth: int = 1) -> None:
        """Expire every account token once the ``nth`` call of ``api`` from now is handled:
        that call succeeds, the next call with an older account token gets 401
        ``expired_auth_token``. (Upload tokens stay valid, as B2's do.)"""
        self.on_call(api, self.expire_tokens, nth=nth, answered=True)

    def limit_pages(self, entries: int | None) -> None:
        """Answer ``b2_list_file_names`` and ``b2_list_file_versions`` with at most ``entries``
        entries a page (``None``: as asked), until :meth:`clear_faults`. B2 may answer fewer
        than ``maxFileCount``; clients follow ``nextFileName``, so a short listing spans pages."""
        if entries is not None and entries < 1:
            raise ValueError(f"entries must be at least 1, not {entries}")
        self._faults.page_limit = entries

    @property
    def faults_injected(self) -> Mapping[str, int]:
        """Return how many injected faults fired, by kind (``503``, ``429``, ``401``, ``500``,
        ``drop``, ``cut``, ``trigger``), since this ``LocalB2`` was made (restarts included)."""
        return self._faults.injected

    def clear_faults(self) -> None:
        """Forget faults and triggers that have not fired yet, and any page limit."""
        self._faults.clear()

    def expire_tokens(self) -> None:
        """Expire every account token now: the next call with one gets ``expired_auth_token``."""
        self._running.engine.expire_tokens()
