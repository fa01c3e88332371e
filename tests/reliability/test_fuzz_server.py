"""Hostile requests at scale against the local B2 server (hypothesis, raw sockets).

Genuine requests of each kind (authorize, JSON calls, downloads by name and id with account and
download tokens, Range and response-header overrides, an upload) are mutated: path (bit flips,
truncation, encoded separators, double prefixes, overlong), method, headers (dropped, overlong,
control characters, broken Latin-1, Content-Length and Transfer-Encoding lies), tokens (bit flips,
truncation, padding, another kind's token), query overrides and JSON bodies (wrong types, missing
and unknown keys, garbage, deep nesting). Each request is written to a fresh socket, whose write
side is then shut (so a request that stops short cannot hang the test).

Asserted: never a 500 (or any 5xx but B2's 501 ``not_implemented``); an answered API error is B2's
``{"status", "code", "message"}`` with the HTTP status; a mutated credential never gets a 2xx (one
that decodes to a genuine credential is the same credential); a complete request always gets an
answer; and the server keeps answering genuine requests.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import pytest
import requests
from hypothesis import example, given
from hypothesis import strategies as st

from b2_storage.emulator import LocalB2
from tests.b2_access.conftest import new_bucket

from .conftest import Tally, fuzz_settings

pytestmark = pytest.mark.filterwarnings(
    "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
)
TIMEOUT = 10
API_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
ERROR_KEYS = {"status", "code", "message"}


@dataclass(frozen=True)
class Raw:
    """One HTTP request, as parts we can mutate."""

    kind: str
    method: str
    path: str  # with the query, as sent (already percent-encoded)
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""
    credential: str = ""  # "header", "query" or "" (where the credential travels)
    fix_length: bool = True  # set Content-Length to the body's length

    def encode(self) -> bytes:
        headers = [
            (k, v) for k, v in self.headers if not (self.fix_length and k == "Content-Length")
        ]
        if self.fix_length and (self.body or self.method in ("POST", "PUT", "PATCH")):
            headers.append(("Content-Length", str(len(self.body))))
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        head = "\r\n".join(lines + [f"{k}: {v}" for k, v in headers]) + "\r\n\r\n"
        return head.encode("utf-8", "surrogateescape") + self.body


@dataclass
class Account:
    """What the genuine requests are made of."""

    server: LocalB2
    bucket: str
    bucket_id: str
    account_id: str
    token: str
    download_token: str
    pinned_token: str  # a download token pinning b2ContentDisposition=attachment
    upload_path: str
    upload_token: str
    file_id: str
    credentials: set[str] = field(default_factory=set)  # every genuine token and Basic pair

    def basic(self) -> str:
        pair = f"{self.server.application_key_id}:{self.server.application_key}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


def api(account: Account, name: str, body: dict[str, Any], token: str | None = None) -> Any:
    response = requests.post(
        f"{account.server.realm}/b2api/v2/{name}",
        json=body,
        headers={"Authorization": token or account.token},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()


@pytest.fixture
def account(b2_server: LocalB2) -> Account:
    bucket = new_bucket(b2_server)
    auth = requests.get(
        f"{b2_server.realm}/b2api/v2/b2_authorize_account",
        auth=(b2_server.application_key_id, b2_server.application_key),
        timeout=TIMEOUT,
    ).json()
    acc = Account(
        b2_server, bucket, "", auth["accountId"], auth["authorizationToken"], "", "", "", "", ""
    )
    acc.bucket_id = api(
        acc, "b2_list_buckets", {"accountId": acc.account_id, "bucketName": bucket}
    )["buckets"][0]["bucketId"]
    upload = api(acc, "b2_get_upload_url", {"bucketId": acc.bucket_id})
    acc.upload_path = urlsplit(upload["uploadUrl"]).path
    acc.upload_token = upload["authorizationToken"]
    for name, data in [("docs/a.txt", b"hello docs"), ("secret/b.txt", b"top secret")]:
        sha1 = hashlib.sha1(data).hexdigest()
        stored = requests.post(
            upload["uploadUrl"],
            data=data,
            timeout=TIMEOUT,
            headers={
                "Authorization": acc.upload_token,
                "X-Bz-File-Name": name,
                "Content-Type": "b2/x-auto",
                "X-Bz-Content-Sha1": sha1,
            },
        ).json()
        acc.file_id = acc.file_id or stored["fileId"]
    grant = {"bucketId": acc.bucket_id, "fileNamePrefix": "docs/", "validDurationInSeconds": 600}
    acc.download_token = api(acc, "b2_get_download_authorization", grant)["authorizationToken"]
    pinned = {**grant, "b2ContentDisposition": "attachment"}
    acc.pinned_token = api(acc, "b2_get_download_authorization", pinned)["authorizationToken"]
    acc.credentials = {acc.token, acc.download_token, acc.pinned_token, acc.upload_token}
    return acc


def genuine(acc: Account) -> list[Raw]:
    """Return one genuine request of each kind (each answered 2xx, checked by a test below)."""
    json_headers = (("Content-Type", "application/json"), ("Authorization", acc.token))

    def call(name: str, body: dict[str, Any], version: str = "v2") -> Raw:
        return Raw(
            name,
            "POST",
            f"/b2api/{version}/{name}",
            json_headers,
            json.dumps(body).encode(),
            "header",
        )

    file_path = f"/file/{acc.bucket}/docs/a.txt"
    data = b"uploaded by the fuzzer"
    return [
        Raw(
            "authorize",
            "GET",
            "/b2api/v2/b2_authorize_account",
            (("Authorization", acc.basic()),),
            credential="header",
        ),
        Raw(
            "authorize v4",
            "GET",
            "/b2api/v4/b2_authorize_account",
            (("Authorization", acc.basic()),),
            credential="header",
        ),
        call("b2_list_buckets", {"accountId": acc.account_id, "bucketName": acc.bucket}),
        call(
            "b2_list_file_names",
            {"bucketId": acc.bucket_id, "prefix": "docs/", "maxFileCount": 10, "delimiter": "/"},
        ),
        call("b2_list_file_versions", {"bucketId": acc.bucket_id, "maxFileCount": 5}, "v3"),
        call("b2_get_file_info", {"fileId": acc.file_id}),
        call(
            "b2_get_download_authorization",
            {
                "bucketId": acc.bucket_id,
                "fileNamePrefix": "docs/a",
                "validDurationInSeconds": 60,
                "b2ContentDisposition": 'attachment; filename="a.txt"',
            },
        ),
        call("b2_get_upload_url", {"bucketId": acc.bucket_id}, "v4"),
        Raw(
            "list_file_names by GET",
            "GET",
            f"/b2api/v2/b2_list_file_names?bucketId={acc.bucket_id}&prefix=docs%2F",
            (("Authorization", acc.token),),
            credential="header",
        ),
        Raw(
            "download (query token)",
            "GET",
            f"{file_path}?Authorization={quote(acc.download_token)}",
            (),
            credential="query",
        ),
        Raw(
            "download (header token)",
            "GET",
            file_path,
            (("Authorization", acc.download_token), ("Range", "bytes=0-3")),
            credential="header",
        ),
        Raw(
            "download (pinned)",
            "GET",
            f"{file_path}?Authorization={quote(acc.pinned_token)}&b2ContentDisposition=attachment",
            (),
            credential="query",
        ),
        Raw(
            "download (account token)",
            "HEAD",
            file_path,
            (("Authorization", acc.token),),
            credential="header",
        ),
        Raw(
            "download by id",
            "GET",
            f"/b2api/v2/b2_download_file_by_id?fileId={acc.file_id}",
            (("Authorization", acc.token), ("Range", "bytes=-4")),
            credential="header",
        ),
        Raw(
            "upload",
            "POST",
            acc.upload_path,
            (
                ("Authorization", acc.upload_token),
                ("X-Bz-File-Name", "fuzz/up%20load.txt"),
                ("Content-Type", "b2/x-auto"),
                ("X-Bz-Content-Sha1", hashlib.sha1(data).hexdigest()),
                ("X-Bz-Info-src", "fuzz"),
            ),
            data,
            "header",
        ),
    ]


# -- sending -------------------------------------------------------------------------------------
@dataclass
class Answer:
    status: int | None  # None: the connection closed without an answer
    headers: dict[str, str]
    body: bytes


def send(server: LocalB2, data: bytes, method: str) -> Answer:
    """Write ``data`` to a new connection, shut its write side, and read one answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server closed early (an overlong line): read what it said
            pass
        response = http.client.HTTPResponse(sock, method=method if method == "HEAD" else "GET")
        try:
            response.begin()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return Answer(None, {}, b"")
        except http.client.BadStatusLine:  # an HTTP/0.9 answer to an HTTP/0.9-looking request
            return Answer(0, {}, b"")
        try:
            body = response.read()
        except (http.client.IncompleteRead, ConnectionResetError) as exc:
            body = getattr(exc, "partial", b"")
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


