"""Rewrite a migration that imports django-backblaze-b2 so that it loads without it (pure).

``makemigrations`` wrote its storages as ``django_backblaze_b2.storages.PublicStorage`` (the class,
for ``FileField(storage=PublicStorage)``) or ``django_backblaze_b2.storages.PublicStorage(...)``
(an instance), under ``import django_backblaze_b2.storages`` (``.storage`` for
``BackblazeB2Storage``). Each reference becomes ours: the class, or a call with the options
translated, or, for a kind of link that ``B2_ACCESS["legacy"]`` maps, the deconstruction of the
storage it names. Only those references and the import lines change; the rest stays as it is.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.migrations.serializer import serializer_factory

from .options import LegacyOptionError, translate_options

OLD_PACKAGE = "django_backblaze_b2"
OLD_MODULES = frozenset({OLD_PACKAGE, f"{OLD_PACKAGE}.storage", f"{OLD_PACKAGE}.storages"})
# Each old class and the kind of link its files had (None: plain B2 URLs). AdminStorage is the
# staff storage of its releases before 2.0, which older migrations may still name.
OLD_CLASSES: dict[str, str | None] = {
    "BackblazeB2Storage": None,
    "PublicStorage": "public",
    "LoggedInStorage": "logged_in",
    "StaffStorage": "staff",
    "AdminStorage": "staff",
}
NEW_CLASSES: dict[str | None, str] = {
    None: "b2_storage.B2Storage",
    "public": "b2_access.PublicStorage",
    "logged_in": "b2_access.LoggedInStorage",
    "staff": "b2_access.StaffStorage",
}
Deconstructed = tuple[str, Mapping[str, Any]]  # a storage's path and keyword arguments


class RewriteError(ValueError):
    """The migration refers to django-backblaze-b2 in a way that needs a person to rewrite it."""


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    text: str


def rewrite(source: str, aliases: Mapping[str, Deconstructed] | None = None) -> str:
    """Return ``source`` with django-backblaze-b2's storages replaced by ours (``source`` itself
    when it imports nothing of it); ``aliases`` maps a kind of link (``"public"``, ...) to the
    storage that now holds its files. Raise :class:`RewriteError` for what needs a person."""
    tree = ast.parse(source)
    bindings, old_imports = _old_imports(tree)
    if not old_imports:
        return source
    finder = _References(bindings)
    finder.visit(tree)
    if finder.unknown:
        raise RewriteError(
            f"line {finder.unknown[0][0]}: {finder.unknown[0][1]} has no counterpart here; "
            "edit it by hand."
        )
    lines = _Lines(source)
    edits: list[_Edit] = []
    imports: set[str] = set()
    for node, path, call in finder.found:
        text, needed = _replacement(path, call, aliases or {})
        target = call or node
        edits.append(_Edit(lines.start(target), lines.end(target), text))
        imports |= needed
    present = {f"import {a.name}" for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    added = "".join(f"{line}\n" for line in sorted(imports - present))
    at_top = [statement for statement in old_imports if statement in tree.body]
    for statement in old_imports:  # the new imports go where the first module-level one was
        start, end = lines.whole_lines(statement)
        edits.append(_Edit(start, end, added if at_top[:1] == [statement] else ""))
    if added and not at_top:
        position = lines.after_imports(tree)
        edits.append(_Edit(position, position, added))
    result = _apply(source, edits)
    try:
        ast.parse(result)
    except SyntaxError:  # e.g. a function whose only statement was an old import
        raise RewriteError("the rewritten file would not parse: edit it by hand.") from None
    return result


def _old_imports(tree: ast.Module) -> tuple[dict[str, str], list[ast.stmt]]:
    """Return the names bound to django-backblaze-b2 (name -> dotted path) and their imports."""
    bindings: dict[str, str] = {}
    statements: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            old = [a for a in node.names if _is_old(a.name)]
            if old and len(old) != len(node.names):
                raise RewriteError(f"line {node.lineno}: split this import into one per line.")
            for alias in old:
                if alias.asname:
                    bindings[alias.asname] = alias.name
                else:
                    bindings[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and _is_old(node.module):
            if node.level:
                continue
            old = list(node.names)
            for alias in old:
                if alias.name == "*":
                    raise RewriteError(f"line {node.lineno}: 'import *' cannot be rewritten.")
                bindings[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        else:
            continue
        if old:
            statements.append(node)
    return bindings, sorted(statements, key=lambda node: node.lineno)


def _is_old(module: str) -> bool:
    return module == OLD_PACKAGE or module.startswith(f"{OLD_PACKAGE}.")


class _References(ast.NodeVisitor):
    """Find the uses of the old storages: (node, dotted path, the call it makes or None)."""

    def __init__(self, bindings: dict[str, str]) -> None:
        self.bindings = bindings
        self.found: list[tuple[ast.expr, str, ast.Call | None]] = []
        self.unknown: list[tuple[int, str]] = []

    def visit_Call(self, node: ast.Call) -> None:
        path = self._path(node.func)
        if path is None:
            self.generic_visit(node)
            return
        self._record(node.func, path, node)
        for child in [*node.args, *node.keywords]:
            self.visit(child)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._visit_reference(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._visit_reference(node)

    def _visit_reference(self, node: ast.Attribute | ast.Name) -> None:
        path = self._path(node)
        if path is None:
            self.generic_visit(node)
        else:
            self._record(node, path, None)

    def _path(self, node: ast.expr) -> str | None:
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.bindings:
            return None
        return ".".join([self.bindings[node.id], *reversed(parts)])

    def _record(self, node: ast.expr, path: str, call: ast.Call | None) -> None:
        module, _, name = path.rpartition(".")
        if module in OLD_MODULES and name in OLD_CLASSES:
            self.found.append((node, path, call))
        else:
            self.unknown.append((node.lineno, path))


def _replacement(
    path: str, call: ast.Call | None, aliases: Mapping[str, Deconstructed]
) -> tuple[str, set[str]]:
    """Return the code that replaces a use of the old class ``path``, and the imports it needs."""
    name = path.rpartition(".")[2]
    kind = OLD_CLASSES[name]
    if kind is not None and kind in aliases:
        return _call(*aliases[kind])
    new = NEW_CLASSES[kind]
    if call is None:
        return new, {f"import {new.rpartition('.')[0]}"}
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        raise RewriteError(f"line {call.lineno}: {name}() with positional or ** arguments.")
    try:
        old = {str(keyword.arg): ast.literal_eval(keyword.value) for keyword in call.keywords}
    except ValueError:
        raise RewriteError(
            f"line {call.lineno}: {name}() with arguments that are not literals."
        ) from None
    try:
        return _call(new, translate_options(old, kind))
    except LegacyOptionError as exc:
        raise RewriteError(f"line {call.lineno}: {name}(): {exc}") from None


def _call(path: str, kwargs: Mapping[str, Any]) -> tuple[str, set[str]]:
    """Return ``path(**kwargs)`` as makemigrations writes it, and the imports it needs."""
    imports = {f"import {path.rpartition('.')[0]}"}
    arguments = []
    for key, value in kwargs.items():
        text, needed = serializer_factory(value).serialize()
        arguments.append(f"{key}={text}")
        imports |= needed
    return f"{path}({', '.join(arguments)})", imports


class _Lines:
    """Turn ``ast`` positions (1-based lines, UTF-8 byte columns) into offsets in the text."""

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode()[:col].decode())

    def start(self, node: ast.expr) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.expr) -> int:
        assert node.end_lineno is not None and node.end_col_offset is not None
        return self.offset(node.end_lineno, node.end_col_offset)

    def after_imports(self, tree: ast.Module) -> int:
        """Return the offset after the module's last top-level import (or its start)."""
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        return self.starts[(imports[-1].end_lineno or 0) if imports else 0]

    def whole_lines(self, node: ast.stmt) -> tuple[int, int]:
        """Return the span of the lines a statement fills, or raise if it shares them."""
        assert node.end_lineno is not None and node.end_col_offset is not None
        first, last = self.lines[node.lineno - 1], self.lines[node.end_lineno - 1]
        before = first.encode()[: node.col_offset].decode()
        after = last.encode()[node.end_col_offset :].decode().strip()
        if before.strip() or (after and not after.startswith("#")):
            raise RewriteError(f"line {node.lineno}: put this import on lines of its own.")
        return self.starts[node.lineno - 1], self.starts[node.end_lineno]


def _apply(source: str, edits: list[_Edit]) -> str:
    result = source
    limit = len(source) + 1
    for edit in sorted(edits, key=lambda edit: (edit.start, edit.end), reverse=True):
        if edit.end > limit:
            raise RewriteError("overlapping references: edit this migration by hand.")
        result = result[: edit.start] + edit.text + result[edit.end :]
        limit = edit.start
    return result
