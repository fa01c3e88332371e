"""Signed links: round trip, key rotation, salts, expiry, and the shape of the URL."""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, unquote

import pytest
from freezegun import freeze_time

from b2_access import InvalidToken, PublicStorage, SignedB2Storage, TokenExpired
from b2_access.resolver import DownloadResolver
from b2_access.signing import Grant, UrlSigner
from b2_storage.emulator import LocalB2

from .conftest import MakeStorage, put

NOW = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
GRANT = Grant(
    storage="abcdef012345",
    name="reports/2024/q1 summary.pdf",
    tier="staff",
    expires=300,
    attachment=True,
    filename="Q1.pdf",
    cache_control="max-age=60",
    user="42",
)


def split_link(link: str, prefix: str = "/b2/") -> tuple[str, str]:
    """Return (token, name) of a signed link, as the middleware reads them."""
    assert link.startswith(prefix)
    token, _, quoted = link[len(prefix) :].partition("/")
    return token, unquote(quoted)


@pytest.mark.parametrize(
    "grant",
    [
        GRANT,
        Grant(storage="s", name="a", tier="public", expires=1),
        Grant(
            storage="s",
            name="dossier/été 🎉.txt",
            tier="logged_in",
            expires=604800,
            filename="résumé.pdf",
        ),
    ],
)
def test_round_trip(grant: Grant) -> None:
    signer = UrlSigner(["k1"])
    token = signer.sign(grant)
    payload = base64.urlsafe_b64decode(token.split(".")[0] + "==").decode()
    assert grant.name not in payload  # the name travels once, after the token
    assert signer.unsign(token, grant.name) == grant


def test_unsign_rejects_another_name_another_key_and_junk() -> None:
    token = UrlSigner(["k1"]).sign(GRANT)
    with pytest.raises(InvalidToken):
        UrlSigner(["k1"]).unsign(token, GRANT.name + "x")
    with pytest.raises(InvalidToken):
        UrlSigner(["k2"]).unsign(token, GRANT.name)
    for junk in ("", "a.b", "a.b.c.d", "..", token + ".", token.replace(".", "", 1)):
        with pytest.raises(InvalidToken):
            UrlSigner(["k1"]).unsign(junk, GRANT.name)


def test_storage_link_round_trips_through_the_resolver_signer(
    storage: SignedB2Storage, user: Any
) -> None:
    name = "dir/naïve name #1?.txt"
    link = storage.signed_url(name, user=user, attachment=True, filename="n.txt", expires=77)
    token, parsed_name = split_link(link)
    assert parsed_name == name
    grant = DownloadResolver.from_settings().signer.unsign(token, parsed_name)
    assert grant == Grant(
        storage.fingerprint, name, "logged_in", 77, True, "n.txt", None, str(user.pk)
    )


def test_key_rotation(settings: Any, storage: SignedB2Storage) -> None:
    settings.SECRET_KEY = "old-" + "o" * 60
    settings.SECRET_KEY_FALLBACKS = []
    token, name = split_link(storage.url("rotated.txt"))
    settings.SECRET_KEY = "new-" + "n" * 60
    settings.SECRET_KEY_FALLBACKS = ["old-" + "o" * 60]
    resolver = DownloadResolver.from_settings()
    assert resolver.signer.unsign(token, name).name == "rotated.txt"
    new_token, _ = split_link(storage.url("rotated.txt"))
    assert new_token != token  # the new key signs
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(InvalidToken):
        DownloadResolver.from_settings().signer.unsign(token, name)
    assert DownloadResolver.from_settings().signer.unsign(new_token, name).name == name


def test_key_rotation_through_the_middleware(
    settings: Any, client: Any, storage: SignedB2Storage, user: Any
) -> None:
    settings.SECRET_KEY = "old-" + "o" * 60
    link = storage.url(put(storage, "m.txt", b"m"))
    settings.SECRET_KEY = "new-" + "n" * 60
    settings.SECRET_KEY_FALLBACKS = ["old-" + "o" * 60]
    client.force_login(user)
    response = client.get(link)
    assert response.status_code != 403, response.content  # the file is missing: B2 says so later
    assert response.status_code == 302


