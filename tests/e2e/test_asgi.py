"""The example site under uvicorn (ASGI): the middleware's async path answers signed links with
the same 302 to B2, login redirect and refusals as under runserver (WSGI)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from .conftest import USERS, tamper, unavailable
from .processes import ServerProcess, example_env

SEED = (
    "import django; django.setup()\n"
    "from django.core.management import call_command\n"
    "call_command('migrate', interactive=False, verbosity=0)\n"
    "from example.files.demo import seed; seed()\n"
)


@dataclass(frozen=True)
class AsgiSite:
    url: str  # ends in "/"
    b2: str

    def at(self, path: str) -> str:
        return self.url + path.lstrip("/")


@pytest.fixture(scope="module")
def asgi_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsgiSite]:
    """A local B2 server and the example under uvicorn, each in a subprocess; Ctrl-C at the end."""
    try:
        import uvicorn  # noqa: F401
    except ImportError as exc:
        unavailable(f"uvicorn is not installed: {exc}")
    data = tmp_path_factory.mktemp("example-asgi")
    emulator = ServerProcess(
        "local B2",
        [
            sys.executable,
            "-m",
            "b2_storage.emulator",
            "--port",
            "0",
            "--data-dir",
            str(data / "b2"),
            "--bucket",
            "example-public:allPublic",
            "--bucket",
            "example-private",
        ],
        example_env(),
        data / "b2.log",
    )
    servers = [emulator]
    try:
        realm = emulator.wait_for(r"realm:\s+(http://\S+)").group(1)
        key_id = emulator.wait_for(r"application key id:\s+(\S+)").group(1)
        key = emulator.wait_for(r"application key:\s+(\S+)").group(1)
        env = example_env(
            EXAMPLE_B2_REALM=realm,
            EXAMPLE_B2_KEY_ID=key_id,
            EXAMPLE_B2_KEY=key,
            EXAMPLE_VAR_DIR=str(data / "var"),
        )
        seeded = subprocess.run(
            [sys.executable, "-c", SEED],
            cwd=Path(__file__).resolve().parents[2],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert seeded.returncode == 0, f"migrate + seed failed:\n{seeded.stdout}{seeded.stderr}"
        uvicorn = ServerProcess(
            "uvicorn",
            [
                sys.executable,
                "-m",
                "uvicorn",
                "example.site.asgi:application",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-access-log",
            ],
            env,
            data / "uvicorn.log",
        )
        servers.append(uvicorn)
        port = int(uvicorn.wait_for(r"Uvicorn running on http://127\.0\.0\.1:(\d+)").group(1))
        assert port, "this uvicorn does not report the port it picked for --port 0"
        yield AsgiSite(f"http://127.0.0.1:{port}/", realm)
    finally:
        codes = [server.interrupt() for server in reversed(servers)]
    for server, code in zip(reversed(servers), codes, strict=True):
        server.assert_stopped_cleanly(code)


def links(html: str, title: str) -> dict[str, str]:
    """Return the hrefs of the row titled ``title``, by link class (``file``, ``download``)."""
    found = re.search(rf'<li data-title="{re.escape(title)}">(.*?)</li>', html, re.S)
    assert found, f"no row {title!r} in:\n{html}"
    return {
        cls: unescape(href) for cls, href in re.findall(r'class="(\w+)" href="([^"]+)"', found[1])
    }


def logged_in(site: AsgiSite, username: str) -> requests.Session:
    """Return a session logged in through the login form."""
    session = requests.Session()
    form = session.get(site.at("/accounts/login/"), timeout=10)
    assert form.status_code == 200 and form.headers.get("server") == "uvicorn"
    answer = session.post(
        site.at("/accounts/login/"),
        data={
            "username": username,
            "password": USERS[username],
            "next": "/",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": site.at("/accounts/login/")},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, f"login as {username} failed: {answer.status_code}"
    return session


@pytest.fixture(scope="module")
def staff(asgi_site: AsgiSite) -> Iterator[requests.Session]:
    with logged_in(asgi_site, "staff") as session:
        yield session


def test_anonymous_link_goes_to_login(asgi_site: AsgiSite, staff: requests.Session) -> None:
    page = staff.get(asgi_site.at("/files/documents/"), timeout=10)
    link = links(page.text, "Welcome")["file"]  # a link that reached an anonymous visitor
    answer = requests.get(asgi_site.at(link), allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    assert answer.headers["server"] == "uvicorn"
    assert answer.headers["location"] == f"/accounts/login/?next={link}"


@pytest.mark.parametrize("kind", ["file", "download"])
def test_logged_in_link_redirects_to_the_bytes_on_b2(
    asgi_site: AsgiSite, staff: requests.Session, kind: str
) -> None:
    page = staff.get(asgi_site.at("/files/documents/"), timeout=10)
    link = links(page.text, "Welcome")[kind]
    answer = staff.get(asgi_site.at(link), allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.content == b""
    assert answer.headers["server"] == "uvicorn"
    assert answer.headers["cache-control"] == "private, no-store"
    target = answer.headers["location"]
    assert target.startswith(f"{asgi_site.b2}/file/example-private/documents/")
    assert urlsplit(target).path.endswith("/welcome.pdf")
    served = requests.get(target, timeout=10)  # no cookies: the URL alone authorizes
    assert served.status_code == 200
    assert served.content.startswith(b"%PDF-1.4\n") and b"(Welcome!) Tj" in served.content
    disposition = served.headers.get("content-disposition", "")
    assert disposition.startswith("attachment") == (kind == "download"), disposition


def test_refusals_under_asgi(asgi_site: AsgiSite, staff: requests.Session) -> None:
    page = staff.get(asgi_site.at("/files/documents/"), timeout=10)
    link = links(page.text, "Welcome")["file"]
    answer = staff.get(asgi_site.at(tamper(link)), allow_redirects=False, timeout=10)
    assert answer.status_code == 403 and answer.headers["x-b2-access"] == "invalid"

    answer = staff.post(asgi_site.at(link), allow_redirects=False, timeout=10)
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, HEAD"

    # the demo user's private file (the only one in the fresh database), asked for by staff
    private = staff.get(asgi_site.at("/private/1/download/"), allow_redirects=False, timeout=10)
    assert private.status_code == 403
    assert "belongs to someone else" in private.text