# -- mutations -----------------------------------------------------------------------------------
JUNK = [
    "%2F",
    "%2e%2e",
    "%252F",
    "..",
    "/",
    "//",
    "\\",
    "%00",
    "%20",
    "%C3",
    "%ff",
    "~",
    ";",
    "?",
    "#",
    "&",
    "=",
    "é",
    "%u2215",
    "b2api/",
    "/b2api/v2/",
    "file/",
    "/file/",
]
CONTROL = [chr(c) for c in (0, 1, 8, 9, 11, 12, 27, 0x7F, 0x85)]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
QUERY_KEYS = [
    "Authorization",
    "b2ContentDisposition",
    "b2ContentType",
    "b2CacheControl",
    "b2ContentLanguage",
    "b2Expires",
    "b2ContentEncoding",
    "fileId",
    "bucketId",
    "maxFileCount",
    "prefix",
    "startFileName",
    "delimiter",
]
GARBAGE_BODIES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"1e999999",
    b'"x"',
    b'{"a":',
    b"\xff\xfe{}",
    b"[" * 500 + b"]" * 500,
    b'{"a":' * 500 + b"1" + b"}" * 500,
    b'{"bucketId": NaN}',
    b'{"maxFileCount": 1e400}',
    b"\x00" * 64,
]
# Nesting past Python's recursion limit (json.loads raises RecursionError): its own test below.
DEEP_BODIES = {
    "array": b"[" * 100_000 + b"]" * 100_000,
    "object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
}


