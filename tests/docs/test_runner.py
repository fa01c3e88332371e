"""The docs runner fails on what a reader would trip over (so its green means something)."""

from __future__ import annotations

from pathlib import Path

import pytest

from b2_storage.emulator import LocalB2

from .blocks import parse
from .runner import DocFailure, DocRun


def blocks_of(tmp_path: Path, markdown: str) -> list:  # type: ignore[type-arg]
    page = tmp_path / "page.md"
    page.write_text(markdown, encoding="utf-8")
    return parse(page)


@pytest.fixture
def run(b2_server: LocalB2, tmp_path: Path) -> DocRun:
    work = tmp_path / "work"
    work.mkdir()
    doc_run = DocRun(b2_server, work, "redis://127.0.0.1:1/0")
    yield doc_run  # type: ignore[misc]
    doc_run.close()


def test_a_block_without_a_directive_fails(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(tmp_path, "Text.\n\n```python\nx = 1\n```\n")
    with pytest.raises(DocFailure, match="no directive"):
        run.run(block)


def test_a_settings_snippet_that_does_not_paste_fails(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(
        tmp_path,
        '<!-- doc: settings -->\n```python\nSTORAGES["default"] = {"BACKEND": "x"}\n```\n',
    )
    with pytest.raises(DocFailure, match="NameError"):
        run.run(block)


def test_a_command_that_prints_something_else_fails(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(tmp_path, "<!-- doc: console -->\n```console\n$ echo hello\nbye\n```\n")
    with pytest.raises(DocFailure, match="did not print"):
        run.run(block)
    (good,) = blocks_of(tmp_path, "<!-- doc: console -->\n```console\n$ echo hello\nh…o\n```\n")
    run.run(good)


def test_a_failing_command_fails(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(
        tmp_path, "<!-- doc: console -->\n```console\n$ python -c 'raise SystemExit(3)'\n```\n"
    )
    with pytest.raises(DocFailure, match="exited with 3"):
        run.run(block)


def test_covered_by_needs_a_test_that_runs_the_command(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(
        tmp_path,
        "<!-- doc: covered-by tests/test_bench_smoke.py -->\n"
        "```console\n$ hatch run bench:all --nope\n```\n",
    )
    with pytest.raises(DocFailure, match="no named test runs"):
        run.run(block)
    (missing,) = blocks_of(
        tmp_path, "<!-- doc: covered-by tests/nowhere.py -->\n```console\n$ true\n```\n"
    )
    with pytest.raises(DocFailure, match="does not exist"):
        run.run(missing)


def test_output_blocks_may_not_hide_code(run: DocRun, tmp_path: Path) -> None:
    (block,) = blocks_of(tmp_path, "<!-- doc: output -->\n```python\nimport os\n```\n")
    with pytest.raises(DocFailure, match="is code"):
        run.run(block)
