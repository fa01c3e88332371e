"""``b2doctor --write``: save a few bytes through the storage, fetch them through ``url()`` as a
browser would (following a signed Django link's redirect), then delete them; always cleaned up."""

from __future__ import annotations

import uuid
from typing import Any

import requests
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client

from ..exceptions import B2StorageError
from ..storage import B2Storage
from .findings import ERROR, OK, SKIP, WARN, Finding
from .probe import CONNECT_TIMEOUT, READ_TIMEOUT, KeyGrant

CHECK = "round trip"


class StepFailed(Exception):
    """A step of the round trip did not do what it should (the message says which)."""


def round_trip(label: str, storage: B2Storage, grant: KeyGrant, user: Any = None) -> list[Finding]:
    """Save a temporary file, fetch it through its URL and compare, delete it and confirm that
    it is gone. The file is deleted even when a step fails."""
    data = f"b2doctor round trip {uuid.uuid4().hex}\n".encode()
    name = None
    try:
        name = storage.save(f"b2doctor-{uuid.uuid4().hex[:12]}.txt", ContentFile(data))
        status, detail = _fetch(storage, name, data, grant, user)
    except (B2StorageError, StepFailed) as exc:
        status, detail = ERROR, f"{'saving' if name is None else f'{name!r}'}: {exc}"
    except Exception as exc:  # never the message: a requests error quotes the URL and its token
        status, detail = ERROR, f"{'saving' if name is None else f'{name!r}'}: {type(exc).__name__}"
    findings = [Finding(label, CHECK, status, detail)]
    if name is not None:
        findings.append(_clean_up(label, storage, name))
    return findings


def _fetch(
    storage: B2Storage, name: str, data: bytes, grant: KeyGrant, user: Any
) -> tuple[str, str]:
    url = storage.url(name)
    how = "its B2 download-authorization URL" if "Authorization=" in url else "its direct URL"
    if url.startswith("/"):  # a signed Django link: follow it as a browser would
        client = Client(HTTP_HOST=_site_host())
        if user is not None:
            client.force_login(user)
        response = client.get(url, secure=True)
        location = response.get("Location", "") if response.status_code == 302 else ""
        if not location.startswith(f"{grant.download_url}/"):
            answer = f"Django answered {response.status_code}" + (
                f" with a redirect to {location.split('?')[0]}" if location else ""
            )  # never a B2 URL's token: only a redirect that is not to B2 gets here
            if user is None:
                return SKIP, (
                    f"saved {name!r}; its signed link needs a signed-in user ({answer}): "
                    "run with --user USERNAME to follow it"
                )
            return WARN, (
                f"saved {name!r}; its signed link refused the user {str(user)!r} "
                f"({answer}): pick a user the storage's tier allows"
            )
        url, how = location, "its signed link (302 to B2)"
    fetched = requests.get(url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    if fetched.status_code != 200:
        raise StepFailed(f"saved, but fetching {how} got {fetched.status_code} from B2")
    if fetched.content != data:
        raise StepFailed(
            f"saved, but {how} gave {len(fetched.content)} bytes that differ "
            f"from the {len(data)} saved"
        )
    return OK, f"saved {name!r}, fetched the same {len(data)} bytes through {how}"


def _clean_up(label: str, storage: B2Storage, name: str) -> Finding:
    try:
        storage.delete(name)
        gone = not storage.exists(name)
    except B2StorageError as exc:
        return Finding(
            label, "clean up", ERROR, f"could not delete {name!r}: {exc}; delete it by hand"
        )
    if not gone:
        return Finding(label, "clean up", ERROR, f"{name!r} is still there after delete()")
    return Finding(label, "clean up", OK, f"deleted {name!r} and confirmed it is gone")


def _site_host() -> str:
    """Return a host name the site accepts (the first of ``ALLOWED_HOSTS``), for the link."""
    for host in getattr(settings, "ALLOWED_HOSTS", []):
        if host and host != "*":
            return str(host).lstrip(".")
    return "localhost"
