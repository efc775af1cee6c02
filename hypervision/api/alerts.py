"""Alerts: list and read them with their history (acknowledgement routes live in alert_actions)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from sqlmodel import col, select

from hypervision import alert_store
from hypervision.api.deps import SessionDep, Viewer
from hypervision.domain import AlertState
from hypervision.models.alert import Alert, AlertHistoryPublic, AlertPublic

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertPublic])
def list_alerts(
    session: SessionDep,
    _: Viewer,
    state: Annotated[
        Literal["open", "all", "pending", "firing", "acknowledged", "resolved"], Query()
    ] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Alert]:
    query = select(Alert)
    if state == "open":
        query = query.where(Alert.state != AlertState.RESOLVED)
    elif state != "all":
        query = query.where(Alert.state == AlertState(state))
    return list(session.exec(query.order_by(col(Alert.updated_at).desc()).limit(limit)).all())


@router.get("/{alert_id}", response_model=AlertPublic)
def get_alert(alert_id: int, session: SessionDep, _: Viewer) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return alert


@router.get("/{alert_id}/history", response_model=list[AlertHistoryPublic])
def get_alert_history(alert_id: int, session: SessionDep, _: Viewer) -> list[AlertHistoryPublic]:
    if session.get(Alert, alert_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return [AlertHistoryPublic.model_validate(h) for h in alert_store.history(session, alert_id)]
