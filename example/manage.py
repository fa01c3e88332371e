#!/usr/bin/env python
"""Django's command line for the example site (run from the repository root)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
