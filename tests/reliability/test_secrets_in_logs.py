"""No secret anywhere a person or a log shipper can see it (DESIGN.md, Failure contract).

Representative flows run with every logger at DEBUG into one collector (the root, and any logger
that does not propagate): storage save/open/url/delete, signed-link clicks of every verdict, a
refused key, B2 down (a closed port), the system checks, ``manage.py b2doctor --json [--write]``,
Django's DEBUG technical 500 page for an exception raised by a storage, and ``repr()``/``str()`` of
storages, clients, configurations and caches. Nothing collected (log messages, their arguments,
exception text and tracebacks, responses, command output, check messages, reprs) may hold the
application key, a wrong key tried, an account authorization token, a download token (the
``Authorization=`` of a B2 URL), a signed link's token, or ``SECRET_KEY``.

The local B2 server's own key is distinctive, so a search for it cannot match by chance.
"""

from __future__ import annotations

import logging
import socket
import traceback
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.core import checks
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from freezegun import freeze_time

from b2_access import LoggedInStorage, PublicStorage, SignedB2Storage, StaffStorage
from b2_access.conf import current_signer
from b2_access.resolver import shared_authorizer, shared_resolver
from b2_access.signing import Grant
from b2_storage import B2Storage, B2StorageError
from b2_storage.emulator import LocalB2

pytestmark = [
    pytest.mark.filterwarnings("ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"),
    pytest.mark.urls("tests.reliability.test_secrets_in_logs"),
]
KEY_ID = "0057reliabilityKeyId0001"
KEY = "K005Zq7SeCrEtReLiAbIlItYaPpKeY9x4W"  # distinctive: found only where it leaked
WRONG_KEY = "K005WrOnGkEyReLiAbIlItY3mQ8vP2zT"


class Collector(logging.Handler):
    """Keep everything a log handler could write: message, arguments, traceback, extras."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []
        self.formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.name, str(record.msg), repr(record.args)]
        try:
            parts.append(record.getMessage())
        except Exception as exc:  # a broken format string is still searched raw
            parts.append(repr(exc))
        if record.exc_info:
            parts.append(self.formatter.formatException(record.exc_info))
            parts.append(repr(record.exc_info[1]))
        if record.stack_info:
            parts.append(record.stack_info)
        parts.append(repr({k: v for k, v in vars(record).items() if k not in ("args", "msg")}))
        self.texts.append("\n".join(parts))


class Seen:
    """Every text a flow produced, and the secrets it met."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector
        self.outputs: list[tuple[str, str]] = []  # (where, text)
        self.secrets: dict[str, str] = {
            "application key": KEY,
            "wrong key": WRONG_KEY,
            "SECRET_KEY": django_settings.SECRET_KEY,
        }

    def add(self, where: str, text: Any) -> None:
        self.outputs.append((where, text if isinstance(text, str) else repr(text)))

    def error(self, where: str, exc: BaseException) -> None:
        self.add(f"{where}: str", str(exc))
        self.add(f"{where}: repr", repr(exc))
        self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))

    def secret(self, what: str, value: str | None) -> None:
        if value and len(value) >= 8:
            self.secrets[f"{what} {value[:10]}..."] = value

    def response(self, where: str, response: Any) -> None:
        body = b"" if getattr(response, "streaming", False) else response.content
        self.add(f"{where}: body", body.decode("utf-8", "replace"))
        location = response.get("Location", "")
        headers = {k: v for k, v in response.headers.items() if k != "Location"}
        self.add(f"{where}: headers", repr(headers))  # a 302's Location is its very purpose
        for token in parse_qs(urlsplit(location).query).get("Authorization", []):
            self.secret("download token", token)

    def leaks(self) -> list[str]:
        found = []
        texts = [("log", text) for text in self.collector.texts] + self.outputs
        for what, secret in self.secrets.items():
            for where, text in texts:
                if secret in text:
                    start = text.index(secret)
                    found.append(
                        f"{what} in {where}: ...{text[max(0, start - 150) : start + 40]!r}"
                    )
        return found


@pytest.fixture(scope="module")
def vault() -> Iterator[LocalB2]:
    """A local B2 server whose master key is ours (distinctive)."""
    with LocalB2(application_key_id=KEY_ID, application_key=KEY) as server:
        yield server


@pytest.fixture
def seen() -> Iterator[Seen]:
    collector = Collector()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(collector)
    result = Seen(collector)
    yield result
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(collector)
    assert collector.texts, "nothing was logged: the collector is not attached"
    leaks = result.leaks()
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)


def new_bucket(server: LocalB2) -> str:
    name = f"sec-{uuid.uuid4().hex[:20]}"
    server.create_bucket(name)
    return name


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def remember_tokens(seen: Seen, storage: B2Storage) -> None:
    """Add the account token a storage holds (after it authorized) to the secrets."""
    try:
        token = storage.client.api.account_info.get_account_auth_token()
    except Exception:  # not authorized (a refused key, B2 down): no token to hide
        return
    seen.secret("account token", str(token))


