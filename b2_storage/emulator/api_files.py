"""B2's endpoints for files: upload URLs, listing, file info, hiding, deleting versions, and
download authorization."""

from __future__ import annotations

from typing import Any

from .calls import Call
from .engine import MAX_DOWNLOAD_AUTH_SECONDS, now_ms
from .errors import bad_request
from .fileinfo import DOWNLOAD_OVERRIDES, check_header_value
from .wire import file_json


def get_upload_url(call: Call) -> dict[str, Any]:
    """b2_get_upload_url: an upload URL and token for one bucket."""
    key, bucket = call.bucket("writeFiles")
    token = call.engine.tokens.issue("upld", {"b": bucket.bucket_id, "k": key.key_id})
    return {
        "bucketId": bucket.bucket_id,
        "uploadUrl": f"{call.base_url}/b2api/{call.version}/b2_upload_file/{bucket.bucket_id}",
        "authorizationToken": token,
    }


def list_file_names(call: Call) -> dict[str, Any]:
    """b2_list_file_names: the visible newest version of each name."""
    key, _bucket = call.bucket("listFiles")
    key.require_prefix(call.get("prefix") or "")
    entries, next_name = call.files.list_names(
        call.need("bucketId"),
        call.get("startFileName") or "",
        call.count("maxFileCount", 100, 10000),
        call.get("prefix") or "",
        call.get("delimiter"),
    )
    return {"files": [file_json(call, e) for e in entries], "nextFileName": next_name}


def list_file_versions(call: Call) -> dict[str, Any]:
    """b2_list_file_versions: every version and hide marker, newest first per name."""
    key, _bucket = call.bucket("listFiles")
    key.require_prefix(call.get("prefix") or "")
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
        "files": [file_json(call, e) for e in entries],
        "nextFileName": next_name,
        "nextFileId": next_id,
    }


def get_file_info(call: Call) -> dict[str, Any]:
    """b2_get_file_info."""
    row = call.files.version(call.need("fileId"))
    call.file("readFiles", row)
    return file_json(call, row)


def delete_file_version(call: Call) -> dict[str, Any]:
    """b2_delete_file_version (``bypassGovernance`` is moot: no file is ever locked here)."""
    key = call.key()
    name, file_id = call.need("fileName"), call.need("fileId")
    found = call.files.find_version(file_id)
    key.require("deleteFiles", found.bucket_id if found else None)
    key.require_prefix(name)
    row = call.files.delete_version(name, file_id)
    return {"fileId": row.file_id, "fileName": row.name}


def hide_file(call: Call) -> dict[str, Any]:
    """b2_hide_file."""
    key, _bucket = call.bucket("writeFiles")
    key.require_prefix(call.need("fileName"))
    return file_json(call, call.files.hide(call.need("bucketId"), call.need("fileName")))


def get_download_authorization(call: Call) -> dict[str, Any]:
    """b2_get_download_authorization: a token for names under a prefix, with header overrides."""
    key, bucket = call.bucket("shareFiles")
    prefix = call.get("fileNamePrefix")
    if prefix is None:
        raise bad_request("Missing required parameter: fileNamePrefix")
    key.require_prefix(prefix)
    seconds = call.need("validDurationInSeconds", int)
    if not 1 <= seconds <= MAX_DOWNLOAD_AUTH_SECONDS:
        raise bad_request(f"validDurationInSeconds must be 1 to {MAX_DOWNLOAD_AUTH_SECONDS}")
    overrides = {
        field: check_header_value(field, call.get(field))
        for field in DOWNLOAD_OVERRIDES
        if call.get(field) is not None
    }
    if "filename*=" in overrides.get("b2ContentDisposition", ""):
        raise bad_request("b2ContentDisposition must not use filename*=")
    payload = {"b": bucket.bucket_id, "p": prefix, "e": now_ms() + seconds * 1000, "o": overrides}
    return {
        "bucketId": bucket.bucket_id,
        "fileNamePrefix": prefix,
        "authorizationToken": call.engine.tokens.issue("dnld", payload),
    }


HANDLERS = {
    "b2_get_upload_url": get_upload_url,
    "b2_list_file_names": list_file_names,
    "b2_list_file_versions": list_file_versions,
    "b2_get_file_info": get_file_info,
    "b2_delete_file_version": delete_file_version,
    "b2_hide_file": hide_file,
    "b2_get_download_authorization": get_download_authorization,
}
