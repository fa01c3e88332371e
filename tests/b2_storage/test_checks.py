"""The b2_storage system checks: offline, fast, naming the storage and the setting (never a value),
and a deploy check run that stays bounded when B2 cannot be reached."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.checks import CheckMessage, run_checks
from django.core.files.base import ContentFile
from django.test import modify_settings

from b2_storage import B2Storage
from b2_storage.emulator import LocalB2

STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


def messages(deploy: bool = False) -> list[CheckMessage]:
    return run_checks(tags=["b2_storage"], include_deployment_checks=deploy)


@pytest.fixture
def b2_settings(settings: Any) -> Any:
    settings.B2_STORAGE = {
        "realm": "production",
        "application_key_id": "0012abc",
        "application_key": "K0012-not-a-real-key",
    }
    settings.STORAGES = {
        "default": {"BACKEND": "b2_storage.B2Storage", "OPTIONS": {"bucket": "acme-docs"}},
        "media": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": {"bucket": "acme-media", "application_key": ""},
        },
        "staticfiles": STATIC,
    }
    return settings


def test_complete_credentials_have_no_message(b2_settings: Any) -> None:
    b2_settings.STORAGES = {"default": b2_settings.STORAGES["default"], "staticfiles": STATIC}
    assert messages(deploy=True) == []


def test_an_empty_key_names_the_storage_and_the_setting(b2_settings: Any) -> None:
    [error] = messages()
    assert error.id == "b2_storage.E002"
    assert error.msg == (
        "STORAGES['media']['OPTIONS']['application_key'] is empty: the B2 "
        "application key of STORAGES['media']."
    )
    assert "manage.py b2doctor" in (error.hint or "")
    assert "0012abc" not in f"{error.msg} {error.hint}"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_a_missing_key_id_is_one_error_for_the_storages_that_share_it(
    b2_settings: Any, value: str | None
) -> None:
    shared = dict(b2_settings.B2_STORAGE)
    if value is None:
        del shared["application_key_id"]
    else:
        shared["application_key_id"] = value
    b2_settings.B2_STORAGE = shared
    ids = sorted(m.id for m in messages() if m.id)
    assert ids == ["b2_storage.E001", "b2_storage.E002"]
    [error] = [m for m in messages() if m.id == "b2_storage.E001"]
    state = "not set" if value is None else "empty"
    assert error.msg.startswith(f"B2_STORAGE['application_key_id'] is {state}")
    assert "STORAGES['default'], STORAGES['media']" in error.msg
    assert "K0012-not-a-real-key" not in error.msg


@pytest.mark.parametrize(
    ("realm", "local"),
    [
        ("http://127.0.0.1:8900", True),
        ("http://localhost:8900", True),
        ("http://[::1]:80", True),
        ("http://0.0.0.0:8900", True),
        ("production", False),
        ("https://b2.example.com", False),
    ],
)
def test_a_local_realm_is_a_deploy_warning(b2_settings: Any, realm: str, local: bool) -> None:
    b2_settings.B2_STORAGE = {**b2_settings.B2_STORAGE, "realm": realm}
    b2_settings.STORAGES = {"default": b2_settings.STORAGES["default"], "staticfiles": STATIC}
    assert messages() == []
    warnings = messages(deploy=True)
    assert [m.id for m in warnings] == (["b2_storage.W001"] if local else [])
    if local:
        assert "STORAGES['default'] points at a local B2 server" in warnings[0].msg
        assert "B2_STORAGE['realm']" in warnings[0].msg
        assert "manage.py b2doctor" in (warnings[0].hint or "")


def test_checks_build_no_storage_and_call_no_b2(b2_settings: Any, b2_server: LocalB2) -> None:
    b2_settings.B2_STORAGE = {**b2_settings.B2_STORAGE, "realm": b2_server.realm}
    b2_settings.STORAGES = {
        "default": {
            "BACKEND": "b2_storage.B2Storage",
            "OPTIONS": {"bucket": "no-such-bucket", "validate_on_init": True},
        },
        "staticfiles": STATIC,
    }
    b2_server.reset_calls()
    assert [m.id for m in messages(deploy=True)] == ["b2_storage.W001"]
    assert sum(b2_server.calls.values()) == 0


@pytest.fixture
def silent_realm() -> Iterator[str]:
    """A realm that accepts connections and never answers (a hung B2, or a firewall)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()
    for connection in held:
        connection.close()


def test_deploy_checks_give_up_on_a_silent_b2_in_bounded_time(
    b2_settings: Any, silent_realm: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # b2_access.W009 asks B2 whether a signed storage's bucket is allPublic; through b2sdk that
    # took 8 s per check run on a closed port (5 tries with back-off) and minutes on a silent one.
    monkeypatch.setattr("b2_access.checks.B2_SECONDS", 0.5)
    b2_settings.B2_STORAGE = {**b2_settings.B2_STORAGE, "realm": silent_realm}
    b2_settings.STORAGES["media"]["OPTIONS"] = {"bucket": "acme-media", "location": "media"}
    started = time.monotonic()
    found = run_checks(include_deployment_checks=True)
    assert time.monotonic() - started < 5
    assert "b2_storage.W001" in [m.id for m in found]
    # (Signed storages of other tests in this process may still be checked: not this one.)
    assert not [m for m in found if m.id == "b2_access.W009" and "acme-media" in m.msg]


def test_importing_b2_storage_loads_neither_the_checks_nor_the_doctor() -> None:
    code = (
        "import sys, b2_storage; print(sorted(m for m in sys.modules if m.startswith("
        "('b2_storage.checks', 'b2_storage.doctor', 'b2_storage.apps'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


@modify_settings(INSTALLED_APPS={"remove": "b2_storage"})
def test_the_storage_works_without_the_app(b2_server: LocalB2) -> None:
    bucket = f"no-app-{time.monotonic_ns()}"
    b2_server.create_bucket(bucket)
    storage = B2Storage(**b2_server.storage_options(bucket))
    name = storage.save("hello.txt", ContentFile(b"hello"))
    with storage.open(name) as handle:
        assert handle.read() == b"hello"
    storage.delete(name)
