"""B2's JSON shapes of buckets, file versions, parts and account authorization.

camelCase wire keys live here and in :mod:`.api`, nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .engine import Engine, Key
from .files import Folder
from .rows import BucketRow, FileRow, PartRow

if TYPE_CHECKING:
    from .calls import Call


def bucket_json(engine: Engine, bucket: BucketRow) -> dict[str, Any]:
    """Return a bucket as B2 describes it."""
    return {
        "accountId": engine.account_id,
        "bucketId": bucket.bucket_id,
        "bucketName": bucket.name,
        "bucketType": bucket.type,
        "bucketInfo": bucket.info,
        "corsRules": bucket.cors,
        "lifecycleRules": bucket.lifecycle,
        "options": [],
        "revision": bucket.revision,
        "defaultServerSideEncryption": {"isClientAuthorizedToRead": True, "value": {"mode": None}},
        "fileLockConfiguration": {
            "isClientAuthorizedToRead": True,
            "value": {
                "defaultRetention": {"mode": None, "period": None},
                "isFileLockEnabled": False,
            },
        },
        "replicationConfiguration": {"isClientAuthorizedToRead": True, "value": None},
    }


def file_json(call: Call, row: FileRow | Folder) -> dict[str, Any]:
    """Return a file version (or a listing's folder) as B2 describes it in the call's version."""
    if isinstance(row, Folder):
        return {
            "action": "folder",
            "fileName": row.name,
            "fileId": None,
            "contentLength": 0,
            "contentSha1": None,
            "contentType": None,
            "fileInfo": {},
            "uploadTimestamp": 0,
            **({"size": 0} if call.version == "v1" else {}),
        }
    body: dict[str, Any] = {
        "accountId": call.engine.account_id,
        "action": row.action,
        "bucketId": row.bucket_id,
        "contentLength": row.size,
        "contentMd5": None,
        "contentSha1": row.sha1,
        "contentType": row.content_type or None,
        "fileId": row.file_id,
        "fileInfo": row.info,
        "fileName": row.name,
        "uploadTimestamp": row.upload_ts,
        "serverSideEncryption": {"mode": None},
        "replicationStatus": None,
    }
    if row.action != "hide":
        body["fileRetention"] = {"isClientAuthorizedToRead": True, "value": {"mode": None}}
        body["legalHold"] = {"isClientAuthorizedToRead": True, "value": None}
    if call.version == "v1":
        body["size"] = row.size  # v1's name for contentLength, which rclone reads in listings
    return body


def part_json(file_id: str, part: PartRow) -> dict[str, Any]:
    """Return one part of a large file as B2 describes it."""
    return {
        "fileId": file_id,
        "partNumber": part.part_number,
        "contentLength": part.size,
        "contentSha1": part.sha1,
        "contentMd5": None,
        "uploadTimestamp": part.upload_ts,
    }


def authorize_json(call: Call, key: Key, token: str) -> dict[str, Any]:
    """Return b2_authorize_account's answer in the shape of the call's API version.

    v1 and v2 answer flat, with one bucket in ``allowed`` (v1 adds the deprecated
    ``minimumPartSize``); v3 nests it under ``apiInfo.storageApi``; v4 allows several buckets.
    """
    settings = call.engine.settings
    buckets = [
        {"id": bucket_id, "name": found.name if found is not None else None}
        for bucket_id in key.bucket_ids or ()
        for found in [call.engine.find_bucket(bucket_id)]
    ]
    only = buckets[0] if buckets else {"id": None, "name": None}
    restriction = {"capabilities": list(key.capabilities), "namePrefix": key.name_prefix}
    urls: dict[str, Any] = {
        "absoluteMinimumPartSize": settings.min_part_size,
        "recommendedPartSize": settings.recommended_part_size,
        "apiUrl": call.base_url,
        "downloadUrl": call.base_url,
        "s3ApiUrl": call.base_url,
    }
    if call.version in ("v1", "v2"):
        allowed = {**restriction, "bucketId": only["id"], "bucketName": only["name"]}
        body = {
            "accountId": call.engine.account_id,
            "authorizationToken": token,
            "allowed": allowed,
            **urls,
        }
        if call.version == "v1":
            body["minimumPartSize"] = settings.recommended_part_size
        return body
    storage: dict[str, Any] = {**urls, "infoType": "storageApi"}
    if call.version == "v3":
        storage.update(restriction, bucketId=only["id"], bucketName=only["name"])
    else:
        storage["allowed"] = {**restriction, "buckets": buckets}
    return {
        "accountId": call.engine.account_id,
        "authorizationToken": token,
        "apiInfo": {"storageApi": storage},
        "applicationKeyExpirationTimestamp": key.expires,
    }
