"""Asterisk Manager Interface, sans I/O: framing, actions, ActionID-matched replies, queue readings.

Caller identities (numbers, names, channels) are personal data: they are dropped the moment a
message is parsed, so no later stage (reading, log line, error text) can ever hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from adapters.errors import AdapterError
from hypervision.domain import AttrValue, Domain, Reading

Message = dict[str, str]

# Lower-cased key prefixes that carry a caller's or a callee's identity.
_PRIVATE_PREFIXES = ("calleridnum", "calleridname", "callerid", "connectedline", "channel", "destchannel")
_PRIVATE_KEYS = {"exten", "destexten", "accountcode", "language", "linkedid"}
MAX_MESSAGE_BYTES = 64 * 1024
_SOURCE_BAD = re.compile(r"[^A-Za-z0-9_.:\-/@]+")


def is_private(key: str) -> bool:
    low = key.lower()
    return low in _PRIVATE_KEYS or low.startswith(_PRIVATE_PREFIXES)


def parse_message(block: str) -> Message:
    """One `Key: Value` block → a message without its private fields (first occurrence of a key wins)."""
    message: Message = {}
    for line in block.split("\n"):
        key, sep, value = line.rstrip("\r").partition(":")
        key = key.strip()
        if not sep or not key or is_private(key) or key in message:
            continue
        message[key] = value.strip()
    return message


class AmiFramer:
    """Splits the AMI byte stream: a banner line first, then messages ended by a blank line.

    A server reading its clients' actions passes `expect_banner=False`: clients send none.
    """

    def __init__(self, *, expect_banner: bool = True) -> None:
        self.banner: str | None = None if expect_banner else ""
        self._buffer = b""

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        if self.banner is None:
            line, sep, rest = self._buffer.partition(b"\n")
            if not sep:
                self._check_size()
                return []
            self.banner = line.rstrip(b"\r").decode("utf-8", "replace")
            if not self.banner.startswith("Asterisk Call Manager"):
                raise AdapterError(f"not an Asterisk manager banner: {self.banner[:60]!r}")
            self._buffer = rest
        messages: list[Message] = []
        while True:
            end, size = _blank_line(self._buffer)
            if end < 0:
                break
            block, self._buffer = self._buffer[:end], self._buffer[end + size :]
            message = parse_message(block.decode("utf-8", "replace"))
            if message:
                messages.append(message)
        self._check_size()
        return messages

    def _check_size(self) -> None:
        if len(self._buffer) > MAX_MESSAGE_BYTES:
            raise AdapterError(f"an AMI message exceeds {MAX_MESSAGE_BYTES} bytes without ending")


def _blank_line(buffer: bytes) -> tuple[int, int]:
    """Where the first blank line starts and how long it is (AMI says CRLF; tolerate bare LF)."""
    crlf, lf = buffer.find(b"\r\n\r\n"), buffer.find(b"\n\n")
    if crlf >= 0 and (lf < 0 or crlf + 1 <= lf):
        return crlf, 4
    return (lf, 2) if lf >= 0 else (-1, 0)


def action(name: str, action_id: str, **fields: str) -> bytes:
    """Encode one action; CR or LF in a value would inject a second action, so they are refused."""
    lines = [("Action", name), ("ActionID", action_id), *fields.items()]
    for key, value in lines:
        if any(c in f"{key}{value}" for c in "\r\n"):
            raise AdapterError("an AMI field may not contain a line break", field=key)
    return "".join(f"{key}: {value}\r\n" for key, value in lines).encode() + b"\r\n"


@dataclass
class Reply:
    """Collects the response and list events answering one ActionID; other actions' events are ignored."""

    action_id: str
    complete_event: str
    events: list[Message] = field(default_factory=list)
    done: bool = False

    def feed(self, message: Message) -> bool:
        """Take one message; True once the reply is complete. An error response raises."""
        if message.get("ActionID") != self.action_id:
            return self.done
        if message.get("Response", "").lower() == "error":
            raise AdapterError(f"Asterisk refused the action: {message.get('Message', 'no reason given')}")
        event = message.get("Event")
        if event == self.complete_event:
            self.done = True
        elif event is not None:
            self.events.append(message)
        return self.done


@dataclass
class QueueStats:
    """What the PBX says about one queue; None where the replies did not say."""

    callers_waiting: int | None = None
    longest_hold_s: float | None = None
    agents_logged_in: int | None = None
    agents_available: int | None = None
    hold_time_s: float | None = None
    talk_time_s: float | None = None
    completed: int | None = None
    abandoned: int | None = None
    service_level_pct: float | None = None
    service_level_s: float | None = None
    _members: int = 0
    _free_members: int = 0
    _entries: int = 0
    _longest_wait: float = 0.0


