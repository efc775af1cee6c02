"""Public CAP warnings in SQL: the move hook that turns a public alert's moves into Alert/Update/Cancel.

Runs in the worker's SQL transaction (``hypervision.hooks.MOVE_HOOKS``), so a message exists exactly
when its move does. Each alert has one chain of messages: the first is an ``Alert``, a rise of the
CAP severity adds an ``Update``, the end adds a ``Cancel``; each later message references all the earlier
ones. Deciding from the chain's last message (not from the move alone) makes replays harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from alerts.action import CAP_SEVERITY, CapAction
from alerts.lifecycle import AlertEvent
from hypervision import cap, silence_store
from hypervision.alert_store import AppliedMove
from hypervision.config import Settings, get_settings
from hypervision.db import as_utc
from hypervision.domain import AlertState, Severity
from hypervision.events import Publication
from hypervision.models.cap_message import CapMessage
from hypervision.zones import Zone, ZonesError, load_zones

log = logging.getLogger(__name__)

CAP_RANK = {"Minor": 0, "Moderate": 1, "Severe": 2, "Extreme": 3}
WHOLE_TERRITORY = "Ensemble du territoire"


@dataclass(frozen=True)
class Publisher:
    """Who signs the warnings and where the zones are: what the hook needs from the settings."""

    sender: str
    sender_name: str
    tz: tzinfo
    zones: dict[str, Zone]

    @classmethod
    def from_settings(cls, settings: Settings) -> Publisher:
        try:
            zones = load_zones(settings.zones_file)
        except ZonesError as err:
            # A warning without polygons still informs; a worker stuck on a bad file informs nobody.
            log.error("CAP warnings go out without zone polygons: %s", err)
            zones = {}
        return cls(
            sender=settings.cap_sender,
            sender_name=settings.cap_sender_name,
            tz=ZoneInfo(settings.territory_tz),
            zones=zones,
        )


def cap_from_moves(session: Session, moves: Sequence[AppliedMove], now: datetime) -> Publication:
    """The move hook (``hypervision.cap_store:cap_from_moves``): store the CAP messages of these moves."""
    if any(move.alert.get("public") for move in moves):
        publish_moves(session, moves, now, Publisher.from_settings(get_settings()))
    return Publication()  # the documents are pulled (feed, URL); nothing is pushed to screens


def publish_moves(
    session: Session, moves: Sequence[AppliedMove], now: datetime, publisher: Publisher
) -> list[CapMessage]:
    out: list[CapMessage] = []
    for move in moves:
        message = _publish(session, move, now, publisher)
        if message is not None:
            out.append(message)
    return out


def chain(session: Session, alert_id: int) -> list[CapMessage]:
    return list(
        session.exec(
            select(CapMessage).where(CapMessage.alert_id == alert_id).order_by(col(CapMessage.id))
        ).all()
    )


def _cap_action(move: AppliedMove) -> CapAction | None:
    actions = move.change.actions if move.change is not None else ()
    return next((a for a in actions if isinstance(a, CapAction)), None)


def decide(move: AppliedMove, action: CapAction | None, last: CapMessage | None) -> str | None:
    """Which message this move publishes, given the chain's last message (None: nothing to say)."""
    active = last is not None and last.msg_type != "Cancel"
    if move.to_state == AlertState.RESOLVED:
        return "Cancel" if active else None
    if last is not None and not active:
        return None  # the warning was withdrawn; the alert lives on only for the room
    if move.to_state not in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
        return None  # pending: nothing is certain enough to tell the public yet
    if not active:
        # First word on this alert: the engine's Alert, or (a rule made public mid-alert) any later move.
        return "Alert" if action is not None or move.event == AlertEvent.FIRE else None
    assert last is not None
    severity = CAP_SEVERITY[Severity(move.alert["severity"])]
    return "Update" if CAP_RANK[severity] > CAP_RANK.get(last.severity, -1) else None


