"""docs/migrating.md, followed step by step on a copy of tests/legacy_project (a site as a
django-backblaze-b2 7.0.0 user has it, its migration and links written by that package), in
subprocesses against a local B2 server, with django-backblaze-b2 not installed.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from b2_storage.emulator import LocalB2

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "legacy_project"
GUIDE = ROOT / "docs" / "migrating.md"
BUCKETS = ["acme-files", "acme-everyone", "acme-members", "acme-staff"]
BLOCK = re.compile(r"<!-- doc: (?P<directive>.*?) -->\n```(?P<lang>\w*)\n(?P<text>.*?)\n```", re.S)

# The guide's commands, run as it says (from the project's folder).
REWRITE_DRY_RUN = "python manage.py b2_rewrite_migrations"
REWRITE = "python manage.py b2_rewrite_migrations --apply"
MIGRATE = "python manage.py migrate"
MAKEMIGRATIONS_CHECK = "python manage.py makemigrations --check --dry-run"
CHECK = "python manage.py check"

# Run in the migrated project: put a file where each old link points (the names the old
# package gave them), then follow every old link, and a new signed one, as each kind of user.
FOLLOW_LINKS = """
import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "legacy_site.settings")
django.setup()

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.test import Client
from django.test.utils import setup_test_environment

from documents.models import Document

setup_test_environment()
with open("old_links.json", encoding="utf-8") as handle:
    links = json.load(handle)
document = Document(title="handbook")
for field, link in links.items():
    name = link.split("/", 2)[2]
    saved = getattr(document, field).storage.save(name, ContentFile(f"{field} bytes".encode()))
    assert saved == name, (saved, name)
    getattr(document, field).name = name
document.save()
links["new handbook"] = Document.objects.get().handbook.url
User = get_user_model()
readers = {
    "anonymous": None,
    "user": User.objects.create_user("reader", password="pw"),
    "staff": User.objects.create_user("boss", password="pw", is_staff=True),
}
answers = {}
for field, link in links.items():
    for who, user in readers.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.get(link)
        answers[f"{field} {who}"] = [response.status_code, response.get("Location", "")]
