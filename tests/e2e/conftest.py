"""End-to-end fixtures: the example site in a subprocess (``python -m example.serve``) and a real
Chromium driven by Playwright, one fresh browser context per page.

Without Chromium or Playwright the browser tests are skipped, except in CI (``CI`` set), where
they fail: a CI run that silently skipped them would prove nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

from .processes import REPO, ServerProcess, example_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Response

ARTIFACTS = REPO / "test-artifacts" / "e2e"
USERS = {"demo": "demo-password", "staff": "staff-password"}
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
VIEWPORT = {"width": 1100, "height": 700}


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail in CI: a missing browser or server must not pass silently there."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def tamper(link: str) -> str:
    """Return ``link`` with the first character of its signature changed."""
    token, _, quoted = link.removeprefix("/b2/").partition("/")
    payload, timestamp, signature = token.split(".")
    first = "A" if signature[0] != "A" else "B"
    return f"/b2/{payload}.{timestamp}.{first}{signature[1:]}/{quoted}"


@dataclass(frozen=True)
class Site:
    """The running example: its base URL (ending in ``/``) and the local B2 server's realm."""

    url: str
    b2: str
    process: ServerProcess

    def at(self, path: str) -> str:
        return self.url + path.lstrip("/")

    @property
    def b2_netloc(self) -> str:
        return urlsplit(self.b2).netloc


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Start ``python -m example.serve`` on free ports with fresh data; Ctrl-C it at the end."""
    data = tmp_path_factory.mktemp("example-site")
    args = [sys.executable, "-m", "example.serve", "--port", "0", "--data-dir", str(data)]
    server = ServerProcess("example.serve", args, example_env(), data / "serve.log")
    try:
        url = server.wait_for(r"Example site: (http://\S+/)").group(1)
        b2 = server.wait_for(r"local B2:\s+(http://[^\s/]+)").group(1)
        server.wait_listening(url)
        yield Site(url, b2, server)
    finally:
        code = server.interrupt()
    server.assert_stopped_cleanly(code)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Launch the system Chromium (headless) through Playwright, once per session."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        unavailable(f"Playwright for Python is not installed: {exc}")
    if not Path(CHROMIUM).is_file() or not os.access(CHROMIUM, os.X_OK):
        unavailable(f"No Chromium at {CHROMIUM} (set E2E_CHROMIUM to another one)")
    manager = sync_playwright().start()
    try:
        launched = manager.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:
        manager.stop()
        unavailable(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
    yield launched
    launched.close()
    manager.stop()


@dataclass
class Exchange:
    """One HTTP response the browser saw, with what mattered of its request."""

    method: str
    url: str
    status: int
    range: str | None
    headers: dict[str, str]

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    @property
    def path(self) -> str:
        return urlsplit(self.url).path


@dataclass
class NetLog:
    """Every http(s) response of a page, in order (redirect responses included)."""

    exchanges: list[Exchange] = field(default_factory=list)

    def record(self, response: Response) -> None:
        if response.url.startswith("http"):
            request = response.request
            self.exchanges.append(
                Exchange(
                    request.method,
                    response.url,
                    response.status,
                    request.headers.get("range"),
                    dict(response.headers),
                )
            )

    def on(self, netloc: str, path_prefix: str = "/") -> list[Exchange]:
        return [e for e in self.exchanges if e.netloc == netloc and e.path.startswith(path_prefix)]


Browse = Callable[..., "tuple[Page, NetLog]"]


def log_in(page: Page, site: Site, username: str) -> None:
    """Log in through the login form (the page ends wherever ``next`` or the site sends it)."""
    if "/accounts/login/" not in page.url:
        page.goto(site.at("/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", USERS[username])

    def is_login_post(response: Response) -> bool:
        return response.request.method == "POST" and "/accounts/login/" in response.url

    with page.expect_response(is_login_post) as posted:
        page.get_by_role("button", name="Log in").click()
    if posted.value.status != 302:  # the form came back: wrong credentials
        page.wait_for_load_state()
        errors = page.locator(".errorlist").all_inner_texts()
        pytest.fail(f"Logging in as {username!r} failed ({posted.value.status}): {errors}")


@pytest.fixture
def browse(browser: Browser, site: Site) -> Iterator[Browse]:
    """Return ``browse(user=None)``: ``(page, net)``, a page in a fresh browser context (logged
    in as ``user``) and the log of its HTTP responses."""
    contexts: list[Any] = []

    def new_page(user: str | None = None) -> tuple[Page, NetLog]:
        context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
        context.set_default_timeout(30_000)  # generous: CI machines are busy
        contexts.append(context)
        page = context.new_page()
        net = NetLog()
        page.on("response", net.record)
        if user is not None:
            log_in(page, site, user)
            page.wait_for_url(site.url)
            assert page.locator("#whoami").inner_text().startswith(user)
        return page, net

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Return the (git-ignored) directory for screenshots of this run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def publish_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot to docs/screenshots for the README: when missing, or when
    ``E2E_UPDATE_SCREENSHOTS=1`` (so test runs do not rewrite tracked files)."""
    target = REPO / "docs" / "screenshots" / name
    if os.environ.get("E2E_UPDATE_SCREENSHOTS") == "1" or not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
