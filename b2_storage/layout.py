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
from collections.abc import Callable

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


CONFLICT_SCAN = 1000  # names b2_list_file_names returns at most per call
NamesFrom = Callable[[str, int], list[str]]  # (prefix, count) -> live names, in B2's order


def name_conflict(names_from: NamesFrom, name: str, key_prefix: str = "") -> str | None:
    """Return a live file name that is ``name``, extends it, or that it extends (``docs/a``
    for ``docs/ab`` or ``docs/a/x``), else ``None``.

    One ``b2_list_file_names`` call per segment: a name that ``name`` extends ends in a segment
    and sorts before its end, among the folder's names sharing its first letter (up to
    ``CONFLICT_SCAN`` are seen); the last call also sees the names that extend ``name``. With
    a key limited to ``key_prefix`` (B2 refuses to list outside it), the listing starts there:
    the names before it are out of the key's reach, and so out of its tokens' reach too.
    """
    cut = key_prefix.rfind("/") + 1 if name.startswith(key_prefix) else 0
    while True:
        end = name.find("/", cut)
        level = name if end < 0 else name[:end]  # ``name`` up to this segment's end
        start = name[: cut + 1]
        names = names_from(key_prefix if key_prefix.startswith(start) else start, CONFLICT_SCAN)
        for other in names:
            if name.startswith(other) or other.startswith(name):
                return other
            if other > level:  # sorted: nothing further can be a prefix of ``name``
                break
        else:
            if end < 0 and len(names) == CONFLICT_SCAN:  # too many to see past: ask directly
                return next((o for o in names_from(name, 2) if o != name), None)
        if end < 0:
            return None
        cut = end + 1


def write_scope(full_name: str, *, folders: bool) -> str:
    """Return the B2 prefix whose live names a file written as ``full_name`` must not share.

    That is the name itself, or, in the ``folder-per-file`` layout, its outermost folder id
    (``.../<id>/``) when it is in one: every folder token on its way covers it.
    """
    if folders:
        parts = full_name.split("/")
        for index, segment in enumerate(parts[:-1]):
            if is_folder_id(segment):
                return "/".join(parts[: index + 1]) + "/"
    return full_name


def write_conflict(
    names_from: NamesFrom, full_name: str, key_prefix: str = "", *, folders: bool = False
) -> str | None:
    """Return a live name other than ``full_name`` whose download token would open a file
    written as ``full_name``, or that its token would open; ``None`` when there is none, or when
    ``full_name`` is live itself: overwriting it adds no name, so it unseals nothing.

    The :func:`name_conflict` calls, plus one call only when they find another name.
    """
    other = name_conflict(names_from, write_scope(full_name, folders=folders), key_prefix)
    if other is None or other == full_name or names_from(full_name, 1) == [full_name]:
        return None
    return other


def unsealing_problem(full_name: str, other: str, *, folders: bool) -> str:
    """Return why ``full_name`` may not be written next to the live name ``other``, and what
    to do instead (for :class:`~b2_storage.exceptions.B2InvalidName`)."""
    if full_name.startswith(other):
        relation = "starts with the stored file"
    elif other.startswith(full_name):
        relation = "is the start of the stored file"
    else:
        relation = f"shares the folder {write_scope(full_name, folders=True)!r} with the file"
    advice = (
        "save(), which gives each file a folder of its own"
        if folders
        else "save(), which picks a free name, or the folder-per-file layout"
    )
    return (
        f"it {relation} {other[:100]!r}, and B2 download tokens cover a name prefix: a download "
        f"token for one would open the other; use {advice}"
    )
