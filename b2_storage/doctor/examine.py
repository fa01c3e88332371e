"""The checks of one storage that only read: its key, the key's reach, its bucket, the clock and
the caches it shares data through."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import caches

from ..storage import B2Storage
from ..translate import realm_url
from .findings import ERROR, OK, SKIP, WARN, Finding
from .probe import KeyGrant, ProbeFailed, Prober

# What the storage does with each capability, for the message that says one is missing.
USES = {
    "listBuckets": "finding its bucket",
    "listFiles": "exists(), listdir() and free names",
    "readFiles": "open()",
    "writeFiles": "save()",
    "deleteFiles": "delete()",
    "shareFiles": "download links to private files",
    "writeBuckets": "creating the bucket",
}
SKEW_WARN = 60.0  # seconds
SKEW_LIMIT = 600.0  # B2 refuses requests from a clock more than 10 minutes off


def examine(
    label: str, storage: B2Storage, prober: Prober
) -> tuple[list[Finding], KeyGrant | None]:
    """Return the findings about ``storage`` that need no write, and what B2 said about its key
    (``None`` when there is no key, or B2 refused it or could not be asked)."""
    config = storage.config
    findings: list[Finding] = []
    grant = None
    if not config.application_key_id.strip() or not config.application_key.strip():
        unset = f"no application key is set: set {config.key_source()}"
        findings.append(Finding(label, "credentials", ERROR, unset))
    else:
        try:
            grant = prober.authorize(config)
        except ProbeFailed as exc:
            findings.append(_refused(label, storage, exc))
    if grant is not None:
        findings.append(
            Finding(label, "credentials", OK, f"B2 accepted the key (realm {config.realm!r})")
        )
        findings.append(_clock(label, grant.clock_skew))
        findings.extend(_reach(label, storage, grant))
        bucket_type, found = _bucket(label, storage, grant, prober)
        findings.append(found)
        findings.append(_capabilities(label, storage, grant, bucket_type, found.status))
    findings.extend(_cache(label, alias) for alias in sorted(storage.cache_aliases()))
    return findings, grant


def _refused(label: str, storage: B2Storage, exc: ProbeFailed) -> Finding:
    config = storage.config
    if exc.status in (400, 401, 403):
        fix = f"set a valid key in {config.key_source()} (and check the realm {config.realm!r})"
        return Finding(label, "credentials", ERROR, f"B2 refused the key ({exc}): {fix}")
    url = realm_url(config.realm)
    where = url if url == config.realm else f"{config.realm!r} ({url})"
    return Finding(
        label,
        "credentials",
        ERROR,
        f"could not authorize with B2 at {where}: {exc}; check the 'realm' option and "
        "this host's network",
    )


def _clock(label: str, skew: float | None) -> Finding:
    if skew is None:
        return Finding(label, "clock", WARN, "B2 sent no Date header: the clock was not compared")
    off = abs(skew)
    if off < 2:  # B2's Date has whole seconds
        return Finding(label, "clock", OK, "this host's clock agrees with B2's (within 2 s)")
    said = f"this host's clock is {off:.0f} s {'ahead of' if skew > 0 else 'behind'} B2's"
    if off > SKEW_WARN:
        status = ERROR if off > SKEW_LIMIT else WARN
        return Finding(
            label,
            "clock",
            status,
            f"{said}; B2 refuses requests more than 10 minutes off: synchronize the clock (NTP)",
        )
    return Finding(label, "clock", OK, said)


def _reach(label: str, storage: B2Storage, grant: KeyGrant) -> list[Finding]:
    """Return whether the key's bucket and name-prefix restrictions cover the storage."""
    bucket, location = storage.config.bucket, storage.config.location
    if grant.bucket_id is None:
        reach = Finding(label, "key bucket", OK, "the key may use every bucket of the account")
    elif grant.bucket_name == bucket:
        reach = Finding(label, "key bucket", OK, f"the key is restricted to {bucket!r}")
    else:
        other = repr(grant.bucket_name) if grant.bucket_name else "a bucket that no longer exists"
        reach = Finding(
            label,
            "key bucket",
            ERROR,
            f"the key is restricted to {other}, not {bucket!r}: use a key for "
            f"{bucket!r} (or one for every bucket)",
        )
    prefix = grant.name_prefix or ""
    area = f"{location}/" if location else ""
    where = (
        f"the storage's location {location!r}"
        if location
        else "the whole bucket (the storage has no location)"
    )
    if not prefix:
        names = Finding(label, "key prefix", OK, "the key may use every file name")
    elif area.startswith(prefix):
        names = Finding(label, "key prefix", OK, f"the key's name prefix {prefix!r} covers {where}")
    else:
        names = Finding(
            label,
            "key prefix",
            ERROR,
            f"the key is restricted to names starting with {prefix!r}, which does not "
            f"cover {where}: set 'location' under that prefix, or use "
            "a key whose name prefix covers it",
        )
    return [reach, names]


