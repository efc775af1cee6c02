"""A small Asterisk manager (AMI) TCP server answering from the simulated helpline, for demos and tests."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from adapters.asterisk_ami import AmiFramer, Message
from adapters.errors import AdapterError
from adapters.simulator.helpline import Helpline, QueueState, arrival_rate
from adapters.simulator.queue_log_writer import QueueLogWriter

log = logging.getLogger(__name__)

BANNER = b"Asterisk Call Manager/7.0.3\r\n"
# Another client's list answer slipped between ours, as the real-world sample shows.
FOREIGN_ACTION_ID = "other-client-7"


def _message(*pairs: tuple[str, object]) -> bytes:
    return "".join(f"{key}: {value}\r\n" for key, value in pairs).encode() + b"\r\n"


def queue_summary(
    queues: Iterable[QueueState], action_id: str, now: float, *, interleave: bool = True
) -> bytes:
    out = [
        _message(
            ("Response", "Success"),
            ("ActionID", action_id),
            ("EventList", "start"),
            ("Message", "Queue summary will follow"),
        )
    ]
    # Before our events, so a client ending at the first Complete would see none of them.
    if interleave:
        out.append(
            _message(
                ("Event", "QueueSummaryComplete"),
                ("ActionID", FOREIGN_ACTION_ID),
                ("EventList", "Complete"),
                ("ListItems", 8),
            )
        )
    count = 0
    for q in queues:
        free = sum(1 for a in q.agents if a.busy_until is None and not a.paused)
        longest = max((now - c.entered_at for c in q.waiting), default=0)
        out.append(
            _message(
                ("Event", "QueueSummary"),
                ("Queue", q.name),
                ("LoggedIn", len(q.agents)),
                ("Available", free),
                ("Callers", len(q.waiting)),
                ("HoldTime", q.hold_avg_s),
                ("TalkTime", q.talk_avg_s),
                ("LongestHoldTime", int(longest)),
                ("ActionID", action_id),
            )
        )
        count += 1
    out.append(
        _message(
            ("Event", "QueueSummaryComplete"),
            ("ActionID", action_id),
            ("EventList", "Complete"),
            ("ListItems", count),
        )
    )
    return b"".join(out)


def queue_status(queues: Iterable[QueueState], action_id: str, now: float) -> bytes:
    out = [
        _message(
            ("Response", "Success"),
            ("ActionID", action_id),
            ("EventList", "start"),
            ("Message", "Queue status will follow"),
        )
    ]
    count = 0
    for q in queues:
        out.append(
            _message(
                ("Event", "QueueParams"),
                ("Queue", q.name),
                ("Max", 0),
                ("Strategy", "rrmemory"),
                ("Calls", len(q.waiting)),
                ("Holdtime", q.hold_avg_s),
                ("TalkTime", q.talk_avg_s),
                ("Completed", q.completed),
                ("Abandoned", q.abandoned),
                ("ServiceLevel", q.service_level_s),
                ("ServicelevelPerf", q.service_level_perf),
                ("Weight", 0),
                ("ActionID", action_id),
            )
        )
        for agent in q.agents:
            busy = agent.busy_until is not None
            out.append(
                _message(
                    ("Event", "QueueMember"),
                    ("Queue", q.name),
                    ("MemberName", agent.name),
                    ("Interface", agent.interface),
                    ("StateInterface", agent.interface),
                    ("Membership", "static"),
                    ("Penalty", 0),
                    ("CallsTaken", 0),
                    ("InCall", int(busy)),
                    ("Status", 2 if busy else 1),
                    ("Paused", int(agent.paused)),
                    ("ActionID", action_id),
                )
            )
        for caller in q.waiting:
            # The caller's number and name go on the wire exactly as a real PBX sends them.
            out.append(
                _message(
                    ("Event", "QueueEntry"),
                    ("Queue", q.name),
                    ("Position", caller.position),
                    ("Channel", f"PJSIP/trunk-{caller.call_id}"),
                    ("Uniqueid", caller.call_id),
                    ("CallerIDNum", caller.number),
                    ("CallerIDName", caller.name),
                    ("ConnectedLineNum", "<unknown>"),
                    ("ConnectedLineName", "<unknown>"),
                    ("Wait", int(now - caller.entered_at)),
                    ("Priority", 0),
                    ("ActionID", action_id),
                )
            )
        count += 1 + len(q.agents) + len(q.waiting)
    out.append(
        _message(
            ("Event", "QueueStatusComplete"),
            ("ActionID", action_id),
            ("EventList", "Complete"),
            ("ListItems", count),
        )
    )
    return b"".join(out)


CLOSE_TIMEOUT_S = 5.0


class AmiServer:
    """Serves Login, Ping, Logoff, QueueSummary and QueueStatus; anything else is an error, as in Asterisk."""

    def __init__(self, helpline: Helpline, *, username: str, secret: str, interleave: bool = True) -> None:
        self.helpline = helpline
        self.username = username
        self.secret = secret
        self.interleave = interleave
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen and return the bound port (0 asks the system for a free one)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop listening and drop every client, as a PBX restart would."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            # Bounded: a connection whose peer never reads could keep the server "closing" forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        framer, authenticated = AmiFramer(expect_banner=False), False
        try:
            writer.write(BANNER)
            while data := await reader.read(65536):
                for message in framer.feed(data):
                    reply, authenticated, done = self._answer(message, authenticated)
                    writer.write(reply)
                    if done:
                        return
                await writer.drain()
        except (ConnectionError, AdapterError) as err:
            log.debug("simulated AMI client dropped: %s", err)
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await writer.wait_closed()

    def _answer(self, message: Message, authenticated: bool) -> tuple[bytes, bool, bool]:
        name = message.get("Action", "").lower()
        action_id = message.get("ActionID", "")
        if name == "login":
            ok = hmac.compare_digest(message.get("Username", ""), self.username) and hmac.compare_digest(
                message.get("Secret", ""), self.secret
            )
            text = "Authentication accepted" if ok else "Authentication failed"
            return (
                _message(
                    ("Response", "Success" if ok else "Error"), ("ActionID", action_id), ("Message", text)
                ),
                ok,
                not ok,
            )
        if name == "logoff":
            return (
                _message(
                    ("Response", "Goodbye"), ("ActionID", action_id), ("Message", "Thanks for all the fish.")
                ),
                authenticated,
                True,
            )
        if not authenticated:
            return (
                _message(("Response", "Error"), ("ActionID", action_id), ("Message", "Permission denied")),
                False,
                False,
            )
        queues = list(self.helpline.queues.values())
        if name == "ping":
            return _message(("Response", "Success"), ("ActionID", action_id), ("Ping", "Pong")), True, False
        if name == "queuesummary":
            return (
                queue_summary(queues, action_id, self.helpline.now, interleave=self.interleave),
                True,
                False,
            )
        if name == "queuestatus":
            return queue_status(queues, action_id, self.helpline.now), True, False
        return (
            _message(("Response", "Error"), ("ActionID", action_id), ("Message", "Invalid/unknown command")),
            True,
            False,
        )


class HelplineSimulation:
    """The demo's PBX: a helpline following the scenario, its AMI server and queue_log, on the clock."""

    def __init__(
        self,
        scenario: str,
        *,
        clock: Callable[[], datetime],
        username: str,
        secret: str,
        queue_log: Path | None = None,
        queues: dict[str, int] | None = None,
        seed: int = 7,
    ) -> None:
        self.clock = clock
        self.started = clock()
        self.writer = QueueLogWriter(queue_log, epoch0=int(self.started.timestamp())) if queue_log else None
        self.helpline = Helpline(
            queues or {"allo-mairie": 3}, rate=arrival_rate(scenario), seed=seed, listener=self.writer
        )
        self.server = AmiServer(self.helpline, username=username, secret=secret)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        return await self.server.start(host, port)

    def step(self) -> None:
        """Bring the helpline up to now."""
        self.helpline.advance((self.clock() - self.started).total_seconds())

    async def run(self, tick_s: float = 1.0) -> None:
        try:
            while True:
                self.step()
                await asyncio.sleep(tick_s)
        finally:
            await self.close()

    async def close(self) -> None:
        await self.server.close()
        if self.writer is not None:
            self.writer.close()
