"""B2's application-key endpoints: b2_create_key, b2_list_keys and b2_delete_key.

Up to ``/b2api/v3`` a key names one bucket (``bucketId``); ``/b2api/v4`` names a list
(``bucketIds``), and keys restricted to several buckets exist only there, as on B2.
"""

from __future__ import annotations

from typing import Any

from .accounts import now_ms
from .calls import Call
from .errors import bad_request
from .rows import KeyRow


def _multi_bucket(row: KeyRow) -> bool:
    return row.bucket_ids is not None and len(row.bucket_ids) > 1


def key_json(call: Call, row: KeyRow, *, secret: bool = False) -> dict[str, Any]:
    """Return a key as B2 describes it (its secret only when just created)."""
    body: dict[str, Any] = {
        "accountId": call.engine.account_id,
        "applicationKeyId": row.key_id,
        "keyName": row.name,
        "capabilities": list(row.capabilities),
        "expirationTimestamp": row.expires,
        "namePrefix": row.name_prefix,
        "options": ["s3"],
    }
    if call.version == "v4":
        body["bucketIds"] = None if row.bucket_ids is None else list(row.bucket_ids)
    else:
        body["bucketId"] = row.bucket_ids[0] if row.bucket_ids else None
    if secret:
        body["applicationKey"] = row.secret
    return body


def _bucket_ids(call: Call) -> list[str] | None:
    """Return the buckets a new key is limited to, from this version's parameter."""
    wanted, other = ("bucketIds", "bucketId") if call.version == "v4" else ("bucketId", "bucketIds")
    if call.get(other, (str, list)) is not None:
        raise bad_request(f"{other} is not a parameter of b2_create_key in {call.version}")
    if call.version != "v4":
        bucket_id = call.get("bucketId")
        return None if bucket_id is None else [bucket_id]
    bucket_ids = call.get("bucketIds", list)
    if bucket_ids is None:
        return None
    if not all(isinstance(b, str) for b in bucket_ids):
        raise bad_request("bucketIds must be a list of bucket ids")
    return [str(b) for b in bucket_ids]


def create_key(call: Call) -> dict[str, Any]:
    """b2_create_key: a new key, never with more than the calling key has."""
    key = call.key()
    key.require("writeKeys")
    row = call.engine.create_key(
        key,
        call.need("capabilities", list),
        name=call.need("keyName"),
        bucket_ids=_bucket_ids(call),
        name_prefix=call.get("namePrefix"),
        valid_seconds=call.get("validDurationInSeconds", int),
    )
    return key_json(call, row, secret=True)


def list_keys(call: Call) -> dict[str, Any]:
    """b2_list_keys: the account's keys but the master key, by id, from a start id."""
    call.key().require("listKeys")
    limit = call.count("maxKeyCount", 100, 10000)
    now = now_ms()
    rows = [
        row
        for row in call.engine.list_keys(call.get("startApplicationKeyId") or "", 10**9)
        if (row.expires is None or row.expires > now)
        and (call.version == "v4" or not _multi_bucket(row))
    ]
    return {
        "keys": [key_json(call, row) for row in rows[:limit]],
        "nextApplicationKeyId": rows[limit].key_id if len(rows) > limit else None,
    }


def delete_key(call: Call) -> dict[str, Any]:
    """b2_delete_key: the key is gone, and so are its account tokens."""
    call.key().require("deleteKeys")
    key_id = call.need("applicationKeyId")
    found = call.engine.find_key(key_id)
    if found is not None and _multi_bucket(found) and call.version != "v4":
        raise bad_request("A key restricted to several buckets is deleted with /b2api/v4")
    return key_json(call, call.engine.delete_key(key_id))


HANDLERS = {
    "b2_create_key": create_key,
    "b2_list_keys": list_keys,
    "b2_delete_key": delete_key,
}
