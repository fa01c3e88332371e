"""Keep django-backblaze-b2's permanent links working after the move to b2_access.

Its links were ``/b2/<name>`` (anyone), ``/b2l/<name>`` (logged-in users) and ``/b2s/<name>``
(staff). ``path("", include("b2_access.legacy.urls"))`` answers them, for the storages that
``B2_ACCESS["legacy"]`` names, as signed links are answered: the tier check, then a 302 to a B2
download-authorization URL. ``manage.py b2_rewrite_migrations`` makes its migrations load
without it. See docs/migrating.md.
"""

from __future__ import annotations

# The tier each kind of old link checked, and the path its links live under.
LEGACY_ROUTES = {"public": "b2/", "logged_in": "b2l/", "staff": "b2s/"}