def _publish(session: Session, move: AppliedMove, now: datetime, publisher: Publisher) -> CapMessage | None:
    alert = move.alert
    if not alert.get("public"):
        return None
    action = _cap_action(move)
    earlier = chain(session, int(alert["id"]))
    last = earlier[-1] if earlier else None
    kind = decide(move, action, last)
    if kind is None:
        return None
    labels = {str(k): str(v) for k, v in (alert.get("labels") or {}).items()}
    if kind != "Cancel" and silence_store.silenced_by(session, labels, now):
        # A manager silenced it (a faulty sensor, a test): the public is not warned either. Withdrawing
        # a warning already out is always allowed, so Cancel goes through.
        log.info("public alert %s is silenced: no CAP %s", alert["id"], kind)
        return None
    if action is not None:
        info = info_of(action)
    elif last is not None:
        info = dict(last.info)
    else:
        log.warning("public alert %s has no CAP texts (rule %s lacks `cap`)", alert["id"], alert["rule_id"])
        return None
    severity = CAP_SEVERITY[Severity(alert["severity"])]
    if kind == "Cancel" and last is not None:
        severity = last.severity  # an all-clear speaks of the warning it ends
    sent = move.change.at if move.change is not None else now
    if last is not None and sent < as_utc(last.sent):
        sent = as_utc(last.sent)  # a chain never goes back in time
    identifier = _identifier(alert, len(earlier) + 1)
    zone = alert.get("zone")
    message = cap.Message(
        identifier=identifier,
        sender=publisher.sender,
        sent=sent,
        msg_type=kind,  # type: ignore[arg-type]
        category=info["category"],
        event=info["event"],
        urgency=info["urgency"],
        severity=severity,
        certainty=info["certainty"],
        texts=texts_of(info),
        area=area_for(zone, publisher.zones),
        sender_name=publisher.sender_name,
        references=tuple(cap.Reference(publisher.sender, m.identifier, m.sent_text) for m in earlier),
    )
    row = CapMessage(
        identifier=identifier,
        alert_id=int(alert["id"]),
        rule_id=str(alert["rule_id"]),
        msg_type=kind,
        severity=severity,
        sent=sent.astimezone(UTC),
        sent_text=cap.cap_time(sent, publisher.tz),
        headline=info["fr"]["headline"][:300],
        zone=zone,
        info=info,
        xml=cap.build_document(message, publisher.tz).decode("utf-8"),
    )
    session.add(row)
    session.flush()
    return row


def _identifier(alert: dict[str, Any], seq: int) -> str:
    """Stable and unique per sender: the alert's opening second keeps ids distinct across databases."""
    opened = datetime.fromisoformat(str(alert["opened_at"])).astimezone(UTC)
    return f"hv-{opened:%Y%m%dT%H%M%SZ}-{alert['id']}-{seq}"


def info_of(action: CapAction) -> dict[str, Any]:
    texts = {"fr": _text(action.fr)}
    if action.en is not None:
        texts["en"] = _text(action.en)
    return {
        "category": action.category,
        "event": action.event,
        "urgency": action.urgency,
        "certainty": action.certainty,
        **texts,
    }


def _text(text: Any) -> dict[str, str]:
    return {"headline": text.headline, "description": text.description, "instruction": text.instruction}


def texts_of(info: dict[str, Any]) -> tuple[cap.InfoText, ...]:
    out = []
    for lang in ("fr", "en"):
        words = info.get(lang)
        if words:
            out.append(cap.InfoText(lang, words["headline"], words["description"], words["instruction"]))
    return tuple(out)


def area_for(zone_id: str | None, zones: dict[str, Zone]) -> cap.Area:
    """The zone's polygon and INSEE code; an alert without a known zone covers every zone."""
    zone = zones.get(zone_id) if zone_id else None
    if zone is not None:
        return cap.Area(zone.name, (zone.cap_polygon(),), (("INSEE", zone.insee),))
    ordered = sorted(zones.values(), key=lambda z: z.id)
    return cap.Area(
        WHOLE_TERRITORY,
        tuple(z.cap_polygon() for z in ordered),
        tuple(("INSEE", z.insee) for z in ordered),
    )


def public_messages(session: Session, *, limit: int) -> list[CapMessage]:
    """The newest messages first (every stored message comes from a public rule)."""
    return list(session.exec(select(CapMessage).order_by(col(CapMessage.id).desc()).limit(limit)).all())


def find(session: Session, identifier: str) -> CapMessage | None:
    return session.exec(select(CapMessage).where(CapMessage.identifier == identifier)).first()
