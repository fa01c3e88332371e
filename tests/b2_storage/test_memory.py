"""Saving and reading a 512 MiB file holds about two parts in memory, not the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

MiB = 1024 * 1024
SIZE = 512 * MiB
PART = 16 * MiB
ALLOWANCE = 2 * PART + 40 * MiB  # two parts, plus the interpreter's and b2sdk's threads
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.fixture
def server_process() -> Iterator[dict[str, str]]:
    """Run a local B2 server in its own process; return its realm, key id and key."""
    process = subprocess.Popen(
        [sys.executable, "-m", "b2_storage.emulator", "--port", "0", "--bucket", "mem-bucket"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    found: dict[str, str] = {}
    try:
        for line in process.stdout:
            if line.startswith("export "):
                variable, _, value = line[len("export ") :].strip().partition("=")
                found[variable] = value
            if "B2_APPLICATION_KEY" in found:
                break
        assert set(found) >= {"B2_ENVIRONMENT", "B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY"}
        yield found
    finally:
        process.terminate()
        process.wait(timeout=30)
        process.stdout.close()


def test_large_save_and_read_stay_within_two_parts(server_process: dict[str, str]) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    args = [
        server_process["B2_ENVIRONMENT"],
        server_process["B2_APPLICATION_KEY_ID"],
        server_process["B2_APPLICATION_KEY"],
        "mem-bucket",
        str(SIZE),
        str(PART),
    ]
    completed = subprocess.run(
        [sys.executable, "-m", "tests.b2_storage.memory_probe", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    upload = result["upload_peak"] - result["upload_rss_before"]
    download = result["download_peak"] - result["download_rss_before"]
    print(
        f"\nupload peak growth {upload / MiB:.1f} MiB, download {download / MiB:.1f} MiB, "
        f"peak reset: {result['peak_reset']}"
    )
    assert result["sha1_ok"] is True
    assert result["stored_size"] == SIZE
    assert upload < ALLOWANCE, f"upload grew {upload / MiB:.1f} MiB"
    assert download < ALLOWANCE, f"download grew {download / MiB:.1f} MiB"
