"""The FastAPI application: routers, limits, the hub reader and (in the demo) the in-process worker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from hypervision import __version__
from hypervision.api import (
    alert_actions,
    alerts,
    auth,
    health,
    history,
    ingest,
    keys,
    lorawan,
    outage,
    picture,
    rules,
    silences,
    sources,
    tasks,
    users,
    ws,
)
from hypervision.api import cap as cap_api
from hypervision.api import logbook as logbook_api
from hypervision.api import metrics as metrics_route
from hypervision.api import opendata as opendata_api
from hypervision.api.limits import BodySizeLimit
from hypervision.api.request_id import RequestIdMiddleware
from hypervision.config import Settings
from hypervision.hub import Hub
from hypervision.runtime import Runtime, open_runtime
from hypervision.stopping import stop_tasks
from hypervision.worker import Worker

log = logging.getLogger(__name__)

UI_DIR = Path(str(files("ui")))


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, run_worker: bool = False
) -> FastAPI:
    """Build the app; with no runtime given, the lifespan opens one from ``settings``."""
    settings = settings or (runtime.settings if runtime else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            rt = runtime or await open_runtime(settings, stack)
            app.state.runtime = rt
            hub = Hub(rt.redis, settings)
            app.state.hub = hub
            stop = asyncio.Event()
            tasks = [asyncio.create_task(hub.run(stop), name="hub")]
            if run_worker:
                worker = Worker(
                    redis=rt.redis,
                    db=rt.db,
                    settings=settings,
                    rules=rt.load_rule_set,
                    clock=rt.clock,
                    reload_rules=rt.reload_rule_set,
                )
                tasks.append(asyncio.create_task(worker.run(stop), name="worker"))
            for task in tasks:
                task.add_done_callback(_log_crash)
            try:
                yield
            finally:
                stop.set()
                await stop_tasks(tasks)

    app = FastAPI(
        title="Hypervision",
        version=__version__,
        description="Crisis and hypervision control-room backend. Every route needs a bearer token "
        "(POST /api/auth/token) except the health probes and the public publishing routes "
        "(CAP warnings under /api/cap, open data under /api/opendata).",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)  # outermost: even a refused body gets an id
    outage.install(app)  # a Redis outage answers 503 with Retry-After, not 500
    for module in (health, metrics_route, auth, ingest, lorawan, picture, alerts, history, ws):
        app.include_router(module.router)
    for module in (alert_actions, silences, tasks, logbook_api, users, keys, rules, sources):
        app.include_router(module.router)
    for module in (cap_api, opendata_api):  # public publishing: no token, public data only
        app.include_router(module.router)
    # The team view's short address, for phones (the page itself is ui/team.html).
    app.add_api_route("/team", lambda: FileResponse(UI_DIR / "team.html"), include_in_schema=False)
    app.mount("/", StaticFiles(directory=UI_DIR, html=True), name="ui")
    return app


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background task %s crashed", task.get_name(), exc_info=task.exception())
