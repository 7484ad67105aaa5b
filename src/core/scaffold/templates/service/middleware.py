"""Pure ASGI middlewares, outermost first: request ids, request metrics, the body size limit.

Pure ASGI rather than BaseHTTPMiddleware: they see every response (413s and 422s included),
stream nothing twice and behave the same on every Starlette version FastAPI 0.92+ brings.
"""
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from service.metrics import ServiceMetrics, endpoint_label

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")

REQUEST_ID_HEADER = "X-Request-ID"
CLIENT_REQUEST_ID_HEADER = "X-Client-Request-ID"
#: What a client's X-Request-ID may be to be kept: a token short enough for a log line, with no
#: space, quote, control character or line break that could forge or split one.
SAFE_CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


@dataclass(frozen=True)
class RequestIds:
    """The ids of one request. `request_id` is the service's own, new for every request (a
    client that resends the same X-Request-ID still gets a new one); `client_request_id` is the
    client's X-Request-ID, kept beside it when it is a safe token, else None."""

    request_id: str
    client_request_id: Optional[str]

    @classmethod
    def for_request(cls, scope: Scope) -> "RequestIds":
        given = _header(scope, REQUEST_ID_HEADER.lower().encode("ascii"))
        client = None
        if given is not None:
            text = given.decode("latin-1")
            client = text if SAFE_CLIENT_REQUEST_ID.fullmatch(text) else None
        return cls(uuid.uuid4().hex, client)

    def headers(self) -> list[tuple[bytes, bytes]]:
        headers = [(REQUEST_ID_HEADER.encode("ascii"), self.request_id.encode("ascii"))]
        if self.client_request_id is not None:
            headers.append((CLIENT_REQUEST_ID_HEADER.encode("ascii"), self.client_request_id.encode("ascii")))
        return headers


class RequestIdMiddleware:
    """Gives every HTTP request its RequestIds (``request.state.request_ids``, read by the routes
    through ``Depends(get_request_ids)``) and every response the X-Request-ID header (and
    X-Client-Request-ID when the client sent a usable one), errors included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ids = RequestIds.for_request(scope)
        scope.setdefault("state", {})["request_ids"] = ids
        extra = ids.headers()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + extra)
            await send(message)

        await self.app(scope, receive, send_with_ids)


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, endpoints: frozenset[str]):
        self.app = app
        self.metrics = metrics
        self.endpoints = endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}  # what an exception before the response start amounts to

        async def send_with_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            self.metrics.observe_request(
                endpoint_label(scope.get("path", ""), self.endpoints),
                status["code"],
                time.perf_counter() - started,
            )


class BodyLimitMiddleware:
    """413 for bodies over the limit, whether declared by Content-Length or streamed.

    `max_body_bytes()` gives the limit (limits.max_body_bytes of the settings the app loaded at
    start). The body is read here (it is at most the limit) and handed on to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: Callable[[], int]):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, f"{declared} bytes", limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _too_large(send, f"more than {limit} bytes", limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


async def _too_large(send: Send, size: str, limit: int) -> None:
    message = (
        f"request body is {size}; the limit is {limit} bytes (limits.max_body_bytes in "
        "service/config.json): send fewer records per request"
    )
    body = json.dumps({"detail": message, "errors": [{"field": "body", "message": message}]}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode("ascii"))],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> Optional[bytes]:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value
    return None


def _content_length(scope: Scope) -> Optional[int]:
    value = _header(scope, b"content-length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that gives the buffered body once, then passes through (e.g. disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