parts = links["new handbook"].split("/")
parts[2] = parts[2][:-1] + ("A" if parts[2][-1] != "A" else "B")  # the signature's last character
answers["tampered"] = Client().get("/".join(parts)).status_code
print(json.dumps({"links": links, "answers": answers}))
"""


@pytest.fixture(scope="module")
def server() -> Iterator[LocalB2]:
    with LocalB2(buckets=BUCKETS) as local:
        yield local


def guide_blocks() -> list[tuple[str, str]]:
    """Return (directive, text) of each fenced block of docs/migrating.md."""
    text = GUIDE.read_text(encoding="utf-8")
    return [(m["directive"], m["text"] + "\n") for m in BLOCK.finditer(text)]


def guide_block(directive: str, contains: str) -> str:
    found = [text for kind, text in guide_blocks() if kind == directive and contains in text]
    assert len(found) == 1, (directive, contains)
    return found[0]


def run(command: str, project: Path, server: LocalB2, *, ok: bool = True) -> str:
    """Run ``command`` (a ``python ...`` line) in ``project`` as the guide's reader would."""
    argv = shlex.split(command)
    argv[0] = sys.executable
    env = {
        **os.environ,
        "B2_REALM": server.realm,
        "B2_APPLICATION_KEY_ID": server.application_key_id,
        "B2_APPLICATION_KEY": server.application_key,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)  # pytest-django's; manage.py names the project's
    done = subprocess.run(
        argv,
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    output = done.stdout + done.stderr
    assert (done.returncode == 0) == ok, f"{command} exited {done.returncode}:\n{output}"
    return output


def switch_settings(settings: Path) -> None:
    """Step 1: remove BACKBLAZE_CONFIG and the old app, then add the guide's settings."""
    text = settings.read_text(encoding="utf-8")
    text = text.replace('    "django_backblaze_b2",\n', "", 1)
    for name in ("BACKBLAZE_CONFIG", "CACHES", "STORAGES"):  # the guide's block sets the others
        text, count = re.subn(rf"^{name} = \{{\n.*?^\}}\n\n", "", text, flags=re.M | re.S)
        assert count == 1, name
    assert "django_backblaze_b2" not in text
    settings.write_text(text + "\n" + guide_block("settings name=migrated", "B2_STORAGE"))


def test_the_old_project_needs_the_old_package(tmp_path: Path, server: LocalB2) -> None:
    """Without the guide, the old project does not even load: that is what the guide fixes."""
    if importlib.util.find_spec("django_backblaze_b2") is not None:
        pytest.skip("django-backblaze-b2 is installed here (the bench environment)")
    project = Path(shutil.copytree(FIXTURE, tmp_path / "project"))
    assert "No module named 'django_backblaze_b2'" in run(MIGRATE, project, server, ok=False)


def test_the_guide_moves_the_project(tmp_path: Path, server: LocalB2) -> None:
    project = Path(shutil.copytree(FIXTURE, tmp_path / "project"))
    migration = project / "documents" / "migrations" / "0001_initial.py"
    original = migration.read_text(encoding="utf-8")
    switch_settings(project / "legacy_site" / "settings.py")
    (project / "legacy_site" / "urls.py").write_text(
        guide_block(
            "covered-by tests/b2_access/test_legacy_project.py::test_the_guide_moves_the_project",
            "urlpatterns",
        )
    )
    (project / "documents" / "models.py").write_text(
        guide_block(
            "covered-by tests/b2_access/test_legacy_project.py::test_the_guide_moves_the_project",
            "class Document",
        )
    )

    shown = run(REWRITE_DRY_RUN, project, server)
    assert migration.read_text(encoding="utf-8") == original  # a dry run writes nothing
    for line in guide_block("output", "would be rewritten").splitlines():
        if line.startswith(("+", "-")) or "would be rewritten" in line:
            assert line in shown, line  # the guide shows what the command prints
    assert "Rewrote 1 migration file(s)." in run(REWRITE, project, server)
    rewritten = migration.read_text(encoding="utf-8")
    assert "django_backblaze_b2" not in rewritten
    assert "storage=b2_access.StaffStorage(bucket='acme-staff')" in rewritten
    assert "No migration refers to django_backblaze_b2." in run(REWRITE, project, server)

    assert "Applying documents.0001_initial... OK" in run(MIGRATE, project, server)
    assert "No changes detected" in run(MAKEMIGRATIONS_CHECK, project, server)
    assert "System check identified no issues (0 silenced)." in run(CHECK, project, server)

    (project / "follow_links.py").write_text(FOLLOW_LINKS)
    result = json.loads(run("python follow_links.py", project, server).splitlines()[-1])
    assert_old_links_work(result["links"], result["answers"], server)


def assert_old_links_work(links: dict[str, str], answers: dict[str, Any], server: LocalB2) -> None:
    """Each old link opens its file for the same readers as before, through a 302 to B2."""
    old = json.loads((FIXTURE / "old_links.json").read_text(encoding="utf-8"))
    assert {field: links[field] for field in old} == old
    allowed = {
        "brochure": {"anonymous", "user", "staff"},
        "handbook": {"user", "staff"},
        "new handbook": {"user", "staff"},
        "payroll": {"staff"},
    }
    for field, readers in allowed.items():
        expected = field.split()[-1]
        for who in ("anonymous", "user", "staff"):
            status, location = answers[f"{field} {who}"]
            if who in readers:
                assert status == 302 and location.startswith(f"{server.realm}/file/acme-")
                body = requests.get(location, timeout=10)
                assert body.content == f"{expected} bytes".encode(), (field, who)
            elif who == "anonymous":
                assert status == 302 and location.startswith("/accounts/login/?next=/b2")
            else:
                assert status == 403, (field, who)
    assert answers["tampered"] == 403