def test_storage_operations(vault: LocalB2, seen: Seen, settings: Any) -> None:
    # Credentials from B2_STORAGE stay out of deconstruct() (migrations); explicit ones are kept.
    settings.B2_STORAGE = {"application_key_id": KEY_ID, "application_key": KEY}
    bucket = new_bucket(vault)
    for storage in (
        B2Storage(**vault.storage_options(bucket, location="plain")),
        PublicStorage(**vault.storage_options(bucket, location="pub")),
    ):
        name = storage.save("docs/report.txt", ContentFile(b"quarterly"))
        with storage.open(name) as handle:
            assert handle.read() == b"quarterly"
        assert storage.size(name) == 9 and storage.exists(name)
        seen.add("listdir", storage.listdir("docs"))
        seen.add("modified", storage.get_modified_time(name))
        url = storage.url(name)
        seen.secret("signed link", url.split("/")[2] if url.startswith("/b2/") else None)
        with storage.open(name, "wb") as handle:
            handle.write(b"rewritten")
        storage.delete(name)
        assert not storage.exists(name)
        with pytest.raises(FileNotFoundError) as missing:
            storage.open(name)
        seen.error("missing file", missing.value)
        remember_tokens(seen, storage)
        for obj in (storage, storage.client, storage.config, storage.client.api.account_info):
            seen.add(f"repr {type(obj).__name__}", repr(obj))
            seen.add(f"str {type(obj).__name__}", str(obj))
        seen.add("deconstruct", storage.deconstruct())
    for obj in (vault, current_signer(), shared_authorizer(), shared_resolver()):
        seen.add(f"repr {type(obj).__name__}", repr(obj))


@pytest.fixture
def users(django_user_model: Any) -> dict[str, Any]:
    return {
        "user": django_user_model.objects.create_user("u-sec", password="pw"),
        "other": django_user_model.objects.create_user("o-sec", password="pw"),
        "staff": django_user_model.objects.create_user("s-sec", password="pw", is_staff=True),
    }


def click(seen: Seen, verdict: str, link: str, user: Any = None, method: str = "get") -> Any:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    seen.secret("signed link", link.split("/")[2] if link.startswith("/b2/") else None)
    response = getattr(client, method)(link)
    seen.response(verdict, response)
    return response


def test_clicks_of_every_verdict(vault: LocalB2, seen: Seen, users: dict[str, Any]) -> None:
    bucket = new_bucket(vault)
    public = PublicStorage(**vault.storage_options(bucket, location="pub"))
    logged_in = LoggedInStorage(**vault.storage_options(bucket, location="members"))
    staff = StaffStorage(**vault.storage_options(bucket, location="staff"))
    name = public.save("a.txt", ContentFile(b"a"))
    # Another tool extends "a.txt" (a storage's own names never would): "a.txt" is unsealed.
    B2Storage(**vault.storage_options(bucket, location="pub"))._save(
        "a.txt.bak", ContentFile(b"unseals a.txt")
    )
    sealed = public.save("b/report.txt", ContentFile(b"b"))
    members = logged_in.save("m.txt", ContentFile(b"m"))
    staff_only = staff.save("s.txt", ContentFile(b"s"))
    link = public.url(sealed)
    token, _, rest = link.removeprefix("/b2/").partition("/")
    expected = {
        "302": (link, None, "get", 302),
        "302 HEAD": (link, None, "head", 302),
        "login": (logged_in.url(members), None, "get", 302),
        "302 logged in": (logged_in.url(members), users["user"], "get", 302),
        "403 tier": (staff.url(staff_only), users["user"], "get", 403),
        "403 invalid": (f"/b2/{token[:-2]}xx/{rest}", None, "get", 403),
        "403 user": (public.signed_url(sealed, user=users["user"]), users["other"], "get", 403),
        "403 unsealed": (public.url(name), None, "get", 403),
        "404 missing": (public.url("never/saved.txt"), None, "get", 404),
        "405": (link, None, "post", 405),
    }
    for verdict, (url, user, method, status) in expected.items():
        assert click(seen, verdict, url, user, method).status_code == status, verdict
    unknown = current_signer().sign(Grant("ffffffffffff", "x.txt", "public", 300))
    assert click(seen, "403 storage", f"/b2/{unknown}/x.txt").status_code == 403
    later = datetime.now(timezone.utc) + timedelta(days=2)
    with freeze_time(later):
        assert click(seen, "403 expired", link).status_code == 403
    remember_tokens(seen, public)