def flip(text: str, index: int, bit: int) -> str:
    raw = bytearray(text.encode("utf-8", "surrogateescape"))
    if not raw:
        return text
    raw[index % len(raw)] ^= 1 << bit
    return raw.decode("utf-8", "surrogateescape")


def mutate_text(draw: st.DrawFn, text: str, others: list[str]) -> str:
    """A mutation of a token or a path: bit flip, truncation, padding, insertion, case, swap."""
    index = draw(st.integers(0, 10_000))
    how = draw(
        st.sampled_from(
            ["flip", "truncate", "pad", "insert", "control", "case", "swap", "overlong", "empty"]
        )
    )
    position = index % (len(text) + 1)
    if how == "flip":
        return flip(text, index, draw(st.integers(0, 7)))
    if how == "truncate":
        return text[:position] if draw(st.booleans()) else text[position:]
    if how == "pad":
        pad = draw(st.text(st.sampled_from("= .A0_-/%+é"), min_size=1, max_size=6))
        return pad + text if draw(st.booleans()) else text + pad
    if how == "insert":
        return text[:position] + draw(st.sampled_from(JUNK)) + text[position:]
    if how == "control":
        return text[:position] + draw(st.sampled_from(CONTROL)) + text[position:]
    if how == "case":
        return text.swapcase() if draw(st.booleans()) else text[:position] + text[position:].upper()
    if how == "swap":
        return draw(st.sampled_from(others))
    if how == "overlong":  # past http.server's 64 KiB line limit, but not megabytes
        return (text * draw(st.sampled_from([2, 50, 3000])))[:80_000]
    return ""