def _bucket(
    label: str, storage: B2Storage, grant: KeyGrant, prober: Prober
) -> tuple[str | None, Finding]:
    """Return the bucket's type (``None``: missing or unknown) and the finding about it."""
    name = storage.config.bucket
    if grant.bucket_id is not None and grant.bucket_name != name:
        return None, Finding(label, "bucket", SKIP, "the key cannot see this bucket")
    try:
        bucket_type = prober.bucket_type(grant, name)
    except ProbeFailed as exc:
        status = SKIP if exc.status in (401, 403) else ERROR
        return None, Finding(label, "bucket", status, f"could not look up {name!r}: {exc}")
    if bucket_type is None:
        wanted = storage.config.create_bucket
        if wanted:
            kind = wanted if isinstance(wanted, str) else "allPrivate"
            return None, Finding(
                label,
                "bucket",
                WARN,
                f"{name!r} does not exist yet: the storage creates it ({kind}) on first use",
            )
        return None, Finding(
            label,
            "bucket",
            ERROR,
            f"{name!r} does not exist: create it, correct the 'bucket' option, "
            "or set 'create_bucket'",
        )
    if bucket_type == "allPublic" and storage.needs_private_bucket():
        return bucket_type, Finding(
            label,
            "bucket",
            ERROR,
            f"{name!r} is allPublic, but this storage's files are meant to open only through "
            f"its links: anyone could fetch its files directly at {grant.download_url}/file/"
            f"{name}/<name>. Make the bucket allPrivate, or use a public tier",
        )
    if bucket_type not in ("allPrivate", "allPublic"):
        return bucket_type, Finding(label, "bucket", WARN, f"{name!r} is {bucket_type}")
    return bucket_type, Finding(label, "bucket", OK, f"{name!r} exists ({bucket_type})")


def _capabilities(
    label: str, storage: B2Storage, grant: KeyGrant, bucket_type: str | None, bucket_status: str
) -> Finding:
    needed = set(storage.required_capabilities(bucket_type=bucket_type))
    if bucket_type is None and bucket_status == WARN:  # to be created by the storage
        needed.add("writeBuckets")
    missing = sorted(needed - grant.capabilities)
    wanted = ",".join(sorted(needed))
    if not missing:
        return Finding(label, "capabilities", OK, f"the key has {wanted.replace(',', ', ')}")
    lacks = ", ".join(f"{c} ({USES.get(c, 'used by the storage')})" for c in missing)
    return Finding(
        label,
        "capabilities",
        ERROR,
        f"the key lacks {lacks}: create a key with all the storage needs: b2 key create "
        f"--bucket {storage.config.bucket} KEY_NAME {wanted}",
    )


def _cache(label: str, alias: str) -> Finding:
    """Return whether the cache ``alias`` answers a set/get/delete round trip."""
    check = f"cache {alias!r}"
    if alias not in getattr(settings, "CACHES", {}):
        return Finding(
            label,
            check,
            ERROR,
            f"{alias!r} is not in CACHES: add it (the storage "
            "shares B2 account data or tokens through it)",
        )
    entry = f"b2_storage:doctor:{uuid.uuid4().hex}"
    try:
        cache = caches[alias]
        cache.set(entry, "b2doctor", 30)
        kept = cache.get(entry)
        cache.delete(entry)
        left = cache.get(entry)
    except Exception as exc:  # whatever the backend raises: its server is down, a bad LOCATION
        return Finding(
            label,
            check,
            ERROR,
            f"the cache failed ({type(exc).__name__}: {str(exc)[:120]}): until it "
            "works, each process keeps its own B2 account data and tokens",
        )
    if kept != "b2doctor" or left is not None:
        return Finding(
            label,
            check,
            WARN,
            "the cache does not keep values (a DummyCache?): "
            "each process authorizes with B2 and fetches tokens on its own",
        )
    return Finding(label, check, OK, "answered a set/get/delete round trip")
