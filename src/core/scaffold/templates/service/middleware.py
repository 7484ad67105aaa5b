"""Pure ASGI middlewares: request metrics (outermost) and the request body size limit.

Pure ASGI rather than BaseHTTPMiddleware: they see every response (413s included), stream
nothing twice and behave the same on every Starlette version FastAPI 0.92+ brings.
"""
import json
import time
from typing import Any, Awaitable, Callable, Dict, FrozenSet, List

from service.metrics import ServiceMetrics, endpoint_label

Scope = Dict[str, Any]
Message = Dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, endpoints: FrozenSet[str]):
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
    """413 for bodies over `max_body_bytes`, whether declared by Content-Length or streamed.

    The body is read here (it is at most the limit) and handed on to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._too_large(send, "%d bytes" % declared)
            return
        chunks: List[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send, "more than %d bytes" % self.max_body_bytes)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send, size: str) -> None:
        message = (
            "request body is %s; the limit is %d bytes (limits.max_body_bytes in "
            "service/config.json): send fewer records per request" % (size, self.max_body_bytes)
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


def _content_length(scope: Scope):
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive() that gives the buffered body once, then passes through (e.g. disconnects)."""
    sent = {"done": False}

    async def replay() -> Message:
        if not sent["done"]:
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
