"""A whole Hypervision for the end-to-end benchmarks: Redis, the API (hub) process, worker processes.

The API runs as `python -m hypervision serve`, workers as `python -m hypervision worker`, on a
private Redis 7 and a SQLite file; tokens are issued directly in the database (an ingest key and a
screen token), as `hypervision tokens` would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import benchkit
import httpx
import psutil
import redis
from benchkit import ROOT, free_port

from hypervision import auth
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.models.user import TokenKind

PROBE_RULE = """
  - id: probe-high
    title: 'probe {value} at {source}'
    select: {domain: air, metric: probe}
    when: {op: ">", value: 200}
    severity: warning
"""


@dataclass
class Stack:
    redis_url: str
    redis_version: str
    api_url: str
    ws_url: str
    ingest_token: str
    screen_token: str
    folder: Path
    env: dict[str, str]
    api: subprocess.Popen[bytes]
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def processes(self) -> dict[str, psutil.Process]:
        named = {"api": psutil.Process(self.api.pid)}
        named.update({f"worker-{i}": psutil.Process(w.pid) for i, w in enumerate(self.workers)})
        return named

    def error_lines(self) -> list[str]:
        """Log lines at ERROR or worse, from the API and every worker."""
        out = []
        for path in sorted((self.folder / "logs").glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback"):
                    out.append(f"{path.name}: {line}")
        return out

    def warning_kinds(self) -> Counter[str]:
        """WARNING lines of the API and workers, by their first words (numbers stripped)."""
        kinds: Counter[str] = Counter()
        for path in sorted((self.folder / "logs").glob("*.log")):
            for line in path.read_text(errors="replace").splitlines():
                if " WARNING " in line:
                    text = line.split(" WARNING ", 1)[1]
                    kinds[f"{path.stem}: " + re.sub(r"[0-9]+", "N", text)[:90]] += 1
        return kinds


def loadgen(stack: Stack, *, rate: float, duration: float, spikes: bool = False) -> subprocess.Popen[bytes]:
    """Background readings at ``rate`` per second (validated and appended as the API does)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--redis-url", stack.redis_url,
         "--shards", stack.env["HV_READING_SHARDS"], "--rate", str(rate), "--duration", str(duration),
         "--spikes" if spikes else "--no-spikes"],
        env=stack.env, stdout=subprocess.PIPE,
    )  # fmt: skip


@contextmanager
def running(
    folder: Path, *, rules: int, workers: int, shards: int = 4, aof: bool = True, window: str = "1h"
) -> Iterator[Stack]:
    with ExitStack() as exits:
        server = exits.enter_context(benchkit.redis_server(folder / "redis", aof=aof))
        rules_file = folder / "rules.yaml"
        rules_file.write_text(benchkit.rules_yaml(rules, window=window) + PROBE_RULE)
        port = free_port()
        env = benchkit.settings_env(
            server.url, folder, shards, rules_file, HV_HOST="127.0.0.1", HV_PORT=str(port)
        )
        secret = env["HV_SECRET_KEY"]
        db = make_engine(env["HV_DATABASE_URL"])
        create_schema(db)
        now = datetime.now(UTC)
        with session_scope(db) as session:
            ingest = auth.issue_token(
                session, kind=TokenKind.INGEST, secret=secret, now=now, ttl=None, name="bench"
            )
            screen = auth.issue_token(
                session, kind=TokenKind.SCREEN, secret=secret, now=now, ttl=None, name="wall"
            )
        db.dispose()
        logs = folder / "logs"
        logs.mkdir(exist_ok=True)
        api_log = exits.enter_context(open(logs / "api.log", "wb"))
        api = subprocess.Popen(
            [sys.executable, "-m", "hypervision", "serve"],
            env=env,
            cwd=ROOT,
            stdout=api_log,
            stderr=subprocess.STDOUT,
        )
        procs = benchkit.start_workers(workers, env, logs)
        exits.callback(benchkit.stop, [api, *procs])
        stack = Stack(
            server.url, server.version, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws",
            ingest, screen, folder, env, api, procs,
        )  # fmt: skip
        _wait_ready(stack, shards)
        yield stack


def _wait_ready(stack: Stack, shards: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if stack.api.poll() is not None:
            raise SystemExit(f"the API exited; see {stack.folder / 'logs' / 'api.log'}")
        try:
            if httpx.get(f"{stack.api_url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    else:
        raise SystemExit("the API did not answer /healthz")
    benchkit.wait_for_leases(redis.Redis.from_url(stack.redis_url), shards)
