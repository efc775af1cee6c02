"""Writes the simulated helpline's events as an Asterisk queue_log, and rotates it like logrotate."""

from __future__ import annotations

import os
from pathlib import Path

# Simulated seconds are offset from this epoch so lines look like a real day's log.
EPOCH0 = 1796025600


class QueueLogWriter:
    """A `Helpline` listener: one `epoch|uniqueid|queue|agent|EVENT|params` line per event, flushed."""

    def __init__(self, path: str | os.PathLike[str], *, epoch0: int = EPOCH0) -> None:
        self.path = Path(path)
        self.epoch0 = epoch0
        self.lines = 0
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - held for the run
        self._write(0.0, "NONE", "NONE", "NONE", "QUEUESTART", ("",))

    def __call__(
        self, at: float, call: str, queue: str, agent: str, event: str, params: tuple[str, ...]
    ) -> None:
        self._write(at, call, queue, agent, event, params)

    def rotate(self) -> Path:
        """Rename the log to `.1` and start a new one, as logrotate's create mode does."""
        rotated = self.path.with_name(self.path.name + ".1")
        self._file.close()
        os.replace(self.path, rotated)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        return rotated

    def close(self) -> None:
        self._file.close()

    def _write(
        self, at: float, call: str, queue: str, agent: str, event: str, params: tuple[str, ...]
    ) -> None:
        fields = (str(self.epoch0 + int(at)), call, queue, agent, event, *params)
        self._file.write("|".join(fields) + "\n")
        self._file.flush()  # a follower must see each event as it happens
        self.lines += 1
