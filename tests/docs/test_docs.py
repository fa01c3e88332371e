"""Every command and code block in README.md and docs/ runs, as its directive says.

See :mod:`tests.docs.blocks` for the directives. A block with none fails the test: a new
snippet must say how it is proven.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.template import Context, Engine
from django.test import RequestFactory

from b2_access.tiers import tiers
from b2_storage.emulator import LocalB2
from b2_storage.emulator.engine import bucket_name_problem
from tests.testapp.models import Document

from .blocks import ROOT, Block, doc_files, parse
from .runner import DocRun, exec_python

FILES = [path.relative_to(ROOT).as_posix() for path in doc_files()]


@pytest.mark.parametrize("doc", FILES)
def test_every_block_says_how_it_runs(doc: str) -> None:
    blocks = parse(ROOT / doc)
    unmarked = [block.where for block in blocks if not block.kind]
    assert not unmarked, f"blocks with no <!-- doc: ... --> directive: {unmarked}"
    from .blocks import KINDS

    unknown = [f"{block.where}: {block.kind}" for block in blocks if block.kind not in KINDS]
    assert not unknown, f"unknown directives: {unknown}"


@pytest.mark.django_db
@pytest.mark.parametrize("doc", [doc for doc in FILES if parse(ROOT / doc)])
def test_the_blocks_run(
    doc: str,
    b2_server: LocalB2,
    tmp_path: Path,
    redis_url: str,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = DocRun(b2_server, tmp_path, redis_url)
    for key in ("B2_REALM", "B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY", "REDIS_URL"):
        monkeypatch.setenv(key, run.env[key])
    run.in_process["python"] = run_python
    run.in_process["template"] = lambda block: render(block, b2_server, settings)
    try:
        for block in parse(ROOT / doc):
            run.run(block)
    finally:
        run.close()


def run_python(block: Block) -> None:
    """Execute a python block in a fresh module namespace; drop the tiers it registered."""
    before = set(tiers.names())
    try:
        exec_python(block, {"__name__": "docs_block"})
    finally:
        for name in set(tiers.names()) - before:
            tiers.unregister(name)


def render(block: Block, server: LocalB2, settings: Any) -> None:
    """Render a template block with ``doc`` (a saved file on a signed storage) and a request."""
    bucket = f"docs-template-{os.getpid()}-{block.line}"
    server.create_bucket(bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "b2_access.LoggedInStorage",
            "OPTIONS": server.storage_options(bucket),
        },
    }
    doc = Document(title="doc")
    doc.attachment.save("invoice.pdf", ContentFile(b"%PDF-1.4"), save=False)
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    engine = Engine(libraries={"b2_access": "b2_access.templatetags.b2_access"})
    html = engine.from_string(block.text).render(
        Context({"doc": SimpleNamespace(file=doc.attachment), "request": request})
    )
    assert "/b2/" in html, f"{block.where}: rendered no signed link:\n{html}"


BUCKET_NAMES = re.compile(
    r"""["']bucket["']\s*:\s*["']([^"']+)["']"""  # "bucket": "name"
    r"""|--bucket[ =]([^\s:`[]+)"""  # --bucket name[:type]
    r"""|create_bucket\(\s*["']([^"']+)["']"""  # create_bucket("name")
    r"""|b2://([^/\s`]+)/"""  # b2://name/
    r"""|buckets=\[([^\]]*)\]"""  # buckets=["a", "b:allPublic"]
)


@pytest.mark.parametrize("doc", FILES)
def test_every_bucket_name_is_one_b2_accepts(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    names: list[str] = []
    for match in BUCKET_NAMES.finditer(text):
        listed = match.group(5)
        if listed is not None:
            names += [n.split(":")[0] for n in re.findall(r"""["']([^"']+)["']""", listed)]
        else:
            names.append(next(group for group in match.groups() if group))
    placeholders = {"BUCKET", "NAME", "...", "…"}
    problems = [bucket_name_problem(n) for n in names if n not in placeholders]
    assert not [p for p in problems if p], problems
