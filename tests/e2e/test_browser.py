"""The example site in a real Chromium: signed Django links that redirect, bytes that come from
the local B2 server, a video that seeks with Range requests, and every refusal a user can meet."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

import pytest
import requests
from itsdangerous import TimestampSigner

from b2_access.conf import AccessSettings
from b2_access.signing import NAME_SEPARATOR

from .conftest import Browse, NetLog, Site, log_in, publish_screenshot, tamper
from .processes import SECRET_KEY

if TYPE_CHECKING:  # Playwright itself is imported (or found missing) by the browser fixture
    from playwright.sync_api import Page

WELCOME = "Welcome"
ATTACHMENT = "Rechnung März 2026 – naïve.pdf"  # the title; the stored name is Django's version
SEEK_TO = 45  # seconds into the 60 s tone
SEEK = """seconds => new Promise(done => {
  const player = document.getElementById('player');
  player.addEventListener('seeked', () => done(player.currentTime), {once: true});
  player.currentTime = seconds;
})"""
VIDEO_BYTES = (
    (Path(__file__).resolve().parents[2] / "example/files/samples/rising-tone.webm").stat().st_size
)  # demo.py's video


def row(title: str) -> str:
    """Return the selector of the file list's row titled ``title``."""
    return f'#files li[data-title="{title}"]'


def href(page: Page, title: str, link: str = "a.file") -> str:
    """Return the href of ``link`` in the row titled ``title`` (the page must be open)."""
    value = page.locator(f"{row(title)} {link}").get_attribute("href")
    assert value, f"no {link} for {title!r}"
    return value


def check_redirect_then_b2(net: NetLog, site: Site, b2_path: str) -> list[int]:
    """Check the log: Django answered the (last) signed link with an empty 302 to B2, and B2
    served ``b2_path``; return the statuses of B2's answers."""
    django = net.on(urlsplit(site.url).netloc, "/b2/")
    b2 = net.on(site.b2_netloc, b2_path)
    assert django, f"no signed /b2/ link was requested: {net.exchanges}"
    assert django[-1].status == 302, django[-1]
    assert django[-1].headers.get("content-length") == "0", django[-1].headers
    assert django[-1].headers["location"].startswith(f"{site.b2}{b2_path}"), django[-1].headers
    assert b2, f"nothing came from the local B2 server {site.b2}: {net.exchanges}"
    return [exchange.status for exchange in b2]


def test_avatars_render_from_the_public_bucket(browse: Browse, site: Site) -> None:
    page, net = browse()
    page.goto(site.at("/files/avatars/"))
    page.wait_for_function(
        "[...document.querySelectorAll('img.avatar')].every(img => img.complete)"
    )
    images = page.eval_on_selector_all(
        "img.avatar", "imgs => imgs.map(i => [i.alt, i.src, i.naturalWidth, i.naturalHeight])"
    )
    assert sorted(alt for alt, *_ in images) == ["Ada", "Grace"]
    for alt, src, width, height in images:
        assert src.startswith(f"{site.b2}/file/example-public/avatars/"), (alt, src)
        assert (width, height) == (128, 128), (alt, width, height)
    b2 = net.on(site.b2_netloc, "/file/example-public/avatars/")
    assert sorted(e.status for e in b2) == [200, 200]
    assert {e.headers.get("content-type") for e in b2} == {"image/png"}
    assert not net.on(urlsplit(site.url).netloc, "/b2/"), "public files need no signed link"


def test_login_then_back_to_the_document_on_b2(browse: Browse, site: Site) -> None:
    owner, _ = browse("demo")
    owner.goto(site.at("/files/documents/"))
    link = href(owner, WELCOME)  # a link that reached an anonymous visitor (say, by mail)
    page, net = browse()
    page.goto(site.at(link))
    page.wait_for_url(re.compile(r"/accounts/login/\?next="))
    assert unquote(urlsplit(page.url).query) == f"next={unquote(link)}"
    first = net.on(urlsplit(site.url).netloc, "/b2/")
    assert [e.status for e in first] == [302]
    assert first[0].headers["location"].startswith("/accounts/login/?next=/b2/")

    log_in(page, site, "demo")
    prefix = f"{site.b2}/file/example-private/documents/"
    page.wait_for_url(lambda url: url.startswith(prefix))
    assert urlsplit(page.url).path.endswith("/welcome.pdf"), page.url
    statuses = check_redirect_then_b2(net, site, "/file/example-private/documents/")
    assert statuses and set(statuses) == {200}  # (the PDF viewer may fetch it once more)
    served = net.on(site.b2_netloc, "/file/example-private/documents/")[0]
    assert served.headers.get("content-type") == "application/pdf"