def _num(message: Message, key: str) -> float | None:
    try:
        return float(message[key])
    except (KeyError, ValueError):
        return None


def _int(message: Message, key: str) -> int | None:
    value = _num(message, key)
    return None if value is None else int(value)


# QueueMember Status is the device state: 1 = not in use; InCall and Paused override it.
_DEVICE_NOT_INUSE = 1


def fold(events: Iterable[Message]) -> dict[str, QueueStats]:
    """Fold QueueSummary and QueueStatus (QueueParams, QueueMember, QueueEntry) events per queue."""
    queues: dict[str, QueueStats] = {}
    for event in events:
        name = event.get("Queue")
        kind = event.get("Event")
        if not name:
            continue
        stats = queues.setdefault(name, QueueStats())
        if kind == "QueueSummary":
            stats.agents_logged_in = _int(event, "LoggedIn")
            stats.agents_available = _int(event, "Available")
            stats.callers_waiting = _int(event, "Callers")
            stats.hold_time_s = _num(event, "HoldTime")
            stats.talk_time_s = _num(event, "TalkTime")
            stats.longest_hold_s = _num(event, "LongestHoldTime")
        elif kind == "QueueParams":
            stats.completed = _int(event, "Completed")
            stats.abandoned = _int(event, "Abandoned")
            stats.service_level_s = _num(event, "ServiceLevel")
            stats.service_level_pct = _num(event, "ServicelevelPerf")
            if stats.hold_time_s is None:
                stats.hold_time_s = _num(event, "Holdtime")
            if stats.talk_time_s is None:
                stats.talk_time_s = _num(event, "TalkTime")
        elif kind == "QueueMember":
            stats._members += 1
            free = (
                _int(event, "Status") == _DEVICE_NOT_INUSE
                and event.get("Paused", "0") == "0"
                and event.get("InCall", "0") == "0"
            )
            stats._free_members += int(free)
        elif kind == "QueueEntry":
            stats._entries += 1
            stats._longest_wait = max(stats._longest_wait, _num(event, "Wait") or 0.0)
    for stats in queues.values():
        # QueueSummary is authoritative; QueueStatus members and entries fill what it did not say.
        if stats.agents_logged_in is None and stats._members:
            stats.agents_logged_in = stats._members
            stats.agents_available = stats._free_members
        if stats.callers_waiting is None and (stats._entries or stats._members):
            stats.callers_waiting = stats._entries
            stats.longest_hold_s = stats._longest_wait
    return queues


def queue_source(prefix: str, queue: str) -> str:
    """The source id of one queue: the configured prefix and the queue name made id-safe."""
    return f"{prefix}:{_SOURCE_BAD.sub('_', queue)}"[:200]


QueueValues = list[tuple[str, float | None, str]]


def call_line_readings(
    queue: str,
    values: QueueValues,
    *,
    source_prefix: str,
    observed_at: datetime,
    zone: str | None,
    attrs: dict[str, AttrValue],
) -> list[Reading]:
    """One reading per known (metric, value, unit) of a queue; unknown values are left out."""
    return [
        Reading(
            source=queue_source(source_prefix, queue),
            domain=Domain.CALL_LINE,
            metric=metric,
            value=value,
            unit=unit,
            observed_at=observed_at,
            zone=zone,
            attrs={"queue": queue[:256], **attrs},
        )
        for metric, value, unit in values
        if value is not None
    ]


def queue_readings(
    queues: dict[str, QueueStats], *, source_prefix: str, observed_at: datetime, zone: str | None = None
) -> list[Reading]:
    """Readings per queue, in the units the helpline's rules speak (seconds, ratios 0–1)."""
    out: list[Reading] = []
    for name, s in sorted(queues.items()):
        rate = None
        if s.completed is not None and s.abandoned is not None:
            offered = s.completed + s.abandoned
            rate = round(s.abandoned / offered, 4) if offered else 0.0
        level = None if s.service_level_pct is None else round(s.service_level_pct / 100, 4)
        values: QueueValues = [
            ("callersWaiting", s.callers_waiting, ""),
            ("longestHoldTime", s.longest_hold_s, "s"),
            ("agentsLoggedIn", s.agents_logged_in, ""),
            ("agentsAvailable", s.agents_available, ""),
            ("holdTime", s.hold_time_s, "s"),
            ("talkTime", s.talk_time_s, "s"),
            ("callsCompleted", s.completed, ""),
            ("callsAbandoned", s.abandoned, ""),
            ("abandonRate", rate, ""),
            ("serviceLevel", level, ""),
        ]
        attrs: dict[str, AttrValue] = {}
        if s.service_level_s is not None:
            attrs["serviceLevelTarget_s"] = s.service_level_s
        out += call_line_readings(
            name, values, source_prefix=source_prefix, observed_at=observed_at, zone=zone, attrs=attrs
        )
    return out
