"""Hostile signed links at scale (hypothesis): the link parser, and the resolver behind the
middleware.

Two fuzzers share one set of mutations of a link's ``token/name`` text:

* ``parser``: :meth:`UrlSigner.unsign` on mutated (token, name) pairs of random grants, signed with
  the newest or a fallback key. Accepted only when the pair is exactly a genuine one (the name is
  the B2 name, byte for byte: an NFD spelling of an NFC name is another file), and then it returns
  exactly that grant; anything else is :class:`InvalidToken` (expired: :class:`TokenExpired`),
  never another exception.
* ``resolver``: GETs of mutated links through Django's test client and the middleware (the raw
  WSGI ``PATH_INFO``, so encoded separators and broken UTF-8 arrive as a server would pass them).
  A 302 to B2 only when Django's decoded path is that of a genuine link, and then to that link's
  own B2 URL (the query string, the method or the Host change nothing); never a 500, never a
  redirect anywhere else (``//evil.com``, ``\\\\evil.com``, ``https:``).
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import pytest
from django.core.handlers.wsgi import get_path_info
from django.test import Client
from hypothesis import example, given, settings
from hypothesis import strategies as st
from itsdangerous.encoding import base64_decode, bytes_to_int

from b2_access import PublicStorage, StaffStorage
from b2_access.exceptions import InvalidToken, TokenExpired
from b2_access.signing import Grant, UrlSigner
from b2_storage.emulator import LocalB2
from tests.b2_access.conftest import new_bucket, put

from .conftest import Tally, fuzz_settings

pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)

# -- the mutations (shared by both fuzzers) -----------------------------------------------------
JUNK = [
    "%2F",
    "%2f",
    "%252F",
    "%2e%2e",
    "%2E%2E/",
    "..",
    ".",
    "/",
    "//",
    "\\",
    "%5C",
    "%00",
    "%20",
    "~",
    "=",
    "==",
    ".",
    "%3D",
    ";",
    "?",
    "#",
    "+",
    " ",
    "\t",
    "é",
    "\u0301",
    "\ufeff",
    "%C3",
    "%u002F",
    "%c0%af",
    "b2/",
    "/b2/",
    "%2Fb2%2F",
]
CONTROL = [chr(c) for c in (*range(0x20), 0x7F, 0x85, 0xA0, 0x2028, 0x2029, 0x200B, 0x202E)]
REDIRECTS = [
    "//evil.com",
    "\\\\evil.com",
    "/\\evil.com",
    "https://evil.com",
    "https:evil.com",
    "http:\\\\evil.com",
    "//evil.com/%2F..",
    "/%2F%2Fevil.com",
    "%2F%2Fevil.com",
    "@evil.com",
    "javascript:alert(1)",
    "\\/evil.com",
]
NORMAL_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def bit_flip(text: str, index: int, bit: int) -> bytes:
    """Return the UTF-8 bytes of ``text`` with one bit flipped (the result may be broken UTF-8)."""
    raw = bytearray(text.encode())
    raw[index % len(raw)] ^= 1 << bit
    return bytes(raw)


def insert(text: str, index: int, piece: str) -> str:
    index %= len(text) + 1
    return text[:index] + piece + text[index:]


@st.composite
def mutate(draw: st.DrawFn, link: str, others: list[str]) -> tuple[str, bytes]:
    """Return ``(kind, mutated bytes)`` of ``link`` (``token/name`` text, already decoded);
    ``others`` are other genuine links to take fields from."""
    kind = draw(
        st.sampled_from(
            [
                "bit flip",
                "truncate",
                "pad",
                "swap fields",
                "separator",
                "overlong",
                "control",
                "normalise",
                "double prefix",
                "redirect",
                "case",
                "drop char",
                "duplicate",
                "encode",
            ]
        )
    )
    index = draw(st.integers(0, 10_000), label="index")
    if kind == "bit flip":
        return kind, bit_flip(link, index, draw(st.integers(0, 7), label="bit"))
    if kind == "truncate":
        cut = index % (len(link) + 1)
        return kind, (link[:cut] if draw(st.booleans()) else link[cut:]).encode()
    if kind == "pad":
        pad = draw(st.text(st.sampled_from("=.~/ _-A0é%"), min_size=1, max_size=8))
        return kind, (pad + link if draw(st.booleans()) else link + pad).encode()
    if kind == "swap fields":
        return kind, swap(draw, link, others).encode()
    if kind == "separator":
        pieces = draw(st.lists(st.sampled_from(JUNK), min_size=1, max_size=3))
        return kind, insert(link, index, "".join(pieces)).encode()
    if kind == "overlong":
        times = draw(st.sampled_from([2, 10, 100, 1000]))
        where = draw(st.sampled_from(["token", "name", "whole", "filler"]))
        token, _, name = link.partition("/")
        if where == "token":
            return kind, f"{token * times}/{name}".encode()
        if where == "name":
            return kind, f"{token}/{name * times}".encode()
        if where == "filler":
            return kind, insert(link, index, "A" * (times * 10)).encode()
        return kind, "/".join([link] * times).encode()
    if kind == "control":
        return kind, insert(link, index, draw(st.sampled_from(CONTROL))).encode()
    if kind == "normalise":
        token, _, name = link.partition("/")
        form = draw(st.sampled_from(NORMAL_FORMS))
        return kind, f"{token}/{unicodedata.normalize(form, name)}".encode()
    if kind == "double prefix":
        return kind, draw(
            st.sampled_from(["b2/", "/b2/", "b2//", "./", "/", "b2/b2/"])
        ).encode() + (link.encode())
    if kind == "redirect":
        target = draw(st.sampled_from(REDIRECTS))
        token, _, name = link.partition("/")
        where = draw(st.sampled_from(["token", "name", "before", "after"]))
        built = {
            "token": f"{target}/{name}",
            "name": f"{token}/{target}",
            "before": f"{target}/{link}",
            "after": f"{link}/{target}",
        }[where]
        return kind, built.encode()
    if kind == "case":
        position = index % len(link)
        return kind, (link[:position] + link[position].swapcase() + link[position + 1 :]).encode()
    if kind == "drop char":
        position = index % len(link)
        return kind, (link[:position] + link[position + 1 :]).encode()
    if kind == "duplicate":
        position = index % len(link)
        return kind, (link[:position] + link[position] + link[position:]).encode()
    # "encode": percent-encode one character (a client's spelling, decoded by the server once:
    # what arrives here is the literal "%XX", which is another name)
    position = index % len(link)
    quoted = "".join(f"%{b:02X}" for b in link[position].encode())
    return kind, (link[:position] + quoted + link[position + 1 :]).encode()


def swap(draw: st.DrawFn, link: str, others: list[str]) -> str:
    """Take one or more fields (payload, timestamp, signature, name) from another link."""
    other = draw(st.sampled_from(others), label="other link")
    token, _, name = link.partition("/")
    other_token, _, other_name = other.partition("/")
    mine = [*token.split("."), name]
    theirs = [*other_token.split("."), other_name]
    if len(mine) != 4 or len(theirs) != 4:
        return other
    taken = draw(st.sets(st.integers(0, 3), min_size=1, max_size=3), label="fields taken")
    fields = [theirs[i] if i in taken else mine[i] for i in range(4)]
    return f"{fields[0]}.{fields[1]}.{fields[2]}/{fields[3]}"


def decoded(raw: bytes) -> str:
    """Return the text Django makes of raw path bytes (broken UTF-8 re-percent-encoded)."""
    return get_path_info({"PATH_INFO": raw.decode("latin-1")})


# -- the parser fuzzer --------------------------------------------------------------------------
KEYS = ["older-key-" + "o" * 40, "newest-key-" + "n" * 40]  # oldest -> newest
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
grants = st.builds(
    Grant,
    storage=st.text(string.hexdigits.lower(), min_size=1, max_size=12),
    name=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60),
    tier=st.sampled_from(["public", "logged_in", "staff", "custom"]) | text,
    expires=st.integers(1, 7 * 24 * 3600),
    attachment=st.booleans(),
    filename=st.none() | text.filter(bool),
    cache_control=st.none() | text.filter(bool),
    user=st.none() | st.integers(1, 10**9).map(str) | text,
)


def sign(grant: Grant, key: list[str]) -> str:
    """Return ``token/name`` of ``grant`` signed now with ``key``."""
    return f"{UrlSigner(key).sign(grant)}/{grant.name}"


def signed_at(link: str) -> datetime:
    """Return when ``link`` was signed (its timestamp field: whole seconds)."""
    stamp = link.partition("/")[0].split(".")[1]
    return datetime.fromtimestamp(bytes_to_int(base64_decode(stamp)), tz=timezone.utc)


@dataclass
class Verdict:
    grant: Grant | None
    error: type[Exception] | None


def unsign(signer: UrlSigner, raw: bytes, now: datetime) -> Verdict:
    """Parse ``raw`` as the resolver does (token, then the name after the first slash)."""
    token, _, name = decoded(raw).partition("/")
    try:
        return Verdict(signer.unsign(token, name, now=now), None)
    except InvalidToken as exc:  # TokenExpired is one
        return Verdict(None, type(exc))


@fuzz_settings(1500)
@given(data=st.data(), grant=grants, other=grants, newest=st.booleans())
def test_parser_accepts_only_genuine_pairs(
    tally: Tally, data: st.DataObject, grant: Grant, other: Grant, newest: bool
) -> None:
    tally.fuzzer = "parser"
    signer = UrlSigner(KEYS)
    link = sign(grant, KEYS if newest else KEYS[:1])  # a fallback key's links stay valid
    genuine = {link: grant, sign(other, KEYS): other}
    stranger = sign(grant, ["another-site-key-" + "x" * 40])  # the same grant, another key
    now = signed_at(link) + timedelta(seconds=1)
    for _ in range(4):  # several mutations of each link: generating grants costs the most
        kind, raw = data.draw(mutate(link, [*genuine, stranger]), label="mutation")
        tally.add(kind)
        verdict = unsign(signer, raw, now)
        pair = decoded(raw)
        if pair in genuine:
            assert verdict.grant == genuine[pair], (kind, raw, verdict)
        else:
            assert verdict.grant is None, f"{kind}: mutated link accepted: {raw!r} -> {verdict}"
            assert verdict.error is InvalidToken, (kind, raw, verdict)


@fuzz_settings(600)
@given(grant=grants, seconds=st.integers(-3600, 8 * 24 * 3600) | st.integers(-70, 70))
def test_parser_expiry_boundaries(tally: Tally, grant: Grant, seconds: int) -> None:
    """A genuine link is valid from 60 s before it was signed (clock skew) to ``expires`` after."""
    tally.fuzzer = "parser"
    tally.add("clock")
    link = sign(grant, KEYS)
    verdict = unsign(UrlSigner(KEYS), link.encode(), signed_at(link) + timedelta(seconds=seconds))
    if -60 <= seconds <= grant.expires:
        assert verdict.grant == grant, (seconds, verdict)
    else:
        assert verdict.error is TokenExpired, (seconds, grant.expires, verdict)


# -- the resolver fuzzer ------------------------------------------------------------------------
NAMES = [
    "docs/report 2024.pdf",
    "docs/caf\u00e9.txt",
    "docs/cafe\u0301-nfd.txt",
    "docs/a~b.txt",
    "docs/100%.txt",
    "docs/\ufb01le.txt",
    "docs/a.b.c",
    "docs/x+y=z;q.txt",
    "r\u00e9sum\u00e9",
]
QUERIES = [
    "",
    "b2ContentDisposition=attachment%3Bfilename%3Devil.html",
    "b2ContentType=text/html",
    "Authorization=4_dnldAAAA.BBBB",
    "next=//evil.com",
    "redirect=https://evil.com",
    "url=%2F%2Fevil.com",
    "a=1&a=2",
    "%00=%00",
    "b2CacheControl=public",
]
HOSTS = ["testserver", "evil.com", "127.0.0.1"]


@dataclass
class Site:
    """Genuine links (decoded ``token/name`` text) and where each one redirects an anonymous
    visitor (a B2 URL, or the login page for the staff link)."""

    links: list[str]
    locations: dict[str, str]  # decoded path -> Location of its 302
    b2_url: str  # every B2 redirect starts with this


def request(client: Client, raw_path: bytes, query: str, method: str, host: str) -> Any:
    """Send a request with the raw WSGI ``PATH_INFO`` bytes (as a server passes them)."""
    return client.request(
        PATH_INFO=raw_path.decode("latin-1"),
        QUERY_STRING=query,
        REQUEST_METHOD=method,
        HTTP_HOST=host,
    )


@pytest.fixture
def site(b2_server: LocalB2, db: None) -> Site:
    bucket, staff_bucket = new_bucket(b2_server), new_bucket(b2_server)
    public = PublicStorage(**b2_server.storage_options(bucket, location="alpha"))
    other = PublicStorage(**b2_server.storage_options(bucket, location="beta"))
    staff = StaffStorage(**b2_server.storage_options(staff_bucket, location="alpha"))
    links = [public.url(put(public, name, name.encode())) for name in NAMES]
    links.append(other.url(put(other, NAMES[0], b"other storage, same name")))
    links.append(staff.url(put(staff, NAMES[0], b"staff")))
    links.append(public.url("docs/never-saved.txt"))  # genuine, but 404 missing
    client = Client(raise_request_exception=False)
    locations = {}
    for link in links:
        response = client.get(link)
        assert response.status_code in (302, 404), (link, response.status_code)
        if response.status_code == 302:
            locations[unquote(link)] = response["Location"]
    assert sum("/file/" in loc for loc in locations.values()) == len(NAMES) + 1
    return Site(
        [unquote(link).removeprefix("/b2/") for link in links],
        locations,
        f"{b2_server.realm}/file/",
    )


@fuzz_settings(2000)
@given(data=st.data())
@example(data=None)
def test_resolver_redirects_only_genuine_links(tally: Tally, site: Site, data: Any) -> None:
    tally.fuzzer = "resolver"
    client = Client(raise_request_exception=False)
    if data is None:  # explicit attempts, once
        for raw in explicit_paths(site):
            check_click(site, client, raw, "", "GET", "testserver")
        tally.add("explicit", len(explicit_paths(site)))
        return
    for _ in range(2):
        link = data.draw(st.sampled_from(site.links), label="link")
        mutated = data.draw(st.sampled_from([True] * 9 + [False]), label="mutated")
        kind, raw = (
            data.draw(mutate(link, site.links), label="mutation") if mutated else ("none", b"")
        )
        prefix = data.draw(st.sampled_from([b"/b2/"] * 6 + [b"/b2", b"//b2/", b"/B2/", b"/b2/b2/"]))
        raw = prefix + (raw if mutated else link.encode())
        query = data.draw(st.sampled_from(QUERIES), label="query")
        method = data.draw(st.sampled_from(["GET"] * 8 + ["HEAD", "POST", "OPTIONS", "DELETE"]))
        host = data.draw(st.sampled_from(HOSTS), label="host")
        tally.add(kind)
        check_click(site, client, raw, query, method, host)


def explicit_paths(site: Site) -> list[bytes]:
    link = site.links[0]
    token, _, name = link.partition("/")
    nfc_token, _, nfc_name = site.links[1].partition("/")  # "café" saved in NFC
    nfd_token, _, nfd_name = site.links[2].partition("/")  # "café" saved in NFD
    return [
        f"/b2//b2/{link}".encode(),
        f"/b2/{token}//{name}".encode(),
        f"/b2/{token}".encode(),
        f"/b2/{token}/".encode(),
        b"/b2/",
        b"/b2//evil.com",
        b"/b2/\\\\evil.com/x",
        f"/b2/{nfc_token}/{unicodedata.normalize('NFD', nfc_name)}".encode(),
        f"/b2/{nfd_token}/{unicodedata.normalize('NFC', nfd_name)}".encode(),
        f"/b2/{token}/{name}\x00".encode(),
        f"/b2/{token}/{name}".encode() + b"\xff",
        f"/b2/{token}/{name.replace('/', '%2F')}".encode(),
        f"/b2/{token}/{name.replace(' ', '%20')}".encode(),
        f"/b2/{token}/{name}".encode() * 2,
        ("/b2/" + token + "/" + "a" * 100_000).encode(),
    ]


def check_click(site: Site, client: Client, raw: bytes, query: str, method: str, host: str) -> None:
    response = request(client, raw, query, method, host)
    status = response.status_code
    path = decoded(raw)
    shown = f"{method} {raw[:300]!r}?{query} Host: {host} -> {status}"
    assert status != 500, f"500 for {shown}"
    assert status in (200, 302, 400, 403, 404, 405), shown
    if method not in ("GET", "HEAD") and path.startswith("/b2/"):
        assert status == 405, shown
    if status == 200:  # routed out of the prefix by the mutation: only the stand-in login page
        assert path == "/accounts/login/", shown
    if status != 302:
        return
    location = response["Location"]
    expected = site.locations.get(path)
    assert expected is not None, f"a mutated link was followed: {shown} Location: {location}"
    if expected.startswith("/accounts/login/?next="):  # the staff link: back here after login
        assert location.startswith(expected), f"another login redirect: {shown}: {location}"
        return
    assert location == expected, f"another redirect for the same link: {shown}: {location}"
    assert location.startswith(site.b2_url), location


# Sanity: the mutations are mostly not no-ops (else the fuzzer would test little).
def test_mutations_change_the_link() -> None:
    link = sign(Grant("abc", "docs/caf\u00e9.txt", "public", 300), KEYS)
    changed = 0
    samples: list[tuple[str, bytes]] = []

    # Always 200 examples, derandomized: a pure computation, and a ratio needs a real sample.
    @settings(fuzz_settings(200), max_examples=200, derandomize=True)
    @given(mutate(link, [link]))
    def collect(sample: tuple[str, bytes]) -> None:
        samples.append(sample)

    collect()
    changed = sum(raw != link.encode() for _, raw in samples)
    assert changed >= 0.75 * len(samples)