def test_download_comes_from_b2_not_django(browse: Browse, site: Site) -> None:
    page, net = browse("demo")
    page.goto(site.at("/files/documents/"))
    with page.expect_download() as started:
        page.click(f"{row(WELCOME)} a.download")
    download = started.value
    saved = Path(download.path()).read_bytes()
    assert download.suggested_filename == "welcome.pdf"
    assert saved.startswith(b"%PDF-1.4\n") and b"(Welcome!) Tj" in saved
    assert saved.rstrip().endswith(b"%%EOF")

    assert download.url.startswith(f"{site.b2}/file/example-private/documents/"), download.url
    again = requests.get(download.url, timeout=10)  # the same B2 URL, outside the browser
    assert again.status_code == 200
    assert hashlib.sha256(again.content).hexdigest() == hashlib.sha256(saved).hexdigest()
    assert check_redirect_then_b2(net, site, "/file/example-private/documents/") == [200]
    served = net.on(site.b2_netloc, "/file/example-private/documents/")[0]
    assert served.headers.get("content-length") == str(len(saved))
    assert served.headers.get("content-disposition", "").startswith("attachment")


def test_non_ascii_attachment_keeps_its_name(browse: Browse, site: Site) -> None:
    page, _net = browse("demo")
    page.goto(site.at("/files/documents/"))
    stored = unquote(href(page, ATTACHMENT, "a.download").rsplit("/", 1)[1])
    assert "ä" in stored and "ï" in stored, stored  # the name really is non-ASCII
    with page.expect_download() as started:
        page.click(f"{row(ATTACHMENT)} a.download")
    download = started.value
    assert download.suggested_filename == stored
    saved = Path(download.path()).read_bytes()
    assert saved.startswith(b"%PDF-1.4\n") and b"(Rechnung Maerz 2026) Tj" in saved


def test_video_seeks_with_range_requests_to_b2(browse: Browse, site: Site) -> None:
    page, net = browse("demo")
    page.goto(site.at("/files/videos/"))
    page.click('#files a.file:has-text("A rising tone")')
    page.wait_for_url(re.compile(r"/videos/\d+/$"))
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(60, 0.01)

    position = page.evaluate(SEEK, SEEK_TO)
    assert position == pytest.approx(SEEK_TO, abs=0.1)
    # The bytes at 45 s are there to play: fetched from B2, by a Range request of the player's
    # (Chromium reads the cues at the end, then streams on from its own offset; a seek within
    # what is streaming needs no new request).
    page.wait_for_function("document.getElementById('player').readyState >= 3")
    video = net.on(site.b2_netloc, "/file/example-private/videos/")
    assert video and all(e.status == 206 for e in video), [(e.status, e.range) for e in video]
    starts = [
        int(m.group(1)) for e in video if e.range and (m := re.match(r"bytes=(\d+)-", e.range))
    ]
    assert any(0 < start < VIDEO_BYTES for start in starts), [(e.status, e.range) for e in video]
    for exchange in video:
        total = re.fullmatch(r"bytes \d+-\d+/(\d+)", exchange.headers["content-range"])
        assert total and int(total.group(1)) == VIDEO_BYTES, exchange.headers
    django = net.on(urlsplit(site.url).netloc)
    assert not [e.url for e in django if e.headers.get("content-type", "").startswith("video/")]


def test_staff_report_is_refused_to_a_subscriber(browse: Browse, site: Site) -> None:
    staff, _ = browse("staff")
    staff.goto(site.at("/files/reports/"))
    link = href(staff, "Quarterly report")  # a staff link, forwarded to a non-staff user
    page, _net = browse("demo")
    page.goto(site.at("/files/reports/"))
    assert page.locator("#not-for-you").is_visible()  # no links, no upload form for them
    assert page.locator("form.upload").count() == 0
    response = page.goto(site.at(link))
    assert response is not None and response.status == 403
    assert response.headers.get("x-b2-access") == "tier"
    assert "Your account may not open this file." in page.content()