def test_link_length_and_the_name_last(storage: SignedB2Storage) -> None:
    name = "n" * 96 + ".pdf"
    link = storage.url(name)
    assert len(link) < 400
    assert link.endswith("/" + name)
    token, parsed = split_link(link)
    assert parsed == name
    assert "/" not in token and "?" not in link


def test_names_are_quoted_and_the_token_is_url_safe(storage: SignedB2Storage) -> None:
    name = "a b/c%d/é#?&.txt"
    link = storage.url(name)
    assert link.endswith("/" + quote(name))
    token, parsed = split_link(link)
    assert parsed == name
    assert all(c.isalnum() or c in "-_." for c in token)


def test_salts_separate_purposes() -> None:
    token = UrlSigner(["k"], salt="b2_access.download").sign(GRANT)
    with pytest.raises(InvalidToken):
        UrlSigner(["k"], salt="other.purpose").unsign(token, GRANT.name)
    assert UrlSigner(["k"], salt="b2_access.download").unsign(token, GRANT.name) == GRANT


def test_salt_setting_separates_sites(settings: Any, storage: SignedB2Storage) -> None:
    token, name = split_link(storage.url("salted.txt"))
    settings.B2_ACCESS = {"salt": "another-site"}
    with pytest.raises(InvalidToken):
        DownloadResolver.from_settings().signer.unsign(token, name)


def test_token_expired_carries_signed_at_and_expires() -> None:
    signer = UrlSigner(["k"])
    with freeze_time(NOW):
        token = signer.sign(GRANT)
    assert signer.unsign(token, GRANT.name, now=NOW + timedelta(seconds=300)) == GRANT
    with pytest.raises(TokenExpired) as caught:
        signer.unsign(token, GRANT.name, now=NOW + timedelta(seconds=301))
    assert caught.value.signed_at == NOW
    assert caught.value.expires == 300
    assert isinstance(caught.value, InvalidToken)
    with freeze_time(NOW + timedelta(seconds=301)), pytest.raises(TokenExpired):
        signer.unsign(token, GRANT.name)


def test_links_from_the_future_are_refused() -> None:
    signer = UrlSigner(["k"])
    with freeze_time(NOW + timedelta(hours=1)):
        token = signer.sign(GRANT)
    with pytest.raises(TokenExpired):
        signer.unsign(token, GRANT.name, now=NOW)


def test_a_forged_payload_with_a_valid_shape_is_invalid() -> None:
    signer = UrlSigner(["k"])
    token = signer.sign(GRANT)
    public = signer.sign(Grant(GRANT.storage, GRANT.name, "public", 300))
    forged = ".".join([public.split(".")[0], *token.split(".")[1:]])
    with pytest.raises(InvalidToken):
        signer.unsign(forged, GRANT.name)


def test_repr_hides_keys() -> None:
    assert "secret" not in repr(UrlSigner(["secret-key"]))
    with pytest.raises(ValueError):
        UrlSigner([])


@pytest.mark.django_db
def test_public_url_makes_no_b2_call_and_goes_direct_once_known(
    b2_server: LocalB2, make_storage: MakeStorage
) -> None:
    bucket = f"pub-{threading.get_ident() % 10**8:08d}-x"
    b2_server.create_bucket(bucket, "allPublic")
    fresh = PublicStorage(**b2_server.storage_options(bucket))
    b2_server.reset_calls()
    assert fresh.url("avatar.png").startswith("/b2/")  # not known yet: a signed link
    assert dict(b2_server.calls) == {}
    put(fresh, "avatar.png", b"png")  # any B2 operation tells us the bucket's type
    assert fresh.url("avatar.png").startswith(b2_server.realm)


@pytest.mark.parametrize("expires", [0, -5, 604801])
def test_signed_url_refuses_lifetimes_b2_would_not_honour(
    storage: SignedB2Storage, expires: int
) -> None:
    with pytest.raises(ValueError, match="expires"):
        storage.signed_url("x.txt", expires=expires)
