"""B2's bucket endpoints: list, create, update and delete."""

from __future__ import annotations

from typing import Any

from .calls import Call
from .refusals import BUCKET_PARAMS
from .wire import bucket_json


def list_buckets(call: Call) -> dict[str, Any]:
    """b2_list_buckets: every bucket the key may see, filtered by id, name or type."""
    key = call.key()
    key.require("listBuckets")
    bucket_id, name = call.get("bucketId"), call.get("bucketName")
    types = call.get("bucketTypes", list) or ["all"]
    buckets = [
        b
        for b in call.engine.list_buckets()
        if bucket_id in (None, b.bucket_id)
        and name in (None, b.name)
        and key.allows_bucket(b.bucket_id)
        and ("all" in types or b.type in types)
    ]
    return {"buckets": [bucket_json(call.engine, b) for b in buckets]}


def create_bucket(call: Call) -> dict[str, Any]:
    """b2_create_bucket."""
    call.key().require("writeBuckets")
    call.refuse(BUCKET_PARAMS)
    bucket = call.engine.create_bucket(
        call.need("bucketName"), call.need("bucketType"), info=call.get("bucketInfo", dict)
    )
    return bucket_json(call.engine, bucket)


def update_bucket(call: Call) -> dict[str, Any]:
    """b2_update_bucket."""
    call.bucket("writeBuckets")
    call.refuse(BUCKET_PARAMS)
    bucket = call.engine.update_bucket(
        call.need("bucketId"),
        bucket_type=call.get("bucketType"),
        info=call.get("bucketInfo", dict),
        if_revision_is=call.get("ifRevisionIs", int),
    )
    return bucket_json(call.engine, bucket)


def delete_bucket(call: Call) -> dict[str, Any]:
    """b2_delete_bucket."""
    call.bucket("deleteBuckets")
    return bucket_json(call.engine, call.engine.delete_bucket(call.need("bucketId")))


HANDLERS = {
    "b2_list_buckets": list_buckets,
    "b2_create_bucket": create_bucket,
    "b2_update_bucket": update_bucket,
    "b2_delete_bucket": delete_bucket,
}
