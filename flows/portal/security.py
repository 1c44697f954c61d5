"""The portal's defences that do not depend on the round: rate limits, body size, CSRF, who is local.

- `FailureLimiter`: failed link or session checks per client address in a
  sliding window (in memory: one portal process; a restart forgets, which only
  ever helps a legitimate user). Over the limit, every link check from that
  address answers 429 until old failures leave the window.
- `BodyLimit`: pure ASGI middleware; a request whose Content-Length, or whose
  streamed body, exceeds the limit gets 413 before the application reads it.
- CSRF: every form carries `csrf`, an HMAC of the session (or of the manager's
  name) under the portal's secret; a POST without the right one is 403. The
  session cookie is HttpOnly and SameSite=Lax, Secure behind https.
- `is_local`: a request from 127.0.0.1 or ::1 that no proxy forwarded (no
  X-Forwarded-For, Forwarded or X-Real-IP header): the manager's view without
  a password is only for such requests.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections import OrderedDict, deque
from typing import Callable

from starlette.exceptions import HTTPException

PROXY_HEADERS = (b"x-forwarded-for", b"forwarded", b"x-real-ip")
LOOPBACK = ("127.0.0.1", "::1")


class FailureLimiter:
    """At most `limit` failures per key within `window` seconds; bounded memory (oldest keys evicted)."""

    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.max_keys, self.clock = limit, window, max_keys, clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def blocked(self, key: str) -> bool:
        with self._lock:
            hits = self._prune(key, self.clock())
            return hits is not None and len(hits) >= self.limit

    def fail(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            hits = self._prune(key, now)
            if hits is None:
                hits = self._hits[key] = deque()
            hits.append(now)
            self._hits.move_to_end(key)
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)


class BodyLimit:
    """413 for any request body larger than `limit` bytes (declared or streamed)."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await _plain(send, 400, "Content-Length 无效")
                if declared > self.limit:
                    return await _plain(send, 413, _too_large(self.limit))
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _plain(send, 413, _too_large(self.limit))


class _TooLarge(HTTPException):
    """Raised from inside the app's body reading; Starlette renders it as 413 (or BodyLimit does)."""

    def __init__(self) -> None:
        super().__init__(413, "请求内容过大")


def _too_large(limit: int) -> str:
    return f"请求内容过大（上限 {limit // 1024} KB）。评分表通常远小于此；请检查是否选错了文件。"


async def _plain(send, status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def csrf_token(secret: bytes, subject: str) -> str:
    mac = hmac.new(secret, b"csrf\x1f" + subject.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def csrf_ok(secret: bytes, subject: str, given: str | None) -> bool:
    if not given or not isinstance(given, str):
        return False
    return hmac.compare_digest(csrf_token(secret, subject).encode("ascii"), given.encode("utf-8", "replace"))


def is_local(scope) -> bool:
    client = scope.get("client")
    if not client or client[0] not in LOOPBACK:
        return False
    return not any(name in PROXY_HEADERS for name, _ in scope.get("headers", ()))


def client_key(scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"
