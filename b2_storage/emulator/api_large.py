"""B2's large-file endpoints: start, part upload URLs, finish, cancel, and the listings of
unfinished files and of parts. A key limited to a name prefix reaches only large files inside it.
"""

from __future__ import annotations

from typing import Any

from .calls import Call
from .refusals import FILE_PARAMS
from .upload import check_name
from .wire import file_json, part_json


def start_large_file(call: Call) -> dict[str, Any]:
    """b2_start_large_file."""
    key, bucket = call.bucket("writeFiles")
    call.refuse(FILE_PARAMS)
    name = check_name(call.need("fileName"))
    key.require_prefix(name)
    info = call.get("fileInfo", dict) or {}
    row = call.files.start_large(bucket.bucket_id, name, call.need("contentType"), info)
    return file_json(call, row)


def get_upload_part_url(call: Call) -> dict[str, Any]:
    """b2_get_upload_part_url: an upload URL and token for one large file's parts."""
    row = call.files.unfinished(call.need("fileId"))
    key = call.file("writeFiles", row)
    token = call.engine.tokens.issue("upld", {"f": row.file_id, "k": key.key_id})
    return {
        "fileId": row.file_id,
        "uploadUrl": f"{call.base_url}/b2api/{call.version}/b2_upload_part/{row.file_id}",
        "authorizationToken": token,
    }


def finish_large_file(call: Call) -> dict[str, Any]:
    """b2_finish_large_file."""
    row = call.files.unfinished(call.need("fileId"))
    call.file("writeFiles", row)
    sha1s = call.need("partSha1Array", list)
    return file_json(call, call.files.finish_large(row.file_id, sha1s))


def cancel_large_file(call: Call) -> dict[str, Any]:
    """b2_cancel_large_file."""
    row = call.files.unfinished(call.need("fileId"))
    call.file("writeFiles", row)
    call.files.cancel_large(row.file_id)
    return {
        "fileId": row.file_id,
        "fileName": row.name,
        "accountId": call.engine.account_id,
        "bucketId": row.bucket_id,
    }


def list_unfinished_large_files(call: Call) -> dict[str, Any]:
    """b2_list_unfinished_large_files (a prefix-limited key lists inside its prefix only)."""
    key, _bucket = call.bucket("listFiles")
    limit = call.count("maxFileCount", 100, 100)
    prefix = call.get("namePrefix") or ""
    key.require_prefix(prefix)
    rows = call.files.list_unfinished(call.need("bucketId"), call.get("startFileId"), 10**9)
    rows = [r for r in rows if r.name.startswith(prefix)]
    next_id = rows[limit].file_id if len(rows) > limit else None
    return {"files": [file_json(call, r) for r in rows[:limit]], "nextFileId": next_id}


def list_parts(call: Call) -> dict[str, Any]:
    """b2_list_parts."""
    row = call.files.unfinished(call.need("fileId"))
    call.file("writeFiles", row)
    limit = call.count("maxPartCount", 100, 1000)
    parts = call.files.list_parts(row.file_id, call.get("startPartNumber", int) or 1, limit + 1)
    body = [part_json(row.file_id, p) for p in parts[:limit]]
    return {
        "parts": body,
        "nextPartNumber": parts[limit].part_number if len(parts) > limit else None,
    }


HANDLERS = {
    "b2_start_large_file": start_large_file,
    "b2_get_upload_part_url": get_upload_part_url,
    "b2_finish_large_file": finish_large_file,
    "b2_cancel_large_file": cancel_large_file,
    "b2_list_unfinished_large_files": list_unfinished_large_files,
    "b2_list_parts": list_parts,
}
