"""queue_log parsing (caller ids dropped) and abandon / wait statistics over a sliding window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.errors import AdapterError
from adapters.queue_log import QueueLogWindow, parse_line, window_readings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "call_line"


def events():
    lines = (FIXTURES / "queue_log_sample.txt").read_text().splitlines()
    return [e for e in map(parse_line, lines) if e is not None]


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def test_lines_parse_and_caller_ids_are_dropped() -> None:
    parsed = events()
    assert len(parsed) == 10  # QUEUESTART is about no queue
    enter = parsed[0]
    assert (enter.event, enter.queue, enter.call_id, enter.values) == (
        "ENTERQUEUE",
        "mairie-standard",
        "1796028000.1",
        {"position": 1},
    )
    assert "0612345678" not in repr(parsed)
    assert "+33698765432" not in repr(parsed)
    assert parsed[1].values == {"holdtime": 12, "ringtime": 3}
    assert parsed[4].values == {"position": 1, "origpos": 1, "waittime": 90}


def test_window_counts_answered_and_lost_calls_and_their_waits() -> None:
    window = QueueLogWindow(timedelta(minutes=15))
    for event in events():
        window.add(event)
    stats = window.stats(at(1796028900))["mairie-standard"]
    # Within 15 minutes of 1796028900: CONNECT 12 s and 30 s, ABANDON 90 s, EXITWITHTIMEOUT 300 s.
    assert (stats.offered, stats.answered, stats.lost) == (4, 2, 2)
    assert stats.abandon_rate == 0.5
    assert stats.average_wait_s == pytest.approx((12 + 30 + 90 + 300) / 4, abs=0.1)
    assert stats.max_wait_s == 300.0


def test_old_calls_slide_out_of_the_window() -> None:
    window = QueueLogWindow(timedelta(minutes=10))
    for event in events():
        window.add(event)
    stats = window.stats(at(1796028900))["mairie-standard"]
    # 10 minutes back from 1796028900 is 1796028300: only the ABANDON, the CONNECT at 530 and the timeout.
    assert (stats.offered, stats.lost) == (3, 2)
    later = window.stats(at(1796028900 + 3600))["mairie-standard"]
    assert (later.offered, later.abandon_rate, later.average_wait_s) == (0, 0.0, None)


def test_window_readings_are_named_after_the_window() -> None:
    window = QueueLogWindow(timedelta(minutes=15))
    for event in events():
        window.add(event)
    now = at(1796028900)
    readings = window_readings(
        window.stats(now), source_prefix="call_line:pbx", window=window.window, now=now
    )
    values = {r.metric: r.value for r in readings}
    assert values["abandonRate15m"] == 0.5
    assert values["callsOffered15m"] == 4.0
    assert values["maxWait15m"] == 300.0
    assert {r.source for r in readings} == {"call_line:pbx:mairie-standard"}
    assert all(r.observed_at == now for r in readings)


@pytest.mark.parametrize("line", ["garbage", "abc|1|q|NONE|ENTERQUEUE||0612345678|1"])
def test_broken_lines_are_refused_without_echoing_them(line: str) -> None:
    with pytest.raises(AdapterError) as caught:
        parse_line(line)
    assert "0612345678" not in str(caught.value)


def test_known_queues_report_zero_calls_before_their_first_event() -> None:
    window = QueueLogWindow(timedelta(minutes=15), queues=["allo-mairie"])
    stats = window.stats(at(1796028900))["allo-mairie"]
    assert (stats.offered, stats.abandon_rate, stats.max_wait_s) == (0, 0.0, None)
