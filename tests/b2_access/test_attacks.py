"""Attacks on signed links (hypothesis): a link opens its own file for its own tier, and nothing
else; every other path under the prefix gets 403 (or 404 outside it), never a 302 or a 500."""

from __future__ import annotations

import string
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import Client
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from b2_access import PublicStorage, SignedB2Storage, StaffStorage
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, new_bucket, put

# On a failing example hypothesis imports libcst, which warns about mypy_extensions.TypedDict;
# under filterwarnings=error that aborted the whole session instead of reporting the failure.
pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)
FAST = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NAME = "dir/sub/report 2024.pdf"
URL_CHARS = string.ascii_letters + string.digits + "-_.~/%?#;=&+:@!$'()*, \\é\x00"
names = (
    st.text(
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="/\\"),
        min_size=1,
        max_size=30,
    )
    .filter(lambda s: s not in (".", ".."))
    .map(lambda s: f"n/{s}")
)


def split(link: str) -> tuple[str, str]:
    """Return (token, quoted name) of a signed link."""
    token, _, quoted = link.removeprefix("/b2/").partition("/")
    return token, quoted


def verdict(client: Client, path: str) -> int:
    response = client.get(path)
    assert response.status_code in (302, 403, 404), (path, response.status_code)
    if response.status_code == 302:
        assert "/file/" in response["Location"], path  # to B2, not to the login page
    return int(response.status_code)


@pytest.fixture
def staff_client(client: Client, staff_user: Any) -> Client:
    client.force_login(staff_user)
    return client


@pytest.fixture
def staff_link(make_storage: MakeStorage, staff_client: Client) -> str:
    storage = make_storage(StaffStorage)
    link = storage.url(put(storage, NAME, b"staff"))
    assert verdict(staff_client, link) == 302  # the genuine link works
    return link


@FAST
@given(index=st.integers(0, 10_000), char=st.sampled_from(URL_CHARS))
def test_any_single_character_change_of_the_token_is_refused(
    staff_client: Client, staff_link: str, index: int, char: str
) -> None:
    token, quoted = split(staff_link)
    index %= len(token)
    assume(char != token[index])
    mutated = token[:index] + char + token[index + 1 :]
    assert verdict(staff_client, f"/b2/{mutated}/{quoted}") == 403


B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def test_the_signature_has_one_spelling_only(staff_client: Client, staff_link: str) -> None:
    """The last base64 character of a 32-byte HMAC carries 2 unused bits, and itsdangerous's
    base64 decoding drops every character outside the alphabet (non-ASCII, NUL, space, "!")
    and accepts padding: each gives another valid spelling of the same link."""
    token, quoted = split(staff_link)
    payload, stamp, signature = token.split(".")
    last = B64URL.index(signature[-1])
    siblings = [B64URL[(last & ~3) | low] for low in range(4) if (last & ~3) | low != last]
    variants = [f"{signature[:-1]}{c}" for c in siblings]
    variants += [f"é{signature}", f"{signature[:10]}é{signature[10:]}", f"{signature}="]
    variants += [f"%00{signature}", f"{signature[:5]}%20{signature[5:]}", f"{signature}!"]
    accepted = [
        v for v in variants if verdict(staff_client, f"/b2/{payload}.{stamp}.{v}/{quoted}") != 403
    ]
    assert accepted == []


@FAST
@given(data=st.data())
def test_dropping_or_inserting_a_token_character_is_refused(
    staff_client: Client, staff_link: str, data: st.DataObject
) -> None:
    token, quoted = split(staff_link)
    index = data.draw(st.integers(0, len(token)), label="index")
    if data.draw(st.booleans(), label="drop"):
        assume(index < len(token))
        mutated = token[:index] + token[index + 1 :]
    else:
        mutated = token[:index] + data.draw(st.sampled_from(URL_CHARS)) + token[index:]
    assert verdict(staff_client, f"/b2/{mutated}/{quoted}") == 403


