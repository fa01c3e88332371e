"""Names that B2's prefix tokens cannot widen.

B2's download tokens cover a name prefix: a token for ``docs/a`` also opens ``docs/ab`` and
``docs/a/x``. In the ``folder-per-file`` layout every saved file gets a folder of its own, named
by a fixed-length random id (``<upload_to>/<id>/<original name>``), and a token covers that
folder: no other file's name can start with it, so the token opens that file only, with no check
at click time. The browser still saves the file under its original name.
"""

from __future__ import annotations

import posixpath
import secrets

FOLDER_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case
FOLDER_ID_LENGTH = 20  # 100 random bits: a folder is never guessed nor reused
_ID_CHARS = frozenset(FOLDER_ID_ALPHABET)


def new_folder_id() -> str:
    """Return a fresh random folder id."""
    return "".join(secrets.choice(FOLDER_ID_ALPHABET) for _ in range(FOLDER_ID_LENGTH))


def in_new_folder(name: str) -> str:
    """Return ``name`` moved into a new folder of its own: ``<dir>/<id>/<basename>``."""
    directory, base = posixpath.split(name)
    return posixpath.join(directory, new_folder_id(), base)


def is_folder_id(segment: str) -> bool:
    """Return whether ``segment`` looks like a folder id this layout made."""
    return len(segment) == FOLDER_ID_LENGTH and set(segment) <= _ID_CHARS


def own_folder(full_name: str) -> str | None:
    """Return the B2 prefix of the file's own folder (``.../<id>/``), or ``None`` when the name
    is not in this layout (a file saved before the layout was chosen, say)."""
    folder, _, base = full_name.rpartition("/")
    if not base or not is_folder_id(folder.rpartition("/")[2]):
        return None
    return f"{folder}/"
