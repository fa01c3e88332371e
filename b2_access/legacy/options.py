"""django-backblaze-b2's storage options, translated into ``B2Storage``'s (pure).

Its storages took options as keyword arguments or as one ``opts`` dict; ``specific_bucket_names``
chose the bucket of ``PublicStorage``, ``LoggedInStorage`` and ``StaffStorage``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RENAMED = {
    "realm": "realm",
    "application_key_id": "application_key_id",
    "application_key": "application_key",
    "bucket": "bucket",
    "authorize_on_init": "authorize_on_init",
    "validate_on_init": "validate_on_init",
    "allow_file_overwrites": "allow_overwrite",
    "default_file_info": "file_info",
}
OLD_CACHE = "django-backblaze-b2"  # its account_info cache alias when none was named


class LegacyOptionError(ValueError):
    """An old option has no counterpart that this tool can write for you."""


def translate_options(old: Mapping[str, Any], kind: str | None) -> dict[str, Any]:
    """Return ``B2Storage`` options equivalent to django-backblaze-b2's ``old`` for a storage
    of ``kind`` (``"public"``, ``"logged_in"``, ``"staff"``; ``None`` for
    ``BackblazeB2Storage``), or raise :class:`LegacyOptionError` naming the option."""
    options = dict(old)
    if "opts" in options:
        nested = options.pop("opts")
        if options or not isinstance(nested, Mapping):
            raise LegacyOptionError("'opts' must be a dict given alone, as the old storages said.")
        options = dict(nested)
    new: dict[str, Any] = {}
    for key, value in options.items():
        if key in RENAMED:
            new[RENAMED[key]] = value
        elif key == "account_info":
            new["account_info"] = _account_info(value)
        elif key == "forbid_file_property_caching":
            if value:
                new["metadata_cache"] = False
        elif key == "non_existent_bucket_details":
            if value is not None:
                new["create_bucket"] = _create_bucket(value)
        elif key not in ("specific_bucket_names", "cdn_config"):
            raise LegacyOptionError(f"Unknown django-backblaze-b2 option {key!r}.")
    names = options.get("specific_bucket_names") or {}
    if kind is not None and names.get(kind):
        new["bucket"] = names[kind]
    if options.get("cdn_config") and kind == "public":  # only its PublicStorage read it
        new["cdn_url"] = _cdn_url(options["cdn_config"], new.get("bucket"))
    return new


def _account_info(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or "type" not in value:
        raise LegacyOptionError("'account_info' must be a dict with 'type'.")
    info = {"backend" if key == "type" else key: item for key, item in value.items()}
    if info["backend"] == "sqlite" and "database_path" in info:
        info["path"] = info.pop("database_path")
    if info["backend"] == "django-cache":
        info.setdefault("cache", OLD_CACHE)
    return info


def _create_bucket(details: Any) -> str:
    if not isinstance(details, Mapping) or set(details) - {"bucket_type"}:
        raise LegacyOptionError(
            "'non_existent_bucket_details' with more than 'bucket_type' has no counterpart: "
            "create the bucket with its settings yourself, then drop the option."
        )
    return str(details.get("bucket_type", "allPrivate"))  # its default type


def _cdn_url(config: Any, bucket: str | None) -> str:
    if not isinstance(config, Mapping) or not isinstance(config.get("base_url"), str):
        raise LegacyOptionError("'cdn_config' must be a dict with a 'base_url' string.")
    host = config["base_url"].replace("https://", "").replace("http://", "").strip("/")
    if not config.get("include_bucket_url_segments"):
        return f"https://{host}"
    if bucket is None:
        raise LegacyOptionError(
            "'cdn_config' with include_bucket_url_segments needs the bucket's name: set "
            "cdn_url to 'https://<cdn host>/file/<bucket>' yourself."
        )
    return f"https://{host}/file/{bucket}"
