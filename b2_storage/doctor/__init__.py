"""``manage.py b2doctor``: every B2 storage of a project checked against B2 itself.

The key (accepted, its capabilities, bucket and name prefix against what the storage needs), the
bucket (exists, and its type fits the storage), the clock, the shared caches and, on request, a
round trip. System checks (:mod:`b2_storage.checks`) stay offline; this asks B2.
"""

from __future__ import annotations

from .diagnosis import diagnose
from .findings import ERROR, OK, SKIP, WARN, Finding
from .targets import Target, find_targets

__all__ = ["ERROR", "OK", "SKIP", "WARN", "Finding", "Target", "diagnose", "find_targets"]