@st.composite
def mutated(draw: st.DrawFn, base: Raw, acc: Account) -> tuple[str, Raw]:
    others = [
        acc.token,
        acc.download_token,
        acc.pinned_token,
        acc.upload_token,
        acc.basic(),
        "Bearer " + acc.token,
        "Basic " + acc.token,
        acc.basic().lower(),
    ]
    what = draw(
        st.sampled_from(
            ["path", "method", "header", "credential", "query", "body", "length", "version"]
        )
    )
    if what == "credential" and base.credential:
        if base.credential == "header" and "Authorization" in dict(base.headers):
            headers = dict(base.headers)
            headers["Authorization"] = mutate_text(draw, headers["Authorization"], others)
            return what, replace(base, headers=tuple(headers.items()))
        path, _, query = base.path.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        params = [
            (k, mutate_text(draw, v, others) if k == "Authorization" else v) for k, v in params
        ]
        return what, replace(base, path=f"{path}?{encode_query(params)}")
    if what == "path" or (what == "credential" and not base.credential):
        return "path", replace(
            base,
            path=mutate_text(
                draw,
                base.path,
                [
                    "/b2api/v2/b2api/v2/b2_list_buckets",
                    "/file//file/x",
                    "//evil.com",
                    "*",
                    "",
                    f"/file/{acc.bucket}/secret/b.txt?Authorization={quote(acc.download_token)}",
                    f"/file/{acc.bucket}/docs/../secret/b.txt?Authorization={quote(acc.download_token)}",
                    f"/file/{acc.bucket}/docs%2F..%2Fsecret/b.txt?Authorization={quote(acc.download_token)}",
                    "/b2api/v2/b2_upload_file/",
                    "/b2api/v2/b2_upload_part/x",
                    "/b2api/v99/x",
                ],
            ),
        )
    if what == "method":
        method = draw(st.sampled_from([*API_METHODS, "TRACE", "CONNECT", "FOO", "get", "GET GET"]))
        return what, replace(base, method=method)
    if what == "header":
        headers = list(base.headers)
        how = draw(st.sampled_from(["drop", "add", "overlong", "control", "latin1", "duplicate"]))
        name = draw(
            st.sampled_from(
                [
                    "Range",
                    "Content-Type",
                    "X-Bz-File-Name",
                    "X-Bz-Content-Sha1",
                    "X-Bz-Info-a",
                    "X-Bz-Server-Side-Encryption",
                    "X-Bz-Part-Number",
                    "Authorization",
                    "Expect",
                    "Cookie",
                    "X-Bz-Custom-Upload-Timestamp",
                    "If-Match",
                ]
            )
        )
        value = draw(
            st.text(max_size=20)
            | st.sampled_from(
                [
                    "bytes=0-",
                    "bytes=-0",
                    "bytes=5-1",
                    "bytes=0-1,2-3",
                    "bytes=99999999999999999999-",
                    "bytes=-99999999999999999999",
                    "bytes = 1-2",
                    "1-2",
                    "100-continue",
                    "b2/x-auto",
                    "SSE-C",
                    "AES256",
                    "%ZZ",
                    "a" * 300,
                    "0" * 40,
                    "-1",
                ]
            )
        )
        if how == "drop" and headers:
            headers.pop(draw(st.integers(0, len(headers) - 1)))
        elif how == "overlong":
            headers.append((name, "x" * draw(st.sampled_from([8_000, 70_000]))))
        elif how == "control":
            headers.append((name, value + draw(st.sampled_from(CONTROL)) + value))
        elif how == "latin1":
            headers.append((name, "\udcff\udcfe" + value))  # raw bytes 0xFF 0xFE on the wire
        elif how == "duplicate" and headers:
            headers.append(headers[draw(st.integers(0, len(headers) - 1))])
        else:
            headers.append((name, value.replace("\r", "").replace("\n", "")))
        return f"header {how}", replace(base, headers=tuple(headers))
    if what == "query":
        path, _, query = base.path.partition("?")
        params = parse_qsl(query, keep_blank_values=True)
        params.append(
            (
                draw(st.sampled_from(QUERY_KEYS)),
                draw(
                    st.text(max_size=40)
                    | st.sampled_from(
                        [
                            "attachment",
                            "text/html",
                            'inline; filename="x.html"',
                            "0",
                            "-1",
                            acc.token,
                            acc.download_token,
                            "\r\nSet-Cookie: a=b",
                            "x" * 5000,
                        ]
                    )
                ),
            )
        )
        if draw(st.booleans()):
            params.reverse()
        return what, replace(base, path=f"{path}?{encode_query(params)}")
    if what == "body":
        try:
            body = json.loads(base.body)
        except ValueError:  # a garbage body from an earlier mutation
            body = None
        if isinstance(body, dict) and draw(st.booleans()):
            how = draw(st.sampled_from(["drop", "retype", "add"]))
            key = draw(st.sampled_from(sorted(body) or ["x"]))
            if how == "drop":
                body.pop(key, None)
            elif how == "retype":
                body[key] = draw(json_values)
            else:
                body[draw(st.text(max_size=12))] = draw(json_values)
            return f"body {how}", replace(base, body=json.dumps(body).encode())
        return "body garbage", replace(base, body=draw(st.sampled_from(GARBAGE_BODIES)))
    if what == "length":
        lie = draw(
            st.sampled_from(
                [
                    "0",
                    "-1",
                    "abc",
                    "99999999999999999999",
                    "1 2",
                    "",
                    str(max(0, len(base.body) - 3)),
                    str(len(base.body) + 10),
                ]
            )
        )
        headers = (*base.headers, ("Content-Length", lie))
        if draw(st.booleans()):
            headers = (*headers, ("Transfer-Encoding", "chunked"))
        return what, replace(base, headers=headers, fix_length=False)
    version = draw(st.sampled_from(["v0", "v5", "V2", "", "v2 ", "..", "%76%32", "v1", "v4"]))
    parts = base.path.split("/")
    if len(parts) > 2 and parts[1] == "b2api":
        parts[2] = version
    return "version", replace(base, path="/".join(parts))