def resign(link: str, *, age: int) -> str:
    """Return ``link`` signed again with the site's key as if ``age`` seconds ago (the example
    keeps the default salt; the signed value is the token's payload and the file name)."""
    token, _, quoted = link.removeprefix("/b2/").partition("/")
    payload = token.split(".")[0]

    class Backdated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age

    signer = Backdated(SECRET_KEY, salt=AccessSettings().salt, digest_method=hashlib.sha256)
    signed = signer.sign(f"{payload}{NAME_SEPARATOR}{unquote(quoted)}").decode()
    timestamp, signature = signed.rsplit(".", 2)[1:]
    return f"/b2/{payload}.{timestamp}.{signature}/{quoted}"


@pytest.mark.parametrize(
    ("mangle", "reason", "words"),
    [
        (lambda link: resign(link, age=3600), "expired", "This link has expired."),
        (tamper, "invalid", "This link is not valid."),
    ],
    ids=["expired", "tampered"],
)
def test_broken_links_are_refused(
    browse: Browse, site: Site, mangle: Callable[[str], str], reason: str, words: str
) -> None:
    page, net = browse("demo")
    page.goto(site.at("/files/documents/"))
    link = href(page, WELCOME)
    control = page.request.get(site.at(resign(link, age=0)), max_redirects=0)
    assert control.status == 302, "re-signing a link now must give a working link"
    assert control.headers["location"].startswith(f"{site.b2}/file/example-private/documents/")
    response = page.goto(site.at(mangle(link)))
    assert response is not None and response.status == 403
    assert response.headers.get("x-b2-access") == reason
    assert words in page.locator("body").inner_text()
    assert not net.on(site.b2_netloc)


@pytest.mark.parametrize("kind", ["documents", "reports", "private", "videos"])
def test_anonymous_visitors_are_asked_to_log_in(browse: Browse, site: Site, kind: str) -> None:
    page, _net = browse()
    page.goto(site.at(f"/files/{kind}/"))
    assert page.locator("#log-in-first").is_visible()
    assert page.locator("#files a.file").count() == 0 and page.locator("form.upload").count() == 0


def test_private_file_only_for_its_owner(browse: Browse, site: Site) -> None:
    owner, _net = browse("demo")
    owner.goto(site.at("/files/private/"))
    path = href(owner, "Demo's private notes")
    assert re.fullmatch(r"/private/\d+/download/", path), path

    other, other_net = browse("staff")
    refused = other.goto(site.at(path))
    assert refused is not None and refused.status == 403
    # The view raises PermissionDenied: the site's handler403 renders its styled 403.html.
    assert other.locator("#refusal-reason").inner_text() == "This file belongs to someone else."
    assert other.get_by_role("link", name="Go back").is_visible()
    assert other.eval_on_selector("main", "m => getComputedStyle(m).maxWidth") == "860px"
    assert not other_net.on(site.b2_netloc)

    served = owner.goto(site.at(path))
    assert served is not None and served.status == 200
    assert served.url.startswith(f"{site.b2}/file/example-private/private/"), served.url
    assert served.body() == b"Only the demo user may read this.\n"
    # The owner-only storage keeps each file in its own random folder, and the B2 URL covers
    # that folder only: with the same Authorization, no other name in the bucket opens.
    path, _, query = served.url.partition("?")
    folder = re.fullmatch(r".*/private/\d{4}/([a-z2-7]{20})/[^/]+", path)
    assert folder is not None, path
    for other in (
        path.replace(folder[1], "a" * 20),
        path.replace(f"/{folder[1]}", ""),
        path.replace("/private/", "/documents/"),
    ):
        assert owner.request.get(f"{other}?{query}").status == 401, other


def test_screenshots_of_the_main_pages(browse: Browse, site: Site, artifacts: Path) -> None:
    page, _net = browse("demo")
    shots: dict[str, Path] = {}
    pages = {
        "home": "/",
        "avatars": "/files/avatars/",
        "documents": "/files/documents/",
        "videos": "/files/videos/",
    }
    for name, path in pages.items():
        page.goto(site.at(path))
        page.wait_for_load_state("networkidle")
        if name == "avatars":
            page.wait_for_function(
                "[...document.querySelectorAll('img.avatar')].every(i => i.naturalWidth > 0)"
            )
        shots[name] = artifacts / f"{name}.png"
        page.screenshot(path=shots[name], full_page=True)
    page.click("#files a.file")
    page.wait_for_url(re.compile(r"/videos/\d+/$"))
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    shots["video"] = artifacts / "video.png"
    page.screenshot(path=shots["video"], full_page=True)
    for shot in shots.values():
        assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), shot
    publish_screenshot(shots["documents"], "documents.png")
    publish_screenshot(shots["avatars"], "avatars.png")