@FAST
@given(other=names)
@example(other=NAME.upper())
@example(other=NAME + " ")
@example(other=NAME.replace("/", "//"))
def test_another_name_under_a_genuine_token_is_refused(
    staff_client: Client, staff_link: str, other: str
) -> None:
    assume(other != NAME)
    token, _ = split(staff_link)
    assert verdict(staff_client, f"/b2/{token}/{quote(other)}") == 403


@pytest.fixture
def two_tiers(make_storage: MakeStorage, b2_server: LocalB2) -> tuple[StaffStorage, PublicStorage]:
    staff = make_storage(StaffStorage)
    public = make_storage(PublicStorage, bucket=new_bucket(b2_server))
    return staff, public  # type: ignore[return-value]


@FAST
@given(staff_name=names, public_name=names)
def test_tokens_do_not_move_between_tiers(
    client: Client,
    user: Any,
    two_tiers: tuple[SignedB2Storage, SignedB2Storage],
    staff_name: str,
    public_name: str,
) -> None:
    assume(staff_name != public_name)
    staff, public = two_tiers
    client.force_login(user)  # logged in, not staff: only public links open
    # Saved names may move into folders of their own (examples share the buckets): use them.
    staff_token, staff_quoted = split(staff.url(staff.save(staff_name, ContentFile(b"s"))))
    public_token, public_quoted = split(public.url(public.save(public_name, ContentFile(b"p"))))
    assert verdict(client, f"/b2/{public_token}/{public_quoted}") == 302
    assert verdict(client, f"/b2/{public_token}/{staff_quoted}") == 403
    assert verdict(client, f"/b2/{staff_token}/{public_quoted}") == 403


JUNK = [
    "..",
    ".",
    "%2F",
    "%2f",
    "%252F",
    "/",
    "//",
    "b2/",
    "/b2/",
    "%00",
    "%2E%2E",
    ";x",
    "?x=1",
    "#f",
    " ",
    "%20",
    "\\",
    "é",
    "%C3",
    "~",
    "..%2F",
    "%5C",
]


@FAST
@given(data=st.data())
@example(data=None)
def test_path_tricks_never_open_anything_but_the_signed_name(
    staff_client: Client, staff_link: str, data: st.DataObject | None
) -> None:
    if data is None:  # the explicit examples below, once
        token, quoted = split(staff_link)
        for path in [
            f"/b2/b2/{token}/{quoted}",
            f"/b2//{token}/{quoted}",
            f"/b2/{token}//{quoted}",
            f"/b2/{token}/./{quoted}",
            f"/b2/./{token}/{quoted}",
            f"/b2/{token}/dir/../{quoted}",
            f"/b2/{token}/{quoted}/",
            f"/b2/{token}/{quoted}/..",
            f"/b2/{token}/{quoted}%00",
            f"/b2/{token}/{quoted}.pdf",
        ]:
            assert verdict(staff_client, path) == 403, path
        return
    position = data.draw(st.integers(len("/b2"), len(staff_link)), label="position")
    junk = data.draw(st.lists(st.sampled_from(JUNK), min_size=1, max_size=3), label="junk")
    path = staff_link[:position] + "".join(junk) + staff_link[position:]
    status = verdict(staff_client, path)
    if status == 302:  # only when the path still decodes to exactly the signed link
        assert unquote(urlsplit(path).path) == unquote(staff_link), path


def test_decoded_slashes_and_query_strings_reach_the_same_file(
    staff_client: Client, staff_link: str
) -> None:
    token, quoted = split(staff_link)
    # WSGI decodes %2F before any code sees the path: this is the signed name, byte for byte.
    assert verdict(staff_client, f"/b2/{token}/{quoted.replace('/', '%2F')}") == 302
    assert verdict(staff_client, f"{staff_link}?utm=1") == 302


@pytest.mark.parametrize("name", ["../etc/passwd", "a/../b", "./a", "a//b", "/abs", "a/./b"])
def test_dot_segments_cannot_be_signed(storage: SignedB2Storage, name: str) -> None:
    with pytest.raises((SuspiciousFileOperation, ValueError)):
        storage.url(name)
