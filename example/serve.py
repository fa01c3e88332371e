"""``hatch run example:serve``: the example site on an embedded local B2 server.

Starts the local B2 server with a data directory (files survive a restart), migrates, creates the
demo users and sample files if missing, and runs the site until Ctrl-C: under Django's
``runserver`` (WSGI), or with ``--asgi`` under uvicorn.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port(host: str) -> int:
    """Return a port that is free on ``host`` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def claim_port(host: str, port: int) -> int:
    """Return ``port`` (a free one for 0) if it can be listened on now; else say so and exit 2,
    before anything is started or printed."""
    if port == 0:
        return free_port(host)
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            print(
                f"hatch run example:serve: error: cannot listen on {host}:{port}: "
                f"{exc.strerror or exc} (choose another with --port, or --port 0)",
                file=sys.stderr,
            )
            sys.exit(2)
    return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hatch run example:serve")
    parser.add_argument("--port", type=int, default=8000, help="site port (0: a free one)")
    parser.add_argument("--b2-port", type=int, default=0, help="local B2 port (0: a free one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", default=str(HERE / "var"), help="database and B2 data")
    parser.add_argument("--asgi", action="store_true", help="serve with uvicorn (ASGI)")
    args = parser.parse_args(argv)
    port = claim_port(args.host, args.port)

    sys.path.insert(0, str(HERE.parent))
    from b2_storage.emulator import LocalB2

    data = Path(args.data_dir).resolve()
    os.environ["EXAMPLE_VAR_DIR"] = str(data)
    buckets = ["example-public:allPublic", "example-private"]
    with LocalB2(args.host, args.b2_port, data_dir=data / "b2", buckets=buckets) as b2:
        os.environ.update(
            EXAMPLE_B2_REALM=b2.realm,
            EXAMPLE_B2_KEY_ID=b2.application_key_id,
            EXAMPLE_B2_KEY=b2.application_key,
        )
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.site.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        from example.files.demo import DEMO_USER, STAFF_USER, seed

        seed()
        call_command("check", fail_level="ERROR")  # our system checks, before the banner
        print(
            f"\nExample site: http://{args.host}:{port}/\n"
            f"  demo user:  {DEMO_USER[0]} / {DEMO_USER[1]} (a subscriber)\n"
            f"  staff user: {STAFF_USER[0]} / {STAFF_USER[1]} (admin at /admin/)\n"
            f"  local B2:   {b2.realm} (data in {data / 'b2'})\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            if args.asgi:
                import uvicorn

                uvicorn.run("example.site.asgi:application", host=args.host, port=port)
            else:
                call_command(
                    "runserver", f"{args.host}:{port}", use_reloader=False, skip_checks=True
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
