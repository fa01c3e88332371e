"""The shape of the two packages, read from their source: no import circle (type-only imports
included), no module over 300 lines, b2_storage never importing b2_access, b2sdk reached only
through the B2 connection modules, and b2_access using only B2Storage's public face."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("b2_storage", "b2_access")
MAX_LINES = 300
# The modules that may import b2sdk: the connection, its account info, the error translation
# and the conversion of b2sdk's file versions.
B2SDK_MODULES = {
    "b2_storage.account_info",
    "b2_storage.client",
    "b2_storage.connection",
    "b2_storage.meta",
    "b2_storage.translate",
}


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def imported(name: str, path: Path) -> Iterator[str]:
    """Yield every module ``name`` imports (absolute), at run time or for types only."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            source = node.module or ""
            if node.level:
                source = f"{base}.{source}" if source else base
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: {target for target in imported(name, path) if target in known and target != name}
        for name, path in known.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle as a list of modules (first repeated last), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(edges):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_packages_have_no_import_circle() -> None:
    # A package's __init__ re-exporting its modules is not a circle of its own.
    edges = graph()
    for name, targets in edges.items():
        edges[name] = {t for t in targets if not name.startswith(f"{t}.") and t not in PACKAGES}
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_the_circle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("name", sorted(modules()))
def test_no_module_passes_300_lines(name: str) -> None:
    lines = len(modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


def test_b2_storage_never_imports_b2_access() -> None:
    for name, path in modules().items():
        if name.startswith("b2_storage"):
            wrong = [t for t in imported(name, path) if t.split(".")[0] == "b2_access"]
            assert not wrong, f"{name} imports {wrong}"


def test_b2sdk_is_reached_only_through_the_connection_modules() -> None:
    users = {
        name
        for name, path in modules().items()
        if any(t.split(".")[0] == "b2sdk" for t in imported(name, path))
    }
    assert users <= B2SDK_MODULES, sorted(users - B2SDK_MODULES)


def test_b2_access_uses_only_the_storages_public_face() -> None:
    """No b2_access module imports b2_storage's private modules' B2 client, or touches a
    storage's ``client`` or any ``_private`` attribute of something it did not define."""
    for name, path in modules().items():
        if not name.startswith("b2_access"):
            continue
        wrong = [t for t in imported(name, path) if t.startswith(("b2_storage.client", "b2sdk"))]
        assert not wrong, f"{name} imports {wrong}"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("client", "_client", "api"):
                pytest.fail(f"{name}:{node.lineno} reaches into .{node.attr}")


def test_the_local_server_imports_only_the_name_rules_of_the_storage() -> None:
    known = modules()
    for name, path in known.items():
        if name.startswith("b2_storage.emulator"):
            outside = {
                t
                for t in imported(name, path)
                if t in known and not t.startswith("b2_storage.emulator")
            }
            assert outside <= {"b2_storage", "b2_storage.names"}, f"{name} imports {outside}"
