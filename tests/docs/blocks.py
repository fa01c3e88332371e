"""The fenced code blocks of the Markdown docs, each with the directive that says how it runs.

Every fenced block in README.md and docs/**/*.md is preceded by an HTML comment (invisible on
GitHub and PyPI) naming how the test suite runs it::

    <!-- doc: settings name=minimal -->      appended to a fresh startproject's settings.py
    <!-- doc: settings after=minimal -->     ... after the block named "minimal"
    <!-- doc: python -->                     executed in a configured Django process
    <!-- doc: pytest -->                     a test module, run by pytest in a subprocess
    <!-- doc: template -->                   a Django template, rendered with a saved file
    <!-- doc: console -->                    each "$ " command run; shown output must appear
    <!-- doc: console server -->             one long-running command, stopped at the file's end
    <!-- doc: covered-by PATH[::TEST] ... --> a test elsewhere runs each command of the block
    <!-- doc: output -->                     sample output or a diagram (text only, not code)
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
DIRECTIVE = re.compile(r"^\s*<!--\s*doc:\s*(.*?)\s*-->\s*$")
KINDS = {"settings", "python", "pytest", "template", "console", "covered-by", "output"}


@dataclass(frozen=True)
class Block:
    """One fenced block: where it is, its language, its directive and its text."""

    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    kind: str  # "" when the block has no directive
    args: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def where(self) -> str:
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{path}:{self.line}"


def doc_files() -> list[Path]:
    """Return README.md and every Markdown file under docs/."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def parse(path: Path) -> list[Block]:
    """Return the fenced blocks of ``path`` in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if opening is None:
            index += 1
            continue
        indent, fence, lang = opening.groups()
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        body = [line.removeprefix(indent) for line in lines[index + 1 : end]]
        kind, args, options = _directive(lines, index)
        blocks.append(Block(path, index + 1, lang, kind, args, options, "\n".join(body) + "\n"))
        index = end + 1
    return blocks


def _directive(lines: list[str], fence: int) -> tuple[str, tuple[str, ...], dict[str, str]]:
    above = fence - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    found = DIRECTIVE.match(lines[above]) if above >= 0 else None
    if found is None:
        return "", (), {}
    words = shlex.split(found.group(1))
    args = tuple(word for word in words[1:] if "=" not in word)
    options = dict(word.split("=", 1) for word in words[1:] if "=" in word)
    return words[0], args, options


@dataclass(frozen=True)
class Command:
    """A ``$ `` line of a console block and the output lines shown after it."""

    line: str
    shown: tuple[str, ...]


def commands(block: Block) -> list[Command]:
    """Return the commands of a console block, each with the output the docs show for it."""
    found: list[Command] = []
    current: str | None = None
    shown: list[str] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            if current is not None:
                found.append(Command(current, tuple(shown)))
            current, shown = line[2:].strip(), []
        elif current is not None and line.strip():
            shown.append(line.rstrip())
    if current is not None:
        found.append(Command(current, tuple(shown)))
    return found


def shown_pattern(line: str) -> re.Pattern[str]:
    """Return a regex for one shown output line: ``…`` or ``...`` stands for any text."""
    parts = re.split(r"…|\.\.\.", line.strip())
    return re.compile(r"\s*" + ".*".join(re.escape(part) for part in parts) + r"\s*$")


def missing_output(shown: tuple[str, ...], output: str) -> list[str]:
    """Return the shown lines that do not appear, in order, in ``output``."""
    lines = output.splitlines()
    position = 0
    missing: list[str] = []
    for expected in shown:
        pattern = shown_pattern(expected)
        for offset, actual in enumerate(lines[position:]):
            if pattern.match(actual):
                position += offset + 1
                break
        else:
            missing.append(expected)
    return missing
