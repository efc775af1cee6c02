"""Units of sending (pure): one event alone, or the picture deltas merged since the last flush.

The hub turns the events stream into a sequence of units in stream order; every client gets each
unit as at most one frame. A unit's frame is encoded once per set of subscribed topics and the
same text is shared by every client with that set, so a fan-out to a thousand screens costs one
serialisation, not a thousand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hypervision import bus
from hypervision.events import Event
from hypervision.ws_protocol import COALESCED_EVENT, encode, event_frame, merged_picture_frame, topic_matches

CursorKey = tuple[int, int]
Item = tuple[str, CursorKey, Event]


@dataclass(frozen=True, slots=True)
class Frame:
    """The text of one message and what the metrics need to know about it."""

    kind: str
    text: str
    appended_s: float | None = None  # when the oldest event in it was appended to the stream
    received_s: float | None = None  # when a worker took the oldest reading in it (picture frames)


def control(kind: str, text: str) -> Frame:
    return Frame(kind, text)


@dataclass(eq=False, slots=True)
class Unit:
    """Events that a client receives as one frame; ``items`` are in stream order."""

    items: list[Item]
    merged: bool
    _frames: dict[frozenset[str], Frame | None] = field(default_factory=dict)

    @property
    def first_key(self) -> CursorKey:
        return self.items[0][1]

    @property
    def last_key(self) -> CursorKey:
        return self.items[-1][1]

    def frame_for(self, topics: frozenset[str], after: CursorKey) -> Frame | None:
        """This unit's frame for a client on ``topics`` that already has everything up to ``after``."""
        if after < self.first_key:  # the usual case: the shared, already encoded frame
            try:
                return self._frames[topics]
            except KeyError:
                frame = self._frames[topics] = self._build(topics, self.items)
                return frame
        # The client joined in the middle of this unit (its snapshot or replay covers the start).
        return self._build(topics, [item for item in self.items if item[1] > after])

    def _build(self, topics: frozenset[str], items: list[Item]) -> Frame | None:
        chosen = [(cursor, event) for cursor, _key, event in items if topic_matches(topics, event.topic)]
        if not chosen:
            return None
        appended = bus_time(chosen[0][0])
        if not self.merged:
            return Frame("event", encode(event_frame(*chosen[0])), appended)
        return Frame("event", encode(merged_picture_frame(chosen)), appended, oldest_received(chosen))


class Coalescer:
    """Holds picture deltas until a flush (the tick, or an event that must go out at once)."""

    def __init__(self, *, merge: bool, max_pending: int = 1000) -> None:
        self.merge = merge
        self.max_pending = max_pending
        self.pending: list[Item] = []

    def add(self, cursor: str, event: Event) -> list[Unit]:
        """The units ready to send after this event, in order (the pending deltas come first)."""
        item = (cursor, bus.stream_id_tuple(cursor), event)
        if self.merge and event.type == COALESCED_EVENT:
            self.pending.append(item)
            return self.flush() if len(self.pending) >= self.max_pending else []
        # An alert, ack or task goes now; what is pending is older, so it is flushed before it
        # and every client keeps seeing cursors in increasing order.
        units = self.flush()
        units.append(Unit([item], merged=event.type == COALESCED_EVENT))
        return units

    def flush(self) -> list[Unit]:
        if not self.pending:
            return []
        unit = Unit(self.pending, merged=True)
        self.pending = []
        return [unit]


def bus_time(cursor: str) -> float:
    """When the entry was appended (epoch seconds, Redis clock): the ms part of its ID."""
    return int(cursor.partition("-")[0]) / 1000


def oldest_received(items: list[tuple[str, Event]]) -> float | None:
    oldest: float | None = None
    for _cursor, event in items:
        for entry in event.data.get("readings", ()):
            stamp = entry.get("received_at")
            if not isinstance(stamp, str):
                continue
            try:
                at = datetime.fromisoformat(stamp).timestamp()
            except ValueError:
                continue
            oldest = at if oldest is None else min(oldest, at)
    return oldest
