"""Request correlation: every HTTP request gets an id (the caller's X-Request-ID or a new one).

The id is put in ``hypervision.logs.correlation_id`` for the request's log lines and echoed in the
response's X-Request-ID header, so an operator can match a client's report with the server's logs.
One access line per request goes to the ``hypervision.access`` logger: at DEBUG (``-v``), or at
WARNING for a server error. It names the method, the path without its query string (a WebSocket
token travels there), the status and the duration.
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hypervision.logs import accept_correlation_id, correlation_id

HEADER = "x-request-id"

access_log = logging.getLogger("hypervision.access")


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
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            level = logging.WARNING if status >= 500 else logging.DEBUG
            if access_log.isEnabledFor(level):
                access_log.log(
                    level,
                    "%s %s %s %.1f ms",
                    scope.get("method", "WS"),
                    scope.get("path", ""),
                    status or "-",
                    (time.perf_counter() - started) * 1000,
                )
            correlation_id.reset(token)
