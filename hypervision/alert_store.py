"""Alerts in SQL: apply lifecycle moves from the engine or from a manager, idempotently, with audit rows."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from alerts.engine import AlertChange
from alerts.lifecycle import OPEN_STATES, AlertEvent, IllegalTransition, transition
from hypervision import bus
from hypervision.db import as_utc
from hypervision.domain import AlertState, Severity
from hypervision.events import Event, MirrorDelete, MirrorSet, Publication
from hypervision.models.alert import Alert, AlertHistory, AlertPublic

log = logging.getLogger(__name__)

# Events that repeat on an open alert: applying one twice is harmless, so no cause check is needed.
_REPEATABLE = frozenset({AlertEvent.UPDATE, AlertEvent.ESCALATE, AlertEvent.RENOTIFY})


class AlertNotFound(LookupError):
    pass


@dataclass(frozen=True)
class AppliedMove:
    """A move that really happened to a stored alert, ready to be published."""

    alert: dict[str, Any]
    event: AlertEvent
    from_state: AlertState | None
    to_state: AlertState
    actor: str
    comment: str | None
    change: AlertChange | None = None
    # Stored by an earlier run that died before its Redis commit: published again, hooks skip it.
    replayed: bool = False


def alert_public(alert: Alert) -> dict[str, Any]:
    return AlertPublic.model_validate(alert).model_dump(mode="json")


def find_open(session: Session, fingerprint: str) -> Alert | None:
    return session.exec(
        select(Alert).where(Alert.fingerprint == fingerprint, Alert.state != AlertState.RESOLVED)
    ).first()


def open_alerts(session: Session) -> list[Alert]:
    return list(session.exec(select(Alert).where(Alert.state != AlertState.RESOLVED)).all())


def apply_engine_changes(
    session: Session, changes: Sequence[tuple[str | None, AlertChange]]
) -> list[AppliedMove]:
    """Apply the engine's changes, each with its cause (the stream entry ID that triggered it).

    Re-applying the same batch after a crash changes nothing: a move already recorded for that
    fingerprint, cause and event is not applied again but returned ``replayed`` (the run that stored
    it may have died before its events reached Redis), and a move the current state no longer allows
    is dropped.
    """
    applied: list[AppliedMove] = []
    for cause, change in changes:
        move = _apply_one(session, cause, change)
        if move is not None:
            applied.append(move)
    return applied


def _recorded(
    session: Session, fingerprint: str, cause: str | None, event: AlertEvent
) -> AlertHistory | None:
    if cause is None:
        return None
    return session.exec(
        select(AlertHistory).where(
            AlertHistory.fingerprint == fingerprint,
            AlertHistory.cause == cause,
            AlertHistory.event == event.value,
        )
    ).first()


def _replayed(session: Session, done: AlertHistory, change: AlertChange) -> AppliedMove | None:
    alert = session.get(Alert, done.alert_id)
    if alert is None:  # purged since: nothing left to show
        return None
    before = AlertState(done.from_state) if done.from_state else None
    after = AlertState(done.to_state)
    # The move as it was stored: its time is the first run's (the replay evaluates at a later time),
    # so what the hooks stored for it can be found again.
    change = replace(change, at=as_utc(done.at))
    return AppliedMove(alert_public(alert), change.event, before, after, done.actor, None, change, True)


def _apply_one(session: Session, cause: str | None, change: AlertChange) -> AppliedMove | None:
    if change.event not in _REPEATABLE:
        done = _recorded(session, change.fingerprint, cause, change.event)
        if done is not None:
            return _replayed(session, done, change)
    alert = find_open(session, change.fingerprint)
    before = alert.state if alert is not None else None
    try:
        after = transition(before, change.event)
    except IllegalTransition as err:
        log.debug("dropped %s for %s: %s", change.event, change.fingerprint, err)
        return None
    at = change.at.astimezone(UTC)
    value = None if change.value is None else str(change.value)[:64]
    if alert is None:
        labels = dict(change.labels)
        alert = Alert(
            fingerprint=change.fingerprint,
            rule_id=change.rule_id,
            state=after,
            severity=change.severity,
            title=change.title[:300],
            description=change.description[:2000],
            labels=labels,
            domain=labels.get("domain"),
            zone=labels.get("zone"),
            source=labels.get("source"),
            value=value,
            public=change.public,
            opened_at=at,
            updated_at=at,
            last_seen_at=at,
        )
    else:
        alert.state = after
        alert.updated_at = at
        alert.last_seen_at = at
        alert.occurrences += 1
        alert.value = value
        if change.severity.rank > Severity(alert.severity).rank:
            alert.severity = change.severity
            alert.title = change.title[:300]
            alert.description = change.description[:2000]
    if after == AlertState.FIRING and alert.firing_at is None:
        alert.firing_at = at
    if change.event == AlertEvent.ESCALATE:
        alert.escalation_level += 1
    if change.event in (AlertEvent.ESCALATE, AlertEvent.RENOTIFY, AlertEvent.FIRE):
        alert.last_notified_at = at
    if after == AlertState.RESOLVED:
        alert.resolved_at = at
        alert.resolved_by = f"rule:{change.rule_id}"
    session.add(alert)
    session.flush()
    actor = f"rule:{change.rule_id}"
    _audit(session, alert, change.event, before, after, actor, at, cause=cause, value=value)
    return AppliedMove(alert_public(alert), change.event, before, after, actor, None, change)


def apply_manual(
    session: Session, alert_id: int, event: AlertEvent, *, actor: str, comment: str | None, now: datetime
) -> AppliedMove:
    """A person acknowledges or resolves an alert; raises AlertNotFound or IllegalTransition."""
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    before = alert.state
    after = transition(before if before in OPEN_STATES else None, event)
    alert.state = after
    alert.updated_at = now
    if event == AlertEvent.ACK:
        alert.acknowledged_at, alert.acknowledged_by = now, actor
    if after == AlertState.RESOLVED:
        alert.resolved_at, alert.resolved_by = now, actor
    session.add(alert)
    session.flush()
    _audit(session, alert, event, before, after, actor, now, cause=None, value=alert.value, comment=comment)
    return AppliedMove(alert_public(alert), event, before, after, actor, comment)


def _audit(
    session: Session,
    alert: Alert,
    event: AlertEvent,
    before: AlertState | None,
    after: AlertState,
    actor: str,
    at: datetime,
    *,
    cause: str | None,
    value: str | None,
    comment: str | None = None,
) -> None:
    assert alert.id is not None
    session.add(
        AlertHistory(
            alert_id=alert.id,
            fingerprint=alert.fingerprint,
            cause=cause,
            at=at,
            event=event.value,
            from_state=before.value if before else None,
            to_state=after.value,
            severity=Severity(alert.severity).value,
            actor=actor,
            value=value,
            comment=comment,
        )
    )


def history(session: Session, alert_id: int) -> list[AlertHistory]:
    return list(
        session.exec(
            select(AlertHistory).where(AlertHistory.alert_id == alert_id).order_by(col(AlertHistory.id))
        ).all()
    )


def publication_for(moves: Sequence[AppliedMove]) -> Publication:
    """The events and mirror updates that tell every screen about these moves."""
    pub = Publication()
    for move in moves:
        alert_id = str(move.alert["id"])
        # The alert's own state decides: a replayed move may find it resolved by a person since.
        if move.to_state == AlertState.RESOLVED or move.alert.get("state") == AlertState.RESOLVED.value:
            pub.mirror.append(MirrorDelete(bus.OPEN_ALERTS_KEY, alert_id))
        else:
            pub.mirror.append(MirrorSet(bus.OPEN_ALERTS_KEY, alert_id, move.alert))
        data = dict(move.alert)
        data["transition"] = {
            "event": move.event.value,
            "from": move.from_state.value if move.from_state else None,
            "to": move.to_state.value,
            "by": move.actor,
            "comment": move.comment,
        }
        pub.events.append(Event("alert.changed", "alerts", data))
    return pub