def encode_query(params: list[tuple[str, str]]) -> str:
    """Percent-encode a query (a bit flip's lone surrogate goes out as the raw byte it was)."""
    return urlencode(params, encoding="utf-8", errors="surrogateescape")


def same_credential(acc: Account, request: Raw) -> bool:
    """Return whether the request's credential means a genuine one (B2 decodes it first)."""
    if request.credential == "query":
        value = dict(parse_qsl(request.path.partition("?")[2])).get("Authorization", "")
        values = {value}
    else:
        values = {v.strip(" \t") for k, v in request.headers if k.lower() == "authorization"}
    for value in values:
        if value in acc.credentials:
            return True
        scheme, _, encoded = value.partition(" ")
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except ValueError:
            continue
        key = f"{acc.server.application_key_id}:{acc.server.application_key}"
        if scheme.lower() == "basic" and decoded == key:
            return True
    return False


def complete(request: Raw, data: bytes) -> bool:
    """Return whether ``data`` is one well-formed request that a server must answer."""
    head, sep, _ = data.partition(b"\r\n\r\n")
    if not sep or len(head) > 60_000 or any(c in head for c in (b"\x00", b"\n\n")):
        return False
    words = head.split(b"\r\n", 1)[0].decode("latin-1").split()  # as http.server splits it
    return (
        len(words) == 3
        and words[2] in ("HTTP/1.0", "HTTP/1.1")
        and b"\r" not in head.replace(b"\r\n", b"")
    )


