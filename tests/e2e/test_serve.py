"""``hatch run example:serve``: a busy port is one line and exit status 2 before anything starts;
the site has a favicon."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import requests

from .conftest import Site, example_env


def test_a_busy_port_is_said_before_the_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "example.serve", "--port", str(port),
             "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=120, env=example_env(), check=False,
        )  # fmt: skip
    assert result.returncode == 2
    assert "Example site" not in result.stdout and "Ctrl-C" not in result.stdout
    assert result.stderr.splitlines() == [
        f"hatch run example:serve: error: cannot listen on 127.0.0.1:{port}: "
        "Address already in use (choose another with --port, or --port 0)"
    ]
    assert not (tmp_path / "b2").exists()  # nothing was started


def test_the_site_has_a_favicon(site: Site) -> None:
    icon = requests.get(site.at("/favicon.ico"), timeout=10)
    assert icon.status_code == 200
    assert icon.headers["Content-Type"].startswith("image/svg+xml")
    assert icon.history and icon.history[0].status_code == 301
