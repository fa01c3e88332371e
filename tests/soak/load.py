"""The soak's load: a bounded asyncio HTTP/1.1 client that follows signed links as the users of
the site would, and judges each answer against what the link's tier, user and file state say.

Verdicts: ``b2`` (302 to the file on B2), ``login`` (302 to ``LOGIN_URL``), ``invalid``,
``expired``, ``tier``, ``user`` (403 with that ``X-B2-Access`` reason) and ``missing`` (404).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

REQUEST_TIMEOUT = 60.0  # seconds: generous, the machine may be busy; no throughput asserts
RECONNECT_EVERY = 40  # requests per connection: new accepts spread the load over the workers
FOLLOW_EVERY = 25  # one 302 to a seed file in this many is followed to B2 and its SHA1 checked
EXPIRED_MARGIN = 3.0  # seconds after a link's expiry (itsdangerous rounds signing times down)


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


async def read_response(reader: asyncio.StreamReader) -> Response:
    """Read one HTTP/1.1 response (Content-Length, chunked, or until the connection closes)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("the server closed the connection")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        chunks = []
        while size := int((await reader.readline()).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        await reader.readline()  # the blank line after the last chunk
        body = b"".join(chunks)
    else:
        body = await reader.read()
    return Response(status, headers, body)


def request_bytes(path: str, host: str, cookie: str | None, *, close: bool = False) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}"]
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def fetch_once(url: str) -> Response:
    """GET an absolute http:// URL on a connection of its own (the browser's trip to B2)."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        writer.write(request_bytes(target, parts.netloc, None, close=True))
        return await read_response(reader)
    finally:
        writer.close()


def tamper(link: str, how: int) -> str:
    """Return ``link`` spoiled: another signature, another file's name, or another payload."""
    prefix, token, name = link.split("/", 3)[1:]
    payload, stamp, signature = token.split(".")
    if how == 0:
        signature = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif how == 1:
        name = name[:-5] + ("x" if name[-5] != "x" else "y") + name[-4:]
    else:
        payload = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    return f"/{prefix}/{payload}.{stamp}.{signature}/{name}"


@dataclass
class Pool:
    """The links the load may follow, kept up to date from the storage process's events."""

    cookies: dict[str, str]
    seed: dict[str, list[dict[str, Any]]]  # by tier
    bound: list[dict[str, Any]]
    expired: list[dict[str, Any]]
    fresh: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    gone: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=300))
    stale: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=300))
    deleting_at: dict[str, float] = field(default_factory=dict)  # fresh name -> when
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_event(self, event: dict[str, Any]) -> None:
        """Apply an event of the storage process (``live``, ``gone``, ``deleting``)."""
        with self.lock:
            kind = event["event"]
            if kind == "live":
                self.fresh[event["file"]["name"]] = event["file"]
            elif kind == "gone":
                self.gone.append(event["file"])
            elif kind == "deleting":
                self.deleting_at[event["name"]] = event["at"]
                old = self.fresh.pop(event["name"], None)
                if old is not None:
                    self.stale.append(old)

    def pick(self, rng: random.Random) -> tuple[str, dict[str, Any] | None, str, str | None]:
        """Return a request: (scenario, file, path, cookie user)."""
        member, other, boss = "member", "other", "boss"
        with self.lock:
            fresh = list(self.fresh.values()) if self.fresh else []
            choices: list[tuple[float, str, list[dict[str, Any]], str | None]] = [
                (3, "public anonymous", self.seed["public"], None),
                (1, "public member", self.seed["public"], member),
                (3, "members member", self.seed["logged_in"], member),
                (1, "members anonymous", self.seed["logged_in"], None),
                (1, "staff boss", self.seed["staff"], boss),
                (1, "staff member", self.seed["staff"], member),
                (0.5, "staff anonymous", self.seed["staff"], None),
                (0.5, "bound member", self.bound, member),
                (0.5, "bound other", self.bound, other),
                (1.5, "tampered", self.seed["logged_in"] + self.seed["public"], member),
                (0.5, "expired", self.expired, member),
                (1.5, "fresh", fresh, None),
                (1, "gone", list(self.gone), None),
                (0.5, "stale", list(self.stale), None),
            ]
        choices = [c for c in choices if c[2]]
        weight, scenario, files, user = rng.choices(choices, [c[0] for c in choices])[0]
        file = rng.choice(files)
        path = file["link"]
        if scenario == "tampered":
            path = tamper(path, rng.randrange(3))
        elif scenario in ("fresh", "gone", "stale"):
            user = member if file["tier"] != "public" or rng.random() < 0.3 else None
        return scenario, file, path, user

    def expected(self, scenario: str, file: dict[str, Any] | None) -> set[str]:
        """Return the verdicts that are right for ``scenario`` on ``file`` at this moment."""
        assert file is not None
        fixed = {
            "public anonymous": "b2",
            "public member": "b2",
            "members member": "b2",
            "members anonymous": "login",
            "staff boss": "b2",
            "staff member": "tier",
            "staff anonymous": "login",
            "bound member": "b2",
            "bound other": "user",
            "tampered": "invalid",
            "gone": "missing",
        }
        if scenario in fixed:
            return {fixed[scenario]}
        if scenario == "expired":
            age = time.time() - file["signed_at"]
            return {"expired"} if age > 1 + EXPIRED_MARGIN else {"expired", "b2"}
        if scenario == "stale":  # deleted after its link was followed: tokens may be warm
            return {"b2", "missing"}
        return {"b2"}  # fresh (a 404 is judged later against the time its delete began)


