"""The simulator's HTTP side: serves every pulled feed of the simulated territory in its real format."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from adapters.simulator.feeds import render_feeds
from adapters.simulator.world import SCENARIOS


class FeedServer:
    """Renders the world at request time, so every poll sees the scenario as it stands now.

    ``stopped`` holds paths that answer 503, to show how the room notices a feed that breaks.
    """

    def __init__(self, scenario: str, *, clock: Callable[[], datetime] | None = None) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")
        self.scenario = scenario
        self.clock = clock or (lambda: datetime.now(UTC))
        self.started_at = self.clock()
        self.stopped: set[str] = set()

    async def feed(self, request: Request) -> Response:
        path = request.url.path
        if path in self.stopped:
            return PlainTextResponse("feed stopped by the simulator", status_code=503)
        feeds = render_feeds(self.clock(), scenario=self.scenario, started_at=self.started_at)
        # A query string selects nothing here: real APIs take filters, the simulator serves the territory.
        found = feeds.get(path)
        if found is None:
            return PlainTextResponse(f"no simulated feed at {path}; known: {', '.join(sorted(feeds))}", 404)
        return Response(found.body, media_type=found.content_type)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self.feed, methods=["GET"])])
