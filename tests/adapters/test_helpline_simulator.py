"""The simulated helpline writes a queue_log that the real parser and follower read back consistently."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from adapters.queue_log import QueueLogWindow, parse_line
from adapters.queue_log_follower import FileFollower
from adapters.simulator.helpline import Helpline, arrival_rate, helpline_surge, normal_day
from adapters.simulator.queue_log_writer import QueueLogWriter


def test_queue_log_tells_the_same_story_as_the_model(tmp_path: Path) -> None:
    path = tmp_path / "queue_log"
    writer = QueueLogWriter(path)
    helpline = Helpline({"allo-mairie": 2}, rate=helpline_surge, seed=11, listener=writer)
    follower = FileFollower(path, from_start=True)
    lines = []
    for t in range(60, 1201, 60):
        helpline.advance(t)
        lines += follower.poll()
        if t == 600:
            writer.rotate()  # mid-run rotation must lose nothing
    writer.close()
    follower.close()
    assert len(lines) == writer.lines
    events = [e for e in map(parse_line, lines) if e is not None]
    queue = helpline.queues["allo-mairie"]
    assert sum(e.event == "ABANDON" for e in events) == queue.abandoned > 0
    assert sum(e.event == "COMPLETECALLER" for e in events) == queue.completed > 0
    numbers = [line.split("|")[6] for line in lines if "|ENTERQUEUE|" in line]
    assert numbers and all(n.startswith("06") for n in numbers)
    assert not any(n in repr(events) for n in numbers)
    window = QueueLogWindow(timedelta(minutes=20))
    for event in events:
        window.add(event)
    stats = window.stats(events[-1].at)["allo-mairie"]
    assert stats.lost == queue.abandoned
    assert stats.answered == queue.answered


def test_surge_scenario_loads_the_line_more_than_a_normal_day() -> None:
    calm = Helpline({"allo-mairie": 2}, rate=arrival_rate("normal-day"), seed=5)
    surge = Helpline({"allo-mairie": 2}, rate=arrival_rate("helpline-surge"), seed=5)
    for helpline in (calm, surge):
        helpline.advance(900)
    assert arrival_rate("covid-wave") is helpline_surge
    assert arrival_rate("pollution-peak") is normal_day
    assert surge.queues["allo-mairie"].abandoned > calm.queues["allo-mairie"].abandoned
