"""Check the built distributions (run by ``hatch run release:check`` after ``hatch build``).

- ``twine check --strict``: PyPI renders the README;
- the wheel holds ``b2_storage`` and ``b2_access`` only;
- the README in the metadata has no relative link or image (they break on PyPI);
- an editable install exposes ``b2_storage`` and ``b2_access`` only: ``tests``, ``example`` and
  ``docs`` are not importable from the user's project.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"


def fail(message: str) -> None:
    print(f"check_dist: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    wheels, sdists = sorted(DIST.glob("*.whl")), sorted(DIST.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {DIST}, found {wheels + sdists}")
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, wheels + sdists)], check=True
    )
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
        tops = {name.split("/")[0] for name in names} - {
            name.split("/")[0] for name in names if ".dist-info/" in name
        }
        if tops != {"b2_storage", "b2_access"}:
            fail(f"the wheel holds {sorted(tops)}, not just b2_storage and b2_access")
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    relative = re.findall(r"\]\((?!https?://|#)([^)]+)\)", metadata)
    if relative:
        fail(f"the README on PyPI has relative links: {relative}")
    with tempfile.TemporaryDirectory() as tmp:
        env = Path(tmp) / "venv"
        venv.create(env, with_pip=True)
        python = str(env / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
        probe = (
            "import importlib.util as u, b2_storage, b2_access\n"
            "leaked = [m for m in ('tests', 'example', 'docs') if u.find_spec(m)]\n"
            "print(' '.join(leaked))\n"
        )
        out = subprocess.run(
            [python, "-c", probe], cwd=tmp, capture_output=True, text=True, check=True
        ).stdout.strip()
        if out:
            fail(f"an editable install makes these importable: {out}")
    print("check_dist: wheel, sdist, README links and the editable install are fine")


if __name__ == "__main__":
    main()
