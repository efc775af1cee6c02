"""Helpers for the people tests (roles, tasks, logbook): stored alerts, WebSocket frames, SQL engines."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from alerts.action import Action
from alerts.engine import AlertChange
from alerts.lifecycle import AlertEvent
from hypervision import alert_store
from hypervision.alert_store import AppliedMove
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.domain import Severity

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def sql_engine(db_url: str) -> Engine:
    engine = make_engine(db_url)
    create_schema(engine)
    return engine


def change(
    *,
    fingerprint: str = "fp-helpline",
    rule_id: str = "call_line.test",
    event: AlertEvent = AlertEvent.FIRE,
    labels: dict[str, str] | None = None,
    actions: tuple[Action, ...] = (),
    at: datetime = T0,
    severity: Severity = Severity.WARNING,
) -> AlertChange:
    return AlertChange(
        fingerprint=fingerprint,
        rule_id=rule_id,
        event=event,
        severity=severity,
        labels=labels or {"rule": rule_id, "zone": "dijon-centre", "source": "ami:queue:accueil"},
        title="14 appels en attente",
        description="",
        value=14.0,
        at=at,
        actions=actions,
    )


def fire(session: Session, cause: str = "1-0", **kwargs: Any) -> AppliedMove:
    """Open a firing alert the way the worker does; returns the applied move."""
    moves = alert_store.apply_engine_changes(session, [(cause, change(**kwargs))])
    assert len(moves) == 1
    return moves[0]


def stored_alert(engine: Engine, **kwargs: Any) -> int:
    with session_scope(engine) as session:
        return int(fire(session, **kwargs).alert["id"])


async def frame_where(
    ws: Any, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0
) -> dict[str, Any]:
    """The next frame satisfying ``predicate`` (others are skipped)."""

    async def loop() -> dict[str, Any]:
        while True:
            frame = json.loads(await ws.recv())
            if predicate(frame):
                return dict(frame)

    return await asyncio.wait_for(loop(), timeout)


def event_of(kind: str, **match: Any) -> Callable[[dict[str, Any]], bool]:
    """A predicate: an event frame of type ``kind`` whose data has these values."""

    def check(frame: dict[str, Any]) -> bool:
        if frame.get("type") != "event" or frame.get("event") != kind:
            return False
        return all(frame["data"].get(k) == v for k, v in match.items())

    return check


async def subscribe(ws: Any, topics: list[str]) -> dict[str, Any]:
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello", hello
    await ws.send(json.dumps({"type": "subscribe", "topics": topics}))
    return await frame_where(ws, lambda f: f["type"] in ("snapshot", "error"))
