"""The benchmarks run (on tiny sizes) and write their report: never timed here, only exercised."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = [
    "## 1. url() cost per call",
    "## 2. Django-side time per download",
    "## 3. B2 calls per 1,000 downloads",
    "## 4. Peak memory of save() and open().read()",
    "## 5. Upload and download throughput",
    "## 6. Redirects per second (uvicorn, 2 workers)",
]
ROWS = [
    "floor: itsdangerous URLSafeTimedSerializer.dumps",
    "ours: SignedB2Storage.url()",
    "ours: B2Storage.url() (no b2_access)",
    "1 process, scope=file | cold",
    "1 process, scope=bucket | warm",
    "1 process, 10 threads at once on one link",
    "1 process, scope=file, layout=folder-per-file | cold",
    "| scope=file, layout=folder-per-file | warm |",
    "ours: B2Storage (part_size 32 MiB)",
    "raw b2sdk: bucket.upload_bytes()",
    "plain HTTP GET (floor)",
    "signed link -> 302 to B2",
    "empty sync view",
]
SEED_ROWS = [
    "django-backblaze-b2 LoggedInStorage.url()",
    "django-backblaze-b2 /b2l/ proxy",
    "django-backblaze-b2 7.0.0",
    "django-backblaze-b2: open().read()",
]


# Call counts are not timings: these lines hold at any size (the section's one-click table).
CALL_LINES = [
    "| B2 calls per cold click, file scope (seal check + token) | 2 | - | - | <= 2 (1 list + 1 "
    "token) | met |",
    "| B2 calls per cold click, folder-per-file layout (token only) | 1 | - | - | 1 | met |",
    "| B2 calls per warm click (",  # ... N warm clicks ...) | 0 | - | - | 0 | met |
]
CHARTS = ["url_cost.png", "download_time.png", "memory.png", "throughput.png", "redirects.png"]


def test_every_benchmark_runs_and_writes_its_report(tmp_path: Path) -> None:
    # One run for every check (so pytest-xdist does not start several): ~20 s of tiny sizes.
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    stdout, report = result.stdout, (tmp_path / "README.md").read_text()
    rows = ROWS + (SEED_ROWS if find_spec("django_backblaze_b2") else [])
    missing = [text for text in SECTIONS + rows + CALL_LINES + ["## Summary"] if text not in stdout]
    missing += [text for text in SECTIONS if text not in report]
    missing += [
        text
        for text in (
            "| measure | ours | floor / peer | ratio | contract | verdict |",
            "## Where we fall short of the performance contract",
            "Command: `hatch run bench:all`",
            " CPUs (",
        )
        if text not in report
    ]
    assert missing == []
    # The page it writes is a doc like any other: every block says how the docs tests run it.
    from tests.docs.blocks import parse

    written = tmp_path / "README.md"
    assert [block.where for block in parse(written) if not block.kind] == []
    warm = [line for line in stdout.splitlines() if line.startswith(CALL_LINES[-1])]
    assert [line.endswith(") | 0 | - | - | 0 | met |") for line in warm] == [True], warm
    assert "| b2sdk upload |" in (tmp_path / "emulator.md").read_text()
    if find_spec("matplotlib") is not None:
        for chart in CHARTS:
            assert (tmp_path / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", chart
            assert f"![]({chart})" in report
