"""A manager acknowledges, resolves or silences an alert: audited, logged, and pushed to every screen."""

from __future__ import annotations

import glob
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field
from sqlmodel import Session

from alerts.duration import Duration
from alerts.lifecycle import AlertEvent, IllegalTransition
from alerts.schema import Matcher
from hypervision import alert_store, silence_store
from hypervision.api.deps import Manager, RuntimeDep
from hypervision.events import Event, Publication
from hypervision.hooks import default_move_hooks, publish_moves
from hypervision.models.alert import Alert, AlertPublic
from hypervision.models.silence import SilencePublic
from hypervision.unit_of_work import commit_and_publish

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

MAX_SILENCE = timedelta(days=7)


class ActionRequest(BaseModel):
    comment: str = Field(min_length=1, max_length=2000, description="why: kept in the audit trail")


class SilenceRequest(BaseModel):
    duration: Duration = Field(description='seconds, or text like "30m", "2h", "1d" (at most 7 days)')
    reason: str = Field(min_length=1, max_length=500)
    matchers: list[Matcher] | None = Field(
        default=None, description="default: every label of this alert, matched exactly"
    )


async def _manual(runtime: RuntimeDep, alert_id: int, event: AlertEvent, actor: str, comment: str) -> Any:
    now = runtime.clock()

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        move = alert_store.apply_manual(session, alert_id, event, actor=actor, comment=comment, now=now)
        # The same hooks as the worker's: logbook entry, and a CAP Cancel when a public alert is resolved.
        publication = publish_moves(session, [move], default_move_hooks(runtime.load_rule_set), now)
        return move.alert, publication

    try:
        return await commit_and_publish(runtime, work)
    except alert_store.AlertNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except IllegalTransition as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from err


@router.post("/{alert_id}/ack", response_model=AlertPublic)
async def acknowledge(alert_id: int, body: ActionRequest, runtime: RuntimeDep, principal: Manager) -> Any:
    """Acknowledge a firing alert: someone is on it (escalation stops)."""
    return await _manual(runtime, alert_id, AlertEvent.ACK, principal.actor, body.comment)


@router.post("/{alert_id}/resolve", response_model=AlertPublic)
async def resolve(alert_id: int, body: ActionRequest, runtime: RuntimeDep, principal: Manager) -> Any:
    """Close an open alert by hand (the rule opens a new one if the condition holds again)."""
    return await _manual(runtime, alert_id, AlertEvent.RESOLVE, principal.actor, body.comment)


@router.post("/{alert_id}/silence", response_model=SilencePublic, status_code=status.HTTP_201_CREATED)
async def silence(alert_id: int, body: SilenceRequest, runtime: RuntimeDep, principal: Manager) -> Any:
    """Mute this alert's notifications and rule tasks for a while; it stays on the picture."""
    if not 0 < body.duration <= MAX_SILENCE.total_seconds():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "a silence lasts between 1 s and 7 days")
    now = runtime.clock()

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise alert_store.AlertNotFound(f"no alert {alert_id}")
        matchers = body.matchers or [
            Matcher(label=k, value=glob.escape(str(v))) for k, v in sorted(alert.labels.items())
        ]
        row, publication = silence_store.create(
            session,
            matchers=matchers,
            duration=timedelta(seconds=body.duration),
            reason=body.reason,
            actor=principal.actor,
            now=now,
            alert_id=alert_id,
        )
        public = SilencePublic.model_validate(row).model_dump(mode="json")
        data = alert_store.alert_public(alert)
        data["silenced_until"] = public["ends_at"]
        data["transition"] = {
            "event": "silence",
            "from": alert.state,
            "to": alert.state,
            "by": principal.actor,
            "comment": body.reason,
        }
        publication.events.insert(0, Event("alert.changed", "alerts", data))
        return public, publication

    try:
        return await commit_and_publish(runtime, work)
    except alert_store.AlertNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
