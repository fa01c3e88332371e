"""The local B2 server in a process of its own, with its call counters readable.

``python -m b2_storage.emulator`` does not publish its counters, so this runs the same server
(:class:`~b2_storage.emulator.LocalB2`) and talks over stdin and stdout: it prints one JSON line
with the realm and the master key, then answers each ``calls`` line with the counters as a JSON
line. End of input (or ``stop``) stops it.

Usage: ``python -m tests.soak.b2_child BUCKET[:allPrivate|allPublic] ...``
"""

from __future__ import annotations

import json
import sys

from b2_storage.emulator import LocalB2


def main(buckets: list[str]) -> int:
    """Serve until stdin ends, answering ``calls``."""
    with LocalB2("127.0.0.1", 0, buckets=buckets) as server:
        print(
            json.dumps(
                {
                    "realm": server.realm,
                    "key_id": server.application_key_id,
                    "key": server.application_key,
                }
            ),
            flush=True,
        )
        for line in sys.stdin:
            command = line.strip()
            if command == "calls":
                print(json.dumps(dict(server.calls)), flush=True)
            elif command == "stop":
                break
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
