"""B2's native JSON endpoints (``/b2api/v3/...`` and ``/b2api/v4/...``) over the engine.

Every handler takes a :class:`Call` (the parsed request) and returns the JSON body of a 200; any
refusal is a :class:`.errors.B2Error`. camelCase wire keys live here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .engine import MAX_DOWNLOAD_AUTH_SECONDS, Engine, Key, now_ms
from .errors import B2Error, bad_request
from .files import FileEngine, check_name
from .rows import BucketRow
from .wire import bucket_json, file_json, part_json

DOWNLOAD_OVERRIDES = (
    "b2ContentDisposition", "b2ContentLanguage", "b2Expires", "b2CacheControl",
    "b2ContentEncoding", "b2ContentType",
)  # fmt: skip


@dataclass
class Call:
    """One API call: its version (``v3``/``v4``), parameters, token and the server's base URL."""

    version: str
    params: dict[str, Any]
    token: str | None
    base_url: str
    engine: Engine
    files: FileEngine

    def key(self) -> Key:
        """Return the key behind this call's account token (401 if none or expired)."""
        return self.engine.check_account_token(self.token)

    def get(self, name: str, kind: type | tuple[type, ...] = str, default: Any = None) -> Any:
        """Return an optional parameter, checking its JSON type."""
        value = self.params.get(name)
        if value is None:  # b2sdk sends unset optional parameters as JSON null
            return default
        if not isinstance(value, kind):
            raise bad_request(f"Parameter {name!r} has the wrong type")
        return value

    def need(self, name: str, kind: type | tuple[type, ...] = str) -> Any:
        """Return a required parameter, or raise B2's 400 naming it."""
        if self.params.get(name) is None:
            raise bad_request(f"Missing required parameter: {name}")
        return self.get(name, kind)

    def count(self, name: str, default: int, maximum: int) -> int:
        """Return a count parameter between 1 and ``maximum``."""
        value = self.get(name, int, default)
        if isinstance(value, bool) or not 1 <= value <= maximum:
            raise bad_request(f"{name} must be between 1 and {maximum}")
        return int(value)


def _own_bucket(call: Call, capability: str, bucket_id: str | None = None) -> tuple[Key, BucketRow]:
    key = call.key()
    bucket_id = bucket_id or call.need("bucketId")
    call.engine.require(key, capability, bucket_id)
    return key, call.engine.bucket(bucket_id)


def list_buckets(call: Call) -> dict[str, Any]:
    """b2_list_buckets: every bucket the key may see, filtered by id, name or type."""
    key = call.key()
    call.engine.require(key, "listBuckets")
    bucket_id, name = call.get("bucketId"), call.get("bucketName")
    types = call.get("bucketTypes", list) or ["all"]
    buckets = [
        b
        for b in call.engine.store.buckets()
        if bucket_id in (None, b.bucket_id)
        and name in (None, b.name)
        and key.bucket_id in (None, b.bucket_id)
        and ("all" in types or b.type in types)
    ]
    return {"buckets": [bucket_json(call.engine, b) for b in buckets]}


def create_bucket(call: Call) -> dict[str, Any]:
    """b2_create_bucket."""
    call.engine.require(call.key(), "writeBuckets")
    bucket = call.engine.create_bucket(
        call.need("bucketName"),
        call.need("bucketType"),
        info=call.get("bucketInfo", dict),
        cors=call.get("corsRules", list),
        lifecycle=call.get("lifecycleRules", list),
    )
    return bucket_json(call.engine, bucket)


def update_bucket(call: Call) -> dict[str, Any]:
    """b2_update_bucket."""
    _own_bucket(call, "writeBuckets")
    bucket = call.engine.update_bucket(
        call.need("bucketId"),
        bucket_type=call.get("bucketType"),
        info=call.get("bucketInfo", dict),
        cors=call.get("corsRules", list),
        lifecycle=call.get("lifecycleRules", list),
        if_revision_is=call.get("ifRevisionIs", int),
    )
    return bucket_json(call.engine, bucket)