def test_a_refused_key_and_b2_down(vault: LocalB2, seen: Seen, settings: Any) -> None:
    bucket = new_bucket(vault)
    key_id, _key = vault.create_key(["listBuckets", "listFiles", "readFiles", "writeFiles"])
    seen.secret("restricted key", _key)
    refused = PublicStorage(
        **vault.storage_options(
            bucket, application_key_id=key_id, application_key=WRONG_KEY, location="wrong"
        )
    )
    down = PublicStorage(
        **{
            **vault.storage_options(bucket, location="down"),
            "realm": f"http://127.0.0.1:{closed_port()}",
        }
    )
    for label, storage in (("refused key", refused), ("B2 down", down)):
        with pytest.raises(B2StorageError) as raised:
            storage.save("x.txt", ContentFile(b"x"))
        seen.error(f"{label} save", raised.value)
        with pytest.raises(B2StorageError) as raised:
            storage.exists("x.txt")
        seen.error(f"{label} exists", raised.value)
        response = click(seen, f"{label} click", storage.url("x.txt"))
        assert response.status_code == 503, label
        seen.add(f"{label} repr", repr(storage))
    # Django's DEBUG page for the same failure raised in a view.
    settings.DEBUG = True
    STORAGES_UNDER_TEST["refused"] = refused
    STORAGES_UNDER_TEST["down"] = down
    for label in ("refused", "down"):
        response = Client(raise_request_exception=False).post(f"/upload/{label}/", {"title": "q3"})
        assert response.status_code == 500
        page = response.content.decode("utf-8", "replace")
        assert "B2" in page and "Traceback" in page  # it is the technical page
        seen.add(f"DEBUG 500 page ({label})", page)


STORAGES_UNDER_TEST: dict[str, SignedB2Storage] = {}


def upload(request: HttpRequest, label: str) -> HttpResponse:
    storage = STORAGES_UNDER_TEST[label]
    storage.save("uploads/q3.txt", ContentFile(request.POST["title"].encode()))
    return HttpResponse("saved")


urlpatterns = [path("upload/<str:label>/", upload)]


def test_checks_and_doctor(vault: LocalB2, seen: Seen, settings: Any, users: Any) -> None:
    bucket = new_bucket(vault)
    settings.B2_STORAGE = {
        "realm": vault.realm,
        "application_key_id": KEY_ID,
        "application_key": KEY,
    }
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    settings.STORAGES = {
        "default": {"BACKEND": "b2_access.LoggedInStorage", "OPTIONS": {"bucket": bucket}},
        "wrong": {
            "BACKEND": "b2_storage.B2Storage",
            "OPTIONS": {"bucket": bucket, "location": "w", "application_key": WRONG_KEY},
        },
        "down": {
            "BACKEND": "b2_storage.B2Storage",
            "OPTIONS": {
                "bucket": bucket,
                "location": "d",
                "realm": f"http://127.0.0.1:{closed_port()}",
            },
        },
        "typo": {
            "BACKEND": "b2_storage.B2Storage",
            "OPTIONS": {"bucket": bucket, "application_kye": KEY},
        },
        "staticfiles": static,
    }
    for message in checks.run_checks(include_deployment_checks=True):
        seen.add(f"check {message.id}", f"{message} {message.hint} {message.obj!r}")
    for args in (["--json"], ["--json", "--write", "--user", "u-sec"], []):
        out, err = StringIO(), StringIO()
        try:
            call_command("b2doctor", *args, stdout=out, stderr=err)
        except Exception as exc:  # CommandError: it exits non-zero naming the problems
            seen.error(f"b2doctor {args}", exc)
        seen.add(f"b2doctor {args} stdout", out.getvalue())
        seen.add(f"b2doctor {args} stderr", err.getvalue())
        assert out.getvalue(), args
    out = StringIO()
    try:
        call_command("check", "--deploy", stdout=out, stderr=out)
    except Exception as exc:  # SystemCheckError for the typo
        seen.error("check --deploy", exc)
    seen.add("check --deploy output", out.getvalue())
    remember_tokens(seen, B2Storage(**vault.storage_options(bucket)))


def test_a_wrong_key_for_an_authorized_key_id_is_refused(vault: LocalB2) -> None:
    """A storage with the right key id but a wrong key must be refused, even when another
    storage of this process already authorized that key id (its token is in the cache)."""
    bucket = new_bucket(vault)
    B2Storage(**vault.storage_options(bucket)).save("a.txt", ContentFile(b"a"))  # authorizes
    wrong = B2Storage(**vault.storage_options(bucket, application_key=WRONG_KEY))
    try:
        saved = wrong.save("b.txt", ContentFile(b"b"))
    except B2StorageError:
        return  # refused, as B2 would
    pytest.fail(
        f"B2Storage(application_key_id={KEY_ID!r}, application_key=<wrong key>) saved {saved!r}: "
        "expected B2AccessRefused. The account token cached under (realm, key id) by the "
        "storage with the right key is reused without checking the key (DjangoCacheAccountInfo "
        "keys its entry by sha256(realm, key_id) only), so a wrong or revoked key keeps working "
        "while the token lives."
    )


def test_the_collector_finds_a_leak(seen: Seen) -> None:
    """The search works: a key logged on purpose is found (then removed from the record)."""
    logging.getLogger("b2_storage.test").debug("oops %s", KEY)
    assert seen.leaks()
    seen.collector.texts.clear()
    logging.getLogger("b2_storage.test").debug("clean")
