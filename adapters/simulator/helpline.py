"""A seeded call-centre model for the simulator: callers arrive, wait, are answered or hang up.

It drives both the AMI server (a snapshot of each queue) and the queue_log writer (one event per
change), so the two telephony feeds of the demo tell the same story. Caller numbers and names are
fake but realistic on purpose: they prove the parsers drop them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

# Arrivals per minute as a function of the seconds since the scenario started.
ArrivalRate = Callable[[float], float]
Listener = Callable[
    [float, str, str, str, str, tuple[str, ...]], None
]  # at, call, queue, agent, event, params

_NAMES = ("Jeanne Martin", "Paul Durand", "Amina Benali", "Luc Moreau", "Chloé Petit", "Yann Le Gall")


# The simulator world's scenarios that load the helpline (see adapters/simulator/world.py).
SURGE_SCENARIOS = frozenset({"helpline-surge", "covid-wave"})


def normal_day(elapsed_s: float) -> float:
    return 2.0


def helpline_surge(elapsed_s: float) -> float:
    """Calm for a minute, then a surge to eight times the usual load over three minutes."""
    if elapsed_s < 60:
        return 2.0
    return 2.0 + 14.0 * min(1.0, (elapsed_s - 60) / 180)


def arrival_rate(scenario: str) -> ArrivalRate:
    return helpline_surge if scenario in SURGE_SCENARIOS else normal_day


@dataclass
class Caller:
    call_id: str
    number: str
    name: str
    entered_at: float
    patience_s: float
    position: int


@dataclass
class Agent:
    interface: str
    name: str
    busy_until: float | None = None
    paused: bool = False
    # The call in progress: call id, hold seconds, talk seconds.
    call: tuple[str, int, int] | None = None


@dataclass
class QueueState:
    """One queue as Asterisk would report it."""

    name: str
    agents: list[Agent]
    waiting: list[Caller] = field(default_factory=list)
    answered: int = 0
    completed: int = 0
    abandoned: int = 0
    hold_total_s: float = 0.0
    talk_total_s: float = 0.0
    answered_within_sl: int = 0
    service_level_s: int = 60

    @property
    def hold_avg_s(self) -> int:
        return round(self.hold_total_s / self.answered) if self.answered else 0

    @property
    def talk_avg_s(self) -> int:
        return round(self.talk_total_s / self.completed) if self.completed else 0

    @property
    def service_level_perf(self) -> float:
        offered = self.answered + self.abandoned
        return round(100 * self.answered_within_sl / offered, 1) if offered else 0.0


class Helpline:
    """Advance with `advance(to)` (seconds since start, from the caller's clock): nothing here reads time."""

    def __init__(
        self,
        queues: dict[str, int],
        *,
        rate: ArrivalRate = normal_day,
        seed: int = 7,
        mean_talk_s: float = 180.0,
        mean_patience_s: float = 150.0,
        listener: Listener | None = None,
    ) -> None:
        self.queues = {
            name: QueueState(
                name, [Agent(f"PJSIP/{name}-{i + 1}", f"Poste {name} {i + 1}") for i in range(n)]
            )
            for name, n in queues.items()
        }
        self.rate = rate
        self.rng = random.Random(seed)
        self.mean_talk_s = mean_talk_s
        self.mean_patience_s = mean_patience_s
        self.listener = listener
        self.now = 0.0
        self._calls = 0

    def advance(self, to: float, *, step_s: float = 1.0) -> None:
        while self.now + step_s <= to:
            self.now += step_s
            for queue in self.queues.values():
                self._step(queue, step_s)

    def _emit(self, call: str, queue: str, agent: str, event: str, *params: str) -> None:
        if self.listener is not None:
            self.listener(self.now, call, queue, agent, event, params)

    def _step(self, q: QueueState, dt: float) -> None:
        now = self.now
        for agent in q.agents:
            if agent.busy_until is not None and agent.busy_until <= now and agent.call is not None:
                call_id, hold, talk = agent.call
                agent.busy_until, agent.call = None, None
                q.completed += 1
                q.talk_total_s += talk
                self._emit(call_id, q.name, agent.interface, "COMPLETECALLER", str(hold), str(talk), "1")
        per_queue = self.rate(now) / len(self.queues)
        if self.rng.random() < per_queue * dt / 60:
            self._calls += 1
            caller = Caller(
                call_id=f"{1796025600 + int(now)}.{self._calls}",
                number=f"06{self.rng.randrange(10**8):08d}",
                name=self.rng.choice(_NAMES),
                entered_at=now,
                patience_s=self.rng.expovariate(1 / self.mean_patience_s),
                position=len(q.waiting) + 1,
            )
            q.waiting.append(caller)
            self._emit(caller.call_id, q.name, "NONE", "ENTERQUEUE", "", caller.number, str(caller.position))
        for caller in [c for c in q.waiting if now - c.entered_at > c.patience_s]:
            q.waiting.remove(caller)
            q.abandoned += 1
            wait = str(int(now - caller.entered_at))
            self._emit(caller.call_id, q.name, "NONE", "ABANDON", str(caller.position), "1", wait)
        for agent in q.agents:
            if agent.busy_until is None and not agent.paused and q.waiting:
                caller = q.waiting.pop(0)
                hold = int(now - caller.entered_at)
                talk = int(max(20.0, self.rng.expovariate(1 / self.mean_talk_s)))
                agent.busy_until, agent.call = now + talk, (caller.call_id, hold, talk)
                q.hold_total_s += hold
                q.answered += 1
                q.answered_within_sl += hold <= q.service_level_s
                self._emit(caller.call_id, q.name, agent.interface, "CONNECT", str(hold), caller.call_id, "2")
        for i, caller in enumerate(q.waiting):
            caller.position = i + 1
