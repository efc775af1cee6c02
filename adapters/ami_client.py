"""Asterisk AMI client over TCP: login, periodic QueueSummary + QueueStatus, reconnect with backoff.

The only I/O of the call-line feed; framing, matching and readings are in `adapters.asterisk_ami`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr

from adapters.asterisk_ami import AmiFramer, Message, Reply, action, fold, queue_readings
from adapters.errors import AdapterError
from adapters.link_health import SourceHealth, backoff_delay
from hypervision.domain import Reading

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sink = Callable[[list[Reading]], Awaitable[None]]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: SecretStr
    source_prefix: str
    zone: str | None = None
    interval_s: float = 15.0
    timeout_s: float = 10.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0


class AmiClient:
    """Owns one manager connection; `run()` polls until cancelled and never raises on feed errors."""

    def __init__(self, config: AmiConfig, sink: Sink, *, clock: Clock = utc_now) -> None:
        self.config = config
        self.sink = sink
        self.clock = clock
        self.health = SourceHealth(source=config.source_prefix)
        self._ids = itertools.count(1)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._framer = AmiFramer()
        self._inbox: list[Message] = []

    async def run(self) -> None:
        while True:
            try:
                if self._writer is None:
                    await self.connect()
                readings = await self.poll_once()
                await self.sink(readings)
            except (OSError, EOFError, TimeoutError, AdapterError) as err:
                await self.close()
                self._failed(err)
                await self._back_off()
                continue
            except Exception as err:  # top-level loop: a failing sink must not kill the feed
                log.exception("call line %s: unexpected failure", self.health.source)
                await self.close()
                self._failed(err)
                await self._back_off()
                continue
            self._succeeded()
            await asyncio.sleep(self.config.interval_s)

    async def _back_off(self) -> None:
        await asyncio.sleep(
            backoff_delay(
                self.health.consecutive_failures,
                initial=self.config.backoff_initial_s,
                maximum=self.config.backoff_max_s,
                jitter=0.2,
            )
        )

    async def connect(self) -> None:
        cfg = self.config
        self._framer, self._inbox = AmiFramer(), []
        async with asyncio.timeout(cfg.timeout_s):  # not wait_for: on 3.11 it can swallow a cancel
            self._reader, self._writer = await asyncio.open_connection(cfg.host, cfg.port)
        # Events: off — we poll; unsolicited call events would only carry caller data we drop anyway.
        login_id = self._next_id()
        await self._send(
            action(
                "Login", login_id, Username=cfg.username, Secret=cfg.secret.get_secret_value(), Events="off"
            )
        )
        response = await self._response(login_id)
        if response.get("Response", "").lower() != "success":
            raise AdapterError(f"AMI login refused: {response.get('Message', 'no reason given')}")

    async def poll_once(self) -> list[Reading]:
        """One QueueSummary and one QueueStatus, both replies complete, folded into readings."""
        summary = Reply(self._next_id(), "QueueSummaryComplete")
        status = Reply(self._next_id(), "QueueStatusComplete")
        await self._send(action("QueueSummary", summary.action_id) + action("QueueStatus", status.action_id))
        async with asyncio.timeout(self.config.timeout_s):
            while not (summary.done and status.done):
                for message in await self._messages():
                    summary.feed(message)
                    status.feed(message)
        queues = fold([*summary.events, *status.events])
        return queue_readings(
            queues, source_prefix=self.config.source_prefix, observed_at=self.clock(), zone=self.config.zone
        )

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):  # the peer is already gone: nothing left to tell it
                await writer.wait_closed()

    def _next_id(self) -> str:
        return f"hv-{next(self._ids)}"

    async def _send(self, data: bytes) -> None:
        if self._writer is None:
            raise EOFError("not connected")
        self._writer.write(data)
        await self._writer.drain()

    async def _messages(self) -> list[Message]:
        if self._inbox:
            messages, self._inbox = self._inbox, []
            return messages
        if self._reader is None:
            raise EOFError("not connected")
        data = await self._reader.read(65536)
        if not data:
            raise EOFError("the PBX closed the manager connection")
        return self._framer.feed(data)

    async def _response(self, action_id: str) -> Message:
        async with asyncio.timeout(self.config.timeout_s):
            while True:
                messages = await self._messages()
                for i, message in enumerate(messages):
                    if message.get("ActionID") == action_id and "Response" in message:
                        self._inbox = messages[i + 1 :] + self._inbox
                        return message

    def _failed(self, err: BaseException) -> None:
        reason = err.describe() if isinstance(err, AdapterError) else f"{type(err).__name__}: {err}"
        self.health.failed(reason, at=self.clock(), log=log)

    def _succeeded(self) -> None:
        self.health.succeeded(at=self.clock(), log=log)
