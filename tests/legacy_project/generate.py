"""Regenerate what django-backblaze-b2 7.0.0 itself writes in this fixture project.

The project is a small site as a django-backblaze-b2 user has it: the starting point of
docs/migrating.md, which tests/b2_access/test_legacy_project.py follows step by step (the test
environment does not have the old package: the guide removes it). Two files come from the old
package, run against a local B2 server:

- ``documents/migrations/0001_initial.py``: what its users' ``makemigrations`` wrote;
- ``old_links.json``: the ``url()`` of a file of each of its link-serving storages, the links
  that its users' emails and pages hold.

Run ``hatch run bench:python tests/legacy_project/generate.py`` (the ``bench`` environment has
django-backblaze-b2 7.0.0), then ``hatch run lint:fix``.
"""

import os
import subprocess
import sys
from pathlib import Path

from b2_storage.emulator import LocalB2

HERE = Path(__file__).resolve().parent
BUCKETS = ["acme-files", "acme-everyone", "acme-members", "acme-staff"]  # all allPrivate
LINKS = """
import json
from django.core.files.base import ContentFile
from documents.models import Document

names = {"brochure": "brochures/spring-catalogue.pdf", "handbook": "handbooks/onboarding.pdf",
         "payroll": "payroll/2024-03.csv"}
links = {}
for field, name in names.items():
    storage = Document._meta.get_field(field).storage
    saved = storage.save(name, ContentFile(b"saved by django-backblaze-b2"))
    links[field] = storage.url(saved)
print(json.dumps(links, indent=2, sort_keys=True))
"""


def main() -> None:
    with LocalB2(buckets=BUCKETS) as server:
        env = {
            **os.environ,
            "B2_REALM": server.realm,
            "B2_APPLICATION_KEY_ID": server.application_key_id,
            "B2_APPLICATION_KEY": server.application_key,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        for old in (HERE / "documents" / "migrations").glob("0*.py"):
            old.unlink()
        manage = [sys.executable, "manage.py"]
        subprocess.run([*manage, "makemigrations", "documents"], cwd=HERE, env=env, check=True)
        links = subprocess.run(
            [*manage, "shell", "-v", "0", "-c", LINKS],
            cwd=HERE,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    (HERE / "old_links.json").write_text(links, encoding="utf-8")
    print(links)


if __name__ == "__main__":
    main()
