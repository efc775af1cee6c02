"""Follow a growing queue_log like `tail -F`: survives rotation (new inode) and truncation."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

MAX_LINE_BYTES = 8192


class FileFollower:
    """Each `poll()` returns the complete lines appended since the last one.

    A rotated file (the path now names another inode) is drained to its end before the new one is
    read from its start; a truncated file is read again from its start. A partial last line waits
    for its newline.
    """

    def __init__(self, path: str | os.PathLike[str], *, from_start: bool = False) -> None:
        self.path = Path(path)
        self._from_start = from_start
        self._file: BinaryIO | None = None
        self._inode: tuple[int, int] | None = None
        self._partial = b""

    def poll(self) -> list[str]:
        if self._file is None and not self._open(at_end=not self._from_start):
            # Whatever a file created after this point holds was written after we started.
            self._from_start = True
            return []
        assert self._file is not None
        lines = self._read_lines()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return lines  # between rotation's rename and the new file: keep the old handle
        if (st.st_dev, st.st_ino) != self._inode:
            self._close()
            self._open(at_end=False)
            lines += self._read_lines()
        elif st.st_size < self._file.tell():
            # Truncated (copytruncate). A file truncated and refilled past our offset between two
            # polls is indistinguishable from growth: the same limit as tail -F.
            self._file.seek(0)
            self._partial = b""
            lines += self._read_lines()
        return lines

    def close(self) -> None:
        self._close()

    def _open(self, *, at_end: bool) -> bool:
        try:
            handle = open(self.path, "rb")  # noqa: SIM115 - held open across polls on purpose
        except FileNotFoundError:
            return False
        st = os.fstat(handle.fileno())
        self._file, self._inode, self._partial = handle, (st.st_dev, st.st_ino), b""
        if at_end:
            handle.seek(0, os.SEEK_END)
        return True

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._inode, self._partial = None, None, b""

    def _read_lines(self) -> list[str]:
        assert self._file is not None
        data = self._partial + self._file.read()
        *complete, self._partial = data.split(b"\n")
        if len(self._partial) > MAX_LINE_BYTES:
            self._partial = b""  # a runaway line is garbage, not a queue event
        return [line.decode("utf-8", "replace") for line in complete if line.strip()]


async def follow(
    path: str | os.PathLike[str], *, interval_s: float = 1.0, from_start: bool = False
) -> AsyncIterator[list[str]]:
    """Yield the new lines every `interval_s` (only when there are some)."""
    follower = FileFollower(path, from_start=from_start)
    try:
        while True:
            lines = await asyncio.to_thread(follower.poll)
            if lines:
                yield lines
            await asyncio.sleep(interval_s)
    finally:
        follower.close()
