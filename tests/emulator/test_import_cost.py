"""The local server and its pytest plugin import only the standard library (and our name rules):
``b2_storage``'s top-level names load on first use."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import b2_storage.emulator
import b2_storage.emulator.pytest_plugin
heavy = sorted(m for m in ("django", "b2sdk", "cachetools", "requests", "itsdangerous")
               if m in sys.modules)
print(" ".join(heavy))
"""


def test_importing_the_local_server_loads_neither_django_nor_b2sdk() -> None:
    # pytest itself loads Django here, so a fresh interpreter tells.
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""


def test_the_top_level_names_still_load_on_use() -> None:
    probe = "import b2_storage; print(b2_storage.B2Storage.__module__, b2_storage.__version__)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.split() == ["b2_storage.storage", "0.1.0"]
    missing = subprocess.run(
        [sys.executable, "-c", "import b2_storage; b2_storage.Nope"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "has no attribute 'Nope'" in missing.stderr