def delete_bucket(call: Call) -> dict[str, Any]:
    """b2_delete_bucket."""
    _own_bucket(call, "deleteBuckets")
    return bucket_json(call.engine, call.engine.delete_bucket(call.need("bucketId")))


def get_upload_url(call: Call) -> dict[str, Any]:
    """b2_get_upload_url: an upload URL and token for one bucket."""
    _key, bucket = _own_bucket(call, "writeFiles")
    token = call.engine.tokens.issue("upld", {"b": bucket.bucket_id, "k": _key.key_id})
    return {
        "bucketId": bucket.bucket_id,
        "uploadUrl": f"{call.base_url}/b2api/{call.version}/b2_upload_file/{bucket.bucket_id}",
        "authorizationToken": token,
    }


def get_upload_part_url(call: Call) -> dict[str, Any]:
    """b2_get_upload_part_url: an upload URL and token for one large file's parts."""
    file_id = call.need("fileId")
    row = call.files.unfinished(file_id)
    _key, _bucket = _own_bucket(call, "writeFiles", row.bucket_id)
    token = call.engine.tokens.issue("upld", {"f": file_id, "k": _key.key_id})
    return {
        "fileId": file_id,
        "uploadUrl": f"{call.base_url}/b2api/{call.version}/b2_upload_part/{file_id}",
        "authorizationToken": token,
    }


def list_file_names(call: Call) -> dict[str, Any]:
    """b2_list_file_names: the visible newest version of each name."""
    key, _bucket = _own_bucket(call, "listFiles")
    call.engine.require_prefix(key, call.get("prefix") or "")
    entries, next_name = call.files.list_names(
        call.need("bucketId"),
        call.get("startFileName") or "",
        call.count("maxFileCount", 100, 10000),
        call.get("prefix") or "",
        call.get("delimiter"),
    )
    return {"files": [file_json(call.engine, e) for e in entries], "nextFileName": next_name}


def list_file_versions(call: Call) -> dict[str, Any]:
    """b2_list_file_versions: every version and hide marker, newest first per name."""
    key, _bucket = _own_bucket(call, "listFiles")
    call.engine.require_prefix(key, call.get("prefix") or "")
    entries, nxt = call.files.list_versions(
        call.need("bucketId"),
        call.get("startFileName") or "",
        call.get("startFileId"),
        call.count("maxFileCount", 100, 10000),
        call.get("prefix") or "",
        call.get("delimiter"),
    )
    next_name, next_id = nxt if nxt is not None else (None, None)
    return {
        "files": [file_json(call.engine, e) for e in entries],
        "nextFileName": next_name,
        "nextFileId": next_id,
    }


def get_file_info(call: Call) -> dict[str, Any]:
    """b2_get_file_info."""
    row = call.files.version(call.need("fileId"))
    _own_bucket(call, "readFiles", row.bucket_id)
    return file_json(call.engine, row)


def delete_file_version(call: Call) -> dict[str, Any]:
    """b2_delete_file_version."""
    key = call.key()
    name, file_id = call.need("fileName"), call.need("fileId")
    found = call.engine.store.file_by_id(file_id)
    call.engine.require(key, "deleteFiles", found.bucket_id if found else None)
    call.engine.require_prefix(key, name)
    row = call.files.delete_version(name, file_id)
    return {"fileId": row.file_id, "fileName": row.name}


def hide_file(call: Call) -> dict[str, Any]:
    """b2_hide_file."""
    key, _bucket = _own_bucket(call, "writeFiles")
    call.engine.require_prefix(key, call.need("fileName"))
    return file_json(call.engine, call.files.hide(call.need("bucketId"), call.need("fileName")))


def start_large_file(call: Call) -> dict[str, Any]:
    """b2_start_large_file."""
    key, bucket = _own_bucket(call, "writeFiles")
    name = check_name(call.need("fileName"))
    call.engine.require_prefix(key, name)
    info = call.get("fileInfo", dict) or {}
    row = call.files.start_large(bucket.bucket_id, name, call.need("contentType"), info)
    return file_json(call.engine, row)


