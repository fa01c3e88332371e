"""``python -m b2_storage.emulator``: run the local B2 server until Ctrl-C."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from .local import LocalB2, parse_bucket_spec

PROG = "python -m b2_storage.emulator"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Return the command line's options."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="A local Backblaze B2 server (the native API over HTTP) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    parser.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="NAME[:allPrivate|allPublic]",
        help="create this bucket if missing (repeatable; default type allPrivate)",
    )
    parser.add_argument("--data-dir", help="keep state in this directory (default: in memory)")
    parser.add_argument("--key-id", help="the master key id to use (default: generated)")
    parser.add_argument("--key", help="the master application key to use (default: generated)")
    parser.add_argument(
        "--token-lifetime", type=int, default=24 * 3600, help="account token lifetime, seconds"
    )
    args = parser.parse_args(argv)
    for spec in args.bucket:
        try:
            parse_bucket_spec(spec)
        except ValueError as exc:
            fail(f"--bucket {spec}: {exc}")
    return args


def fail(message: str) -> NoReturn:
    """Say what is wrong in one line on stderr and exit with status 2."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, print how to reach it, and serve until interrupted."""
    args = parse_args(argv)
    server = LocalB2(
        args.host,
        args.port,
        data_dir=args.data_dir,
        buckets=args.bucket,
        application_key_id=args.key_id,
        application_key=args.key,
        token_lifetime=args.token_lifetime,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:  # a busy port, an address this machine does not have
        fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    with server:
        print(f"Local B2 server listening on {server.realm}")
        print(f"  realm:              {server.realm}")
        print(f"  application key id: {server.application_key_id}")
        print(f"  application key:    {server.application_key}")
        print(f"export B2_ENVIRONMENT={server.realm}")
        print(f"export B2_APPLICATION_KEY_ID={server.application_key_id}")
        print(f"export B2_APPLICATION_KEY={server.application_key}")
        sys.stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