def check(acc: Account, kind: str, request: Raw, base: Raw) -> Answer:
    data = request.encode()
    well_formed = complete(request, data)
    answer = send(acc.server, data, request.method)
    shown = f"{kind} of {base.kind}: {data[:400]!r}... -> {answer.status} {answer.body[:300]!r}"
    if answer.status is None:
        assert not (well_formed and request.fix_length), f"no answer: {shown}"
        return answer
    assert answer.status < 500 or answer.status == 501, shown
    if well_formed:
        assert answer.status != 0, f"a well-formed request answered without HTTP/1.x: {shown}"
    target = request.path.split("?")[0]
    reached_api = (
        request.method in API_METHODS
        and target.startswith(("/b2api/", "/file/"))
        and well_formed
        and len(data.partition(b"\r\n")[0]) < 65_000
    )
    if answer.status >= 400 and reached_api and request.method != "HEAD":
        try:
            body = json.loads(answer.body)
        except ValueError:
            pytest.fail(f"an API error that is not B2's JSON: {shown}")
        assert set(body) == ERROR_KEYS, shown
        assert body["status"] == answer.status, shown
        assert isinstance(body["code"], str) and isinstance(body["message"], str), shown
    if kind == "credential" and 200 <= answer.status < 300:
        assert same_credential(acc, request), f"a mutated credential was accepted: {shown}"
    return answer


def test_genuine_requests_succeed(account: Account) -> None:
    for raw in genuine(account):
        answer = send(account.server, raw.encode(), raw.method)
        assert answer.status in (200, 206), (raw.kind, answer.status, answer.body[:300])


@fuzz_settings(2500)
@given(data=st.data())
@example(data=None)
def test_server_survives_hostile_requests(tally: Tally, account: Account, data: Any) -> None:
    bases = genuine(account)
    if data is None:  # framing that no mutation of a genuine request reaches, once
        for raw in [
            b"",
            b"\r\n",
            b"GET\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"\x16\x03\x01\x00",
            b"GET /b2api/v2/b2_list_buckets HTTP/1.1\r\nNoColon\r\n\r\n",
            b"POST /b2api/v2/b2_list_buckets HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET /file/x/y HTTP/1.1\nHost: a\n\n",
            b"GET " + b"/a" * 40_000 + b" HTTP/1.1\r\n\r\n",
            b"GET /b2api/v2/b2_list_buckets HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
        ]:
            answer = send(account.server, raw, "GET")
            assert answer.status is None or answer.status < 500, (raw[:200], answer)
            tally.add("framing")
        return
    for _ in range(2):  # two requests per example: generating them costs as much as sending
        base = data.draw(st.sampled_from(bases), label="base")
        kind, request = data.draw(mutated(base, account), label="mutation")
        if data.draw(st.integers(0, 4), label="twice") == 0:  # sometimes two mutations at once
            kind2, request = data.draw(mutated(request, account), label="second mutation")
            kind = kind if kind2 == kind else "mixed"  # acceptance of a credential not judged
        tally.add(kind)
        check(account, kind, request, base)


def test_server_still_answers_after_the_fuzz(account: Account) -> None:
    """Run after the fuzz in the same worker or not: a burst of bad requests then a good one."""
    for raw in [b"\x00" * 100, b"GET " + b"x" * 70_000 + b" HTTP/1.1\r\n\r\n"] * 20:
        send(account.server, raw, "GET")
    test_genuine_requests_succeed(account)


@pytest.mark.parametrize("shape", list(DEEP_BODIES))
def test_deeply_nested_json_body_is_a_400(account: Account, shape: str) -> None:
    """A JSON body nested deeper than Python's recursion limit is a bad request like any other
    body that is not a JSON object (found by the fuzzer: json.loads raises RecursionError)."""
    base = next(raw for raw in genuine(account) if raw.kind == "b2_list_buckets")
    request = replace(base, body=DEEP_BODIES[shape])
    answer = send(account.server, request.encode(), request.method)
    assert answer.status == 400, (
        f"POST /b2api/v2/b2_list_buckets with a {len(request.body)}-byte {shape} nested "
        f"{len(request.body) // 2 if shape == 'array' else 50_000} deep: expected B2's 400 "
        f"bad_request, got {answer.status} {answer.body!r} (server.py _call catches only "
        "ValueError from json.loads, not RecursionError)"
    )
    assert json.loads(answer.body)["code"] == "bad_request"
