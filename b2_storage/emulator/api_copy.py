"""B2's server-side copy: b2_copy_file (a new file from a file version, or a range of it, in the
same or another bucket) and b2_copy_part (a part of a large file from a file version).

The key needs ``readFiles`` on the source and ``writeFiles`` on the destination, each within its
bucket and name prefix restrictions.
"""

from __future__ import annotations

from typing import Any

from .calls import Call
from .copying import byte_range, check_source
from .errors import bad_request
from .fileinfo import check_info
from .refusals import COPY_PARAMS
from .rows import FileRow
from .upload import check_name, content_type_for
from .wire import file_json, part_json

DIRECTIVES = ("COPY", "REPLACE")


def _metadata(call: Call, name: str, source: FileRow) -> tuple[str, dict[str, str]]:
    """Return the new file's content type and info, as ``metadataDirective`` says."""
    directive = call.get("metadataDirective") or "COPY"
    if directive not in DIRECTIVES:
        raise bad_request("metadataDirective must be COPY or REPLACE")
    content_type, info = call.get("contentType"), call.get("fileInfo", dict)
    if directive == "COPY":
        if content_type is not None or info is not None:
            raise bad_request("contentType and fileInfo are only allowed with REPLACE")
        return source.content_type, source.info
    if content_type is None:
        raise bad_request("metadataDirective REPLACE needs a contentType")
    return content_type_for(content_type, name), check_info(info or {})


def copy_file(call: Call) -> dict[str, Any]:
    """b2_copy_file: a new file version whose bytes come from another version."""
    call.refuse(COPY_PARAMS)
    source = call.files.version(call.need("sourceFileId"))
    key = call.file("readFiles", source)
    check_source(source)
    destination = call.get("destinationBucketId") or source.bucket_id
    name = check_name(call.need("fileName"))
    key.require("writeFiles", destination)
    key.require_prefix(name)
    call.engine.bucket(destination)
    content_type, info = _metadata(call, name, source)
    first, last = byte_range(source, call.get("range", (str,)))
    blob = call.files.copy_blob(source, first, last)
    row = call.files.add_upload(destination, name, content_type, info, blob)
    body = file_json(call, row)
    body["action"] = "copy"  # B2 says "copy" in this answer; the version is an upload
    return body


def copy_part(call: Call) -> dict[str, Any]:
    """b2_copy_part: one part of a started large file, copied from a file version."""
    call.refuse(COPY_PARAMS)
    source = call.files.version(call.need("sourceFileId"))
    call.file("readFiles", source)
    check_source(source)
    large = call.files.unfinished(call.need("largeFileId"))
    call.file("writeFiles", large)
    number = call.need("partNumber", int)
    first, last = byte_range(source, call.get("range", (str,)))
    blob = call.files.copy_blob(source, first, last)
    return part_json(large.file_id, call.files.add_part(large.file_id, number, blob))


HANDLERS = {"b2_copy_file": copy_file, "b2_copy_part": copy_part}