def verdict(response: Response, file: dict[str, Any], b2_netloc: str, bucket: str) -> str:
    """Return what ``response`` says about the link (``"5xx"``/``"other"`` when nothing fits)."""
    status, headers = response.status, response.headers
    if status >= 500:
        return "5xx"
    if status == 302:
        location = headers.get("location", "")
        if location.startswith("/login/?next="):
            return "login"
        parts = urlsplit(location)
        if (
            parts.netloc == b2_netloc
            and unquote(parts.path) == f"/file/{bucket}/{file['b2name']}"
            and parts.query.startswith("Authorization=")
            and "no-store" in headers.get("cache-control", "")
        ):
            return "b2"
        return "other"
    if status in (403, 404):
        reason = headers.get("x-b2-access", "")
        if (status, reason) == (404, "missing") or (
            status == 403 and reason in ("invalid", "expired", "tier", "user")
        ):
            return reason
    return "other"


@dataclass
class Tally:
    """What the load saw."""

    requests: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    scenarios: Counter[str] = field(default_factory=Counter)
    wrong: list[str] = field(default_factory=list)
    wrong_count: int = 0
    server_errors: int = 0
    transport_errors: list[str] = field(default_factory=list)
    token_keys: set[str] = field(default_factory=set)  # B2 token prefixes seen in 302s
    late_404s: list[tuple[str, float]] = field(default_factory=list)  # fresh name, answered at
    followed: int = 0
    follow_failures: list[str] = field(default_factory=list)

    def wrong_verdict(self, text: str) -> None:
        self.wrong_count += 1
        if len(self.wrong) < 20:
            self.wrong.append(text)


def token_key(file: dict[str, Any]) -> str:
    """Return the B2 name prefix of the token a link to ``file`` is answered with."""
    return "staff/" if file["tier"] == "staff" else file["b2name"]


