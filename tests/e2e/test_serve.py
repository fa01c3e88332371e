"""``hatch run example:serve``: a busy port is one line and exit status 2 before anything starts;
the site has a favicon; ``hatch run example:serve --asgi`` serves it under uvicorn."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import requests

from .conftest import Site
from .processes import ServerProcess, example_env


def test_a_busy_port_is_said_before_the_banner(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "example.serve",
                "--port",
                str(port),
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env=example_env(),
            check=False,
        )
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


def test_serve_asgi_runs_the_site_under_uvicorn(tmp_path: Path) -> None:
    """The README's ASGI line, ``hatch run example:serve --asgi``, serves the site and its files."""
    args = [
        sys.executable,
        "-m",
        "example.serve",
        "--asgi",
        "--port",
        "0",
        "--data-dir",
        str(tmp_path),
    ]
    server = ServerProcess("example.serve --asgi", args, example_env(), tmp_path / "serve.log")
    try:
        url = server.wait_for(r"Example site: (http://\S+/)").group(1)
        server.wait_for(r"Uvicorn running on")
        home = requests.get(url, timeout=10)
        assert home.status_code == 200 and "Avatars" in home.text
        page = requests.get(url + "files/avatars/", timeout=10)
        pictures = re.findall(r'<img class="avatar" src="([^"]+)"', page.text)
        assert pictures, page.text
        picture = requests.get(urljoin(url, unescape(pictures[0])), timeout=10)
        assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    finally:
        code = server.interrupt()
    server.assert_stopped_cleanly(code)