def finish_large_file(call: Call) -> dict[str, Any]:
    """b2_finish_large_file."""
    row = call.files.unfinished(call.need("fileId"))
    _own_bucket(call, "writeFiles", row.bucket_id)
    sha1s = call.need("partSha1Array", list)
    return file_json(call.engine, call.files.finish_large(row.file_id, sha1s))


def cancel_large_file(call: Call) -> dict[str, Any]:
    """b2_cancel_large_file."""
    row = call.files.unfinished(call.need("fileId"))
    _own_bucket(call, "writeFiles", row.bucket_id)
    call.files.cancel_large(row.file_id)
    return {"fileId": row.file_id, "fileName": row.name, "accountId": call.engine.account_id,
            "bucketId": row.bucket_id}  # fmt: skip


def list_unfinished_large_files(call: Call) -> dict[str, Any]:
    """b2_list_unfinished_large_files."""
    _own_bucket(call, "listFiles")
    limit = call.count("maxFileCount", 100, 100)
    prefix = call.get("namePrefix") or ""
    rows = call.engine.store.unfinished(call.need("bucketId"), call.get("startFileId"), 10**9)
    rows = [r for r in rows if r.name.startswith(prefix)]
    next_id = rows[limit].file_id if len(rows) > limit else None
    return {"files": [file_json(call.engine, r) for r in rows[:limit]], "nextFileId": next_id}


def list_parts(call: Call) -> dict[str, Any]:
    """b2_list_parts."""
    row = call.files.unfinished(call.need("fileId"))
    _own_bucket(call, "writeFiles", row.bucket_id)
    limit = call.count("maxPartCount", 100, 1000)
    parts = call.engine.store.parts(row.file_id, call.get("startPartNumber", int) or 1, limit + 1)
    body = [part_json(row.file_id, p) for p in parts[:limit]]
    return {
        "parts": body,
        "nextPartNumber": parts[limit].part_number if len(parts) > limit else None,
    }


def get_download_authorization(call: Call) -> dict[str, Any]:
    """b2_get_download_authorization: a token for names under a prefix, with header overrides."""
    key, bucket = _own_bucket(call, "shareFiles")
    prefix = call.get("fileNamePrefix")
    if prefix is None:
        raise bad_request("Missing required parameter: fileNamePrefix")
    call.engine.require_prefix(key, prefix)
    seconds = call.need("validDurationInSeconds", int)
    if not 1 <= seconds <= MAX_DOWNLOAD_AUTH_SECONDS:
        raise bad_request(f"validDurationInSeconds must be 1 to {MAX_DOWNLOAD_AUTH_SECONDS}")
    overrides = {k: call.get(k) for k in DOWNLOAD_OVERRIDES if call.get(k) is not None}
    if "filename*=" in overrides.get("b2ContentDisposition", ""):
        raise bad_request("b2ContentDisposition must not use filename*=")
    payload = {"b": bucket.bucket_id, "p": prefix, "e": now_ms() + seconds * 1000, "o": overrides}
    return {
        "bucketId": bucket.bucket_id,
        "fileNamePrefix": prefix,
        "authorizationToken": call.engine.tokens.issue("dnld", payload),
    }


HANDLERS: dict[str, Callable[[Call], dict[str, Any]]] = {
    "b2_list_buckets": list_buckets,
    "b2_create_bucket": create_bucket,
    "b2_update_bucket": update_bucket,
    "b2_delete_bucket": delete_bucket,
    "b2_get_upload_url": get_upload_url,
    "b2_get_upload_part_url": get_upload_part_url,
    "b2_list_file_names": list_file_names,
    "b2_list_file_versions": list_file_versions,
    "b2_get_file_info": get_file_info,
    "b2_delete_file_version": delete_file_version,
    "b2_hide_file": hide_file,
    "b2_start_large_file": start_large_file,
    "b2_finish_large_file": finish_large_file,
    "b2_cancel_large_file": cancel_large_file,
    "b2_list_unfinished_large_files": list_unfinished_large_files,
    "b2_list_parts": list_parts,
    "b2_get_download_authorization": get_download_authorization,
}


def unknown_endpoint(name: str) -> B2Error:
    """Return the 404 for an API name B2 does not have."""
    return B2Error(404, "not_found", f"Unknown API endpoint: {name}")
