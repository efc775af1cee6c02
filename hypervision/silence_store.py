"""Silences in SQL: create, expire, and the active ones as ``alerts.silence.Silence`` for the pure check."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from alerts.schema import Matcher
from alerts.silence import Silence as RuleSilence
from alerts.silence import silencing
from hypervision import logbook
from hypervision.events import Publication
from hypervision.models.silence import Silence


class SilenceNotFound(LookupError):
    pass


def create(
    session: Session,
    *,
    matchers: list[Matcher],
    duration: timedelta,
    reason: str,
    actor: str,
    now: datetime,
    alert_id: int | None = None,
) -> tuple[Silence, Publication]:
    """Store a silence (validated by the pure model first) and log it."""
    now = now.astimezone(UTC)
    checked = RuleSilence("new", tuple(matchers), now, now + duration, reason, actor)
    row = Silence(
        matchers=[m.model_dump() for m in checked.matchers],
        starts_at=checked.starts_at,
        ends_at=checked.ends_at,
        reason=reason,
        created_by=actor,
        created_at=now,
        alert_id=alert_id,
    )
    session.add(row)
    session.flush()
    shown = ", ".join(f"{m.label}{m.op}{m.value}" for m in checked.matchers)
    _, pub = logbook.append(
        session,
        kind=logbook.Kind.SILENCE,
        actor=actor,
        summary=f"Silence #{row.id} set until {checked.ends_at:%Y-%m-%d %H:%M} UTC on {shown}",
        at=now,
        ref=f"alert:{alert_id}" if alert_id is not None else f"silence:{row.id}",
        text=reason,
        data={"silence_id": row.id, "ends_at": checked.ends_at.isoformat(), "matchers": row.matchers},
    )
    return row, pub


def expire(session: Session, silence_id: int, *, actor: str, now: datetime) -> tuple[Silence, Publication]:
    row = session.get(Silence, silence_id)
    if row is None:
        raise SilenceNotFound(f"no silence {silence_id}")
    pub = Publication()
    if row.ends_at > now:
        row.ends_at = max(now.astimezone(UTC), row.starts_at)
        row.expired_by = actor
        session.add(row)
        _, pub = logbook.append(
            session,
            kind=logbook.Kind.SILENCE,
            actor=actor,
            summary=f"Silence #{row.id} lifted",
            at=now,
            ref=f"silence:{row.id}",
            data={"silence_id": row.id},
        )
    return row, pub


def active(session: Session, now: datetime) -> list[RuleSilence]:
    now = now.astimezone(UTC)
    rows = session.exec(
        select(Silence).where(col(Silence.starts_at) <= now, col(Silence.ends_at) > now)
    ).all()
    return [
        RuleSilence(
            id=str(r.id),
            matchers=tuple(Matcher.model_validate(m) for m in r.matchers),
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            reason=r.reason,
            created_by=r.created_by,
        )
        for r in rows
    ]


def silenced_by(session: Session, labels: Mapping[str, str], now: datetime) -> list[RuleSilence]:
    return silencing(labels, active(session, now), now)
