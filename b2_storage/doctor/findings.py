"""What ``manage.py b2doctor`` reports: one finding per storage and check."""

from __future__ import annotations

from dataclasses import asdict, dataclass

OK, WARN, ERROR, SKIP = "OK", "WARN", "ERROR", "SKIP"


@dataclass(frozen=True)
class Finding:
    """The outcome of one check of one storage; ``detail`` says what is wrong and how to fix it
    (never a key or a token)."""

    storage: str
    check: str
    status: str  # OK, WARN, ERROR or SKIP
    detail: str

    def as_dict(self) -> dict[str, str]:
        """Return the finding as a JSON object's fields."""
        return asdict(self)
