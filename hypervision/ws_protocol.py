"""The /ws protocol's vocabulary (pure): close codes, topics, and the frames the hub builds.

Every frame is a JSON object with a ``type``; docs/ws-protocol.md describes each one.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from hypervision import bus
from hypervision.events import Event, Snapshot

PROTOCOL_VERSION = 1

# Close codes (4000-4999 is the range RFC 6455 leaves to applications; 44xx mirror HTTP statuses).
CLOSE_AUTH_REQUIRED = 4401  # no token, or the token is unknown, expired or revoked
CLOSE_FORBIDDEN = 4403  # the token is valid but its role may not open the screen feed
CLOSE_TIMEOUT = 4408  # no auth frame in time, or the client stayed silent past the timeout
CLOSE_TOO_SLOW = 4429  # the client kept overflowing its send queue even after resyncs

TOPIC_ROOTS = ("picture", "alerts", "tasks", "logbook", "sources")
# Topics whose events are merged per tick; everything else goes out as soon as it is read.
COALESCED_EVENT = "picture.delta"

PING = orjson.dumps({"type": "ping"}).decode()


def encode(frame: dict[str, Any]) -> str:
    """A frame as the text of one WebSocket message."""
    return bus.dumps(frame).decode()


def valid_topic(topic: str) -> bool:
    """One of: picture, picture:{domain}, alerts, tasks, tasks:{team}, logbook, sources."""
    root, sep, rest = topic.partition(":")
    if root not in TOPIC_ROOTS:
        return False
    if not sep:
        return True
    return root in ("picture", "tasks") and bool(rest) and ":" not in rest


def topic_matches(subscribed: Iterable[str], topic: str) -> bool:
    """``picture`` covers ``picture:air``; ``tasks:helpline`` covers only that team."""
    return any(topic == sub or topic.startswith(sub + ":") for sub in subscribed)


def event_frame(cursor: str, event: Event) -> dict[str, Any]:
    return {"type": "event", "cursor": cursor, "topic": event.topic, "event": event.type, "data": event.data}


def merged_picture_frame(items: list[tuple[str, Event]]) -> dict[str, Any]:
    """Several ``picture.delta`` events as one: the latest entry per series wins (stream order).

    The frame's cursor is the last merged event's, so a client resuming from it misses nothing
    and gets nothing twice. ``topic`` is the domain's topic when all deltas share one.
    """
    latest: dict[str, dict[str, Any]] = {}
    topics = set()
    for _cursor, event in items:
        topics.add(event.topic)
        for entry in event.data.get("readings", ()):
            key = entry.get("key") or f"{entry.get('source')}|{entry.get('metric')}"
            latest.pop(key, None)  # re-insert so the order follows the latest change
            latest[key] = entry
    frame: dict[str, Any] = {
        "type": "event",
        "cursor": items[-1][0],
        "topic": topics.pop() if len(topics) == 1 else "picture",
        "event": COALESCED_EVENT,
        "data": {"readings": list(latest.values())},
    }
    if len(items) > 1:
        frame["merged"] = len(items)
    return frame


def snapshot_state(snapshot: Snapshot, topics: Iterable[str]) -> dict[str, Any]:
    """The part of a snapshot that the subscribed topics cover."""
    topics = list(topics)
    state: dict[str, Any] = {}
    if any(t.startswith("picture") for t in topics):
        state["picture"] = [
            e for e in snapshot.picture if topic_matches(topics, f"picture:{e.get('domain')}")
        ]
    if "alerts" in topics:
        state["alerts"] = snapshot.alerts
    if any(t.startswith("tasks") for t in topics):
        state["tasks"] = [t for t in snapshot.tasks if topic_matches(topics, f"tasks:{t.get('team')}")]
    if "logbook" in topics:
        state["logbook"] = snapshot.logbook
    if "sources" in topics:
        state["sources"] = snapshot.sources
    return state


def snapshot_frame(snapshot: Snapshot, topics: Iterable[str], resync_reason: str | None) -> dict[str, Any]:
    topics = sorted(topics)
    return {
        "type": "snapshot",
        "cursor": snapshot.cursor,
        "topics": topics,
        "resync": resync_reason is not None,
        "reason": resync_reason,
        "state": snapshot_state(snapshot, topics),
    }


def error_frame(code: str, reason: str) -> dict[str, Any]:
    return {"type": "error", "code": code, "reason": reason}
