"""Django's test clients against the example site's own settings, run in a subprocess by
``test_refusal_page.py``: the test process is configured with ``tests.settings``, so it cannot
load the example's apps, ``handler403`` and ``403.html`` itself.

``python -m tests.e2e.example_client`` (with ``example_env()`` and ``EXAMPLE_VAR_DIR`` set)
migrates a fresh database, makes an owner, another user and one private file, and prints one
JSON object: for each case and client (``sync``, ``async``), the status, the ``X-B2-Access``
header and the body of the answer. No B2 server is needed: every case is refused before any
B2 call (the view's own check, or the link's signature).
"""

from __future__ import annotations

import json
from typing import Any

import django
from asgiref.sync import async_to_sync

CLIENTS = ("sync", "async")


def answer(kind: str, path: str, user: Any) -> dict[str, Any]:
    """Return what ``path`` answers to ``user`` (``None``: anonymous) through one client."""
    from django.test import AsyncClient, Client

    if kind == "sync":
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
    else:
        aclient = AsyncClient()
        if user is not None:
            aclient.force_login(user)
        response = async_to_sync(aclient.get)(path)
    return {
        "status": response.status_code,
        "access": response.get("X-B2-Access"),
        "cache_control": response.get("Cache-Control"),
        "body": response.content.decode(),
    }


def main() -> None:
    django.setup()
    from django.contrib.auth.models import User
    from django.core.files.storage import storages
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from example.files.models import PrivateFile
    from tests.e2e.conftest import tamper

    setup_test_environment()  # "testserver" is an allowed host, as in any Django test
    call_command("migrate", interactive=False, verbosity=0)
    owner = User.objects.create_user("owner", password="owner-password")
    other = User.objects.create_user("other", password="other-password")
    item = PrivateFile.objects.create(
        title="Owner's notes", owner=owner, file="2026/abcdefghijklmnopqrst/notes.txt"
    )
    link = storages["documents"].url("2026/welcome.pdf")  # signed locally: no B2 call
    cases = {
        "owner-only": (f"/private/{item.pk}/download/", other),
        "tampered": (tamper(link), other),
        "tampered-anonymous": (tamper(link), None),
    }
    result = {
        case: {kind: answer(kind, path, user) for kind in CLIENTS}
        for case, (path, user) in cases.items()
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