class Load:
    """``connections`` keep-alive clients at most ``rate`` requests/s in all, until ``stop``."""

    def __init__(
        self, port: int, pool: Pool, realm: str, bucket: str, *, rate: float, connections: int = 8
    ) -> None:
        self.port, self.pool, self.bucket = port, pool, bucket
        self.b2_netloc = urlsplit(realm).netloc
        self.rate, self.connections = rate, connections
        self.host = f"127.0.0.1:{port}"
        self.tally = Tally()
        self._next_slot = 0.0

    async def _slot(self) -> None:
        """Wait for this client's turn: requests are spread evenly at ``rate`` per second."""
        now = asyncio.get_running_loop().time()
        slot = max(self._next_slot, now)
        self._next_slot = slot + 1 / self.rate
        if slot > now:
            await asyncio.sleep(slot - now)

    async def run(self, seconds: float) -> Tally:
        deadline = asyncio.get_running_loop().time() + seconds
        await asyncio.gather(*(self._client(i, deadline) for i in range(self.connections)))
        return self.tally

    async def _client(self, index: int, deadline: float) -> None:
        rng = random.Random(1000 + index)
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError as exc:
                self.tally.transport_errors.append(f"connect: {exc!r}")
                return
            try:
                for _ in range(RECONNECT_EVERY):
                    if loop.time() >= deadline:
                        break
                    await self._slot()
                    await asyncio.wait_for(self._one(rng, reader, writer), REQUEST_TIMEOUT)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as exc:
                self.tally.transport_errors.append(repr(exc))
                if len(self.tally.transport_errors) > 20:
                    return
            finally:
                writer.close()

    async def _one(
        self, rng: random.Random, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        scenario, file, path, user = self.pool.pick(rng)
        assert file is not None
        cookie = self.pool.cookies[user] if user else None
        writer.write(request_bytes(path, self.host, cookie))
        response = await read_response(reader)
        answered_at = time.time()
        seen = verdict(response, file, self.b2_netloc, self.bucket)
        tally = self.tally
        tally.requests += 1
        tally.scenarios[scenario] += 1
        tally.verdicts[seen] += 1
        if seen == "5xx":
            tally.server_errors += 1
        expected = self.pool.expected(scenario, file)
        if seen == "b2":
            tally.token_keys.add(token_key(file))
        if scenario == "fresh" and seen == "missing":
            tally.late_404s.append((file["name"], answered_at))  # judged at the end
        elif seen not in expected:
            tally.wrong_verdict(
                f"{scenario} ({user or 'anonymous'}) {file['b2name']}: {response.status} "
                f"{seen}, expected {'/'.join(sorted(expected))}"
            )
        seed = scenario.startswith(("public", "members", "staff"))
        if seen == "b2" and seed and rng.randrange(FOLLOW_EVERY) == 0:
            await self._follow(response.headers["location"], file)

    async def _follow(self, location: str, file: dict[str, Any]) -> None:
        """Download the file from B2 as the browser would and check its bytes."""
        response = await fetch_once(location)
        self.tally.followed += 1
        if response.status != 200 or hashlib.sha1(response.body).hexdigest() != file["sha1"]:
            self.tally.follow_failures.append(f"{file['b2name']}: {response.status}")


async def verify_all(
    port: int, files: list[dict[str, Any]], cookies: dict[str, str], b2_netloc: str, bucket: str
) -> list[str]:
    """Follow every file's link to B2 and check its SHA1; return the problems."""
    problems: list[str] = []
    user_of = {"public": None, "logged_in": "member", "staff": "boss"}
    limit = asyncio.Semaphore(8)
    host = f"127.0.0.1:{port}"

    async def one(file: dict[str, Any]) -> None:
        async with limit:
            user = user_of[file["tier"]]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(request_bytes(file["link"], host, user and cookies[user], close=True))
                response = await asyncio.wait_for(read_response(reader), REQUEST_TIMEOUT)
            finally:
                writer.close()
            if verdict(response, file, b2_netloc, bucket) != "b2":
                problems.append(f"{file['b2name']}: link answered {response.status}")
                return
            download = await asyncio.wait_for(
                fetch_once(response.headers["location"]), REQUEST_TIMEOUT
            )
            digest = hashlib.sha1(download.body).hexdigest()
            if download.status != 200 or digest != file["sha1"]:
                problems.append(f"{file['b2name']}: B2 answered {download.status}, SHA1 {digest}")

    await asyncio.gather(*(one(file) for file in files))
    return problems
