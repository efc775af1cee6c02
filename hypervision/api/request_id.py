"""Request correlation: every HTTP request gets an id (the caller's X-Request-ID or a new one).

The id is put in ``hypervision.logs.correlation_id`` for the request's log lines and echoed in the
response's X-Request-ID header, so an operator can match a client's report with the server's logs.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypervision.logs import accept_correlation_id, correlation_id

HEADER = "x-request-id"


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streaming and WebSocket connections are untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == HEADER.encode()), None)
        request_id = accept_correlation_id(given)
        token = correlation_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
