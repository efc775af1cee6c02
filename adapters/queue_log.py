"""Asterisk queue_log lines (`epoch|uniqueid|queue|agent|EVENT|p1|p2…`) and sliding-window call stats.

ENTERQUEUE carries the caller's number: only the position is kept, at parse time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from adapters.asterisk_ami import QueueValues, call_line_readings
from adapters.errors import AdapterError
from hypervision.domain import Reading

# Which parameters each event keeps, by position; anything else (URL, caller id, reasons) is dropped.
_PARAMS: dict[str, tuple[str | None, ...]] = {
    "ENTERQUEUE": (None, None, "position"),
    "CONNECT": ("holdtime", None, "ringtime"),
    "COMPLETECALLER": ("holdtime", "calltime", "origpos"),
    "COMPLETEAGENT": ("holdtime", "calltime", "origpos"),
    "ABANDON": ("position", "origpos", "waittime"),
    "EXITWITHTIMEOUT": ("position", "origpos", "waittime"),
    "EXITEMPTY": ("position", "origpos", "waittime"),
    "EXITWITHKEY": (None, "position", "origpos", "waittime"),
    "RINGNOANSWER": ("ringtime_ms",),
}
# Events that end a wait without an agent: the caller gave up or was turned away.
LOST = frozenset({"ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY"})


@dataclass(frozen=True)
class QueueEvent:
    at: datetime
    call_id: str
    queue: str
    event: str
    values: dict[str, int]


def parse_line(line: str) -> QueueEvent | None:
    """One queue_log line; None for lines about no queue (QUEUESTART, CONFIGRELOAD use `NONE`)."""
    fields = line.rstrip("\r\n").split("|")
    if len(fields) < 5:
        raise AdapterError(f"a queue_log line has at least 5 |-separated fields, got {len(fields)}")
    epoch, call_id, queue, _agent, event = fields[:5]
    try:
        at = datetime.fromtimestamp(int(epoch), tz=UTC)
    except (ValueError, OverflowError, OSError) as err:
        raise AdapterError("the first queue_log field must be a Unix time", field="epoch") from err
    if queue in ("", "NONE"):
        return None
    values: dict[str, int] = {}
    for name, raw in zip(_PARAMS.get(event, ()), fields[5:], strict=False):
        if name is None:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            continue  # an empty or odd parameter is left out; the event still counts
    return QueueEvent(at=at, call_id=call_id, queue=queue, event=event, values=values)


@dataclass(frozen=True)
class WindowStats:
    offered: int
    answered: int
    lost: int
    abandon_rate: float
    average_wait_s: float | None
    max_wait_s: float | None


class QueueLogWindow:
    """Calls that ended within the last `window`, per queue; time comes only from the caller."""

    def __init__(self, window: timedelta, queues: Iterable[str] = ()) -> None:
        """`queues` are reported (with zero calls) before their first event, so a quiet line shows."""
        self.window = window
        self._ended: dict[str, deque[tuple[datetime, bool, int]]] = {q: deque() for q in queues}

    def add(self, event: QueueEvent) -> None:
        # CONNECT ends the wait of an answered call; the lost events end the wait of the others.
        if event.event == "CONNECT":
            outcome = (event.at, True, event.values.get("holdtime", 0))
        elif event.event in LOST:
            outcome = (event.at, False, event.values.get("waittime", 0))
        else:
            self._ended.setdefault(event.queue, deque())
            return
        self._ended.setdefault(event.queue, deque()).append(outcome)

    def stats(self, now: datetime) -> dict[str, WindowStats]:
        horizon = now - self.window
        out: dict[str, WindowStats] = {}
        for queue, ended in self._ended.items():
            while ended and ended[0][0] <= horizon:
                ended.popleft()
            recent = [item for item in ended if item[0] <= now]
            answered = [wait for _, ok, wait in recent if ok]
            waits = [wait for _, _, wait in recent]
            offered = len(recent)
            out[queue] = WindowStats(
                offered=offered,
                answered=len(answered),
                lost=offered - len(answered),
                abandon_rate=round((offered - len(answered)) / offered, 4) if offered else 0.0,
                average_wait_s=round(sum(waits) / offered, 1) if offered else None,
                max_wait_s=float(max(waits)) if waits else None,
            )
        return out


def window_readings(
    stats: dict[str, WindowStats],
    *,
    source_prefix: str,
    window: timedelta,
    now: datetime,
    zone: str | None = None,
) -> list[Reading]:
    """Readings named after the window (`abandonRate15m`) so they sit beside the PBX's own counters."""
    minutes = int(window.total_seconds() // 60)
    suffix = f"{minutes}m"
    out: list[Reading] = []
    for queue, s in sorted(stats.items()):
        values: QueueValues = [
            (f"callsOffered{suffix}", s.offered, ""),
            (f"callsLost{suffix}", s.lost, ""),
            (f"abandonRate{suffix}", s.abandon_rate, ""),
            (f"averageWait{suffix}", s.average_wait_s, "s"),
            (f"maxWait{suffix}", s.max_wait_s, "s"),
        ]
        out += call_line_readings(
            queue,
            values,
            source_prefix=source_prefix,
            observed_at=now,
            zone=zone,
            attrs={"window_s": int(window.total_seconds())},
        )
    return out
