"""What the benchmarks share: the machine's details, a private Redis, a rule set, readings, workers."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rules_bench import KINDS  # noqa: E402  (bench/ is on sys.path when a bench runs)

from hypervision import bus  # noqa: E402
from hypervision.embedded_redis import free_port, redis_server_binary  # noqa: E402

RULE_METRICS = 100  # the 1,000 rules are spread over 100 metrics: ~10 rules per reading
SOURCES = 5_000
ZONES = 50
# The rule mix of bench/rules_bench.py (KINDS): thresholds with levels, clear conditions, `for`,
# 1 h means, N consecutive; every metric gets each kind. Readings sit below every threshold; a
# spike (one in SPIKE_EVERY) crosses most of them.
SPIKE_EVERY = 20_000


def rules_yaml(count: int = 1_000, *, window: str = "1h") -> str:
    """``count`` rules; ``window`` replaces the 1 h of the mean rules (the soak's memory verdict
    needs windows that fill up early in the run)."""
    out = ["rules:"]
    for i in range(count):
        when = KINDS[(i // RULE_METRICS) % len(KINDS)].replace("over: 1h", f"over: {window}")
        out.append(
            f"  - id: b{i}\n    title: 'b{i} {{value}} at {{source}}'\n"
            f"    select: {{domain: air, metric: m{i % RULE_METRICS}}}\n"
            f"    when: {when}"
        )
    return "\n".join(out) + "\n"


def reading_dict(i: int, t0: datetime, *, value: float | None = None) -> dict[str, Any]:
    """The i-th reading of the load, as a feed would POST it."""
    if value is None:
        value = 99.0 if i % SPIKE_EVERY == SPIKE_EVERY - 1 else 20.0 + (i * 7919 % 400) / 10
    return {
        "source": f"air:station:B{i % SOURCES:05d}",
        "domain": "air",
        "metric": f"m{i % RULE_METRICS}",
        "value": value,
        "unit": "µg/m³",
        "observed_at": (t0 + timedelta(milliseconds=i)).isoformat(),
        "zone": f"z{i % ZONES}",
    }


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("RAM", f"{mem_kb / 1024 / 1024:.1f} GiB"),
        ("Python", platform.python_version()),
        ("load average at start", load),
    ]


def print_table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print(f"\n{title}\n" + "-" * len(title))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


@dataclass
class Server:
    url: str
    version: str
    proc: subprocess.Popen[bytes]


@contextmanager
def redis_server(folder: Path, *, aof: bool) -> Iterator[Server]:
    """A private redis-server (7 or later: XINFO GROUPS must report entries-read)."""
    binary = shutil.which("redis-server") or redis_server_binary()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(folder), "--save", ""]
    args += ["--appendonly", "yes" if aof else "no", "--logfile", str(folder / "redis.log")]
    proc = subprocess.Popen(args, start_new_session=True)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(200):
            try:
                version = client.info("server")["redis_version"]
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise SystemExit(f"redis-server did not start; see {folder / 'redis.log'}")
        if int(version.split(".")[0]) < 7:
            raise SystemExit(f"{binary} is Redis {version}; the benchmarks need Redis 7 or later")
        yield Server(url, f"{version} ({binary}, AOF {'on' if aof else 'off'})", proc)
    finally:
        client.close()
        proc.terminate()
        proc.wait(10)


def settings_env(url: str, folder: Path, shards: int, rules: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HV_REDIS_URL=url,
        HV_DATABASE_URL=f"sqlite:///{folder / 'hv.db'}",
        HV_SECRET_KEY="bench-only-secret",
        HV_DATA_DIR=str(folder),
        HV_READING_SHARDS=str(shards),
        HV_RULES_FILES=json.dumps([str(rules)]),
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def start_workers(
    n: int, env: dict[str, str], logs: Path, *, profile: bool = False
) -> list[subprocess.Popen[bytes]]:
    """``n`` worker processes; with ``profile``, each under pyinstrument (a text report per worker)."""
    procs = []
    for i in range(n):
        log = open(logs / f"worker-{i}.log", "wb")  # noqa: SIM115  (closed with the process)
        command = [sys.executable, "-m", "hypervision", "worker", "--name", f"bench-{i}"]
        if profile:
            report = logs / f"worker-{i}.pyinstrument.txt"
            command[1:1] = ["-m", "pyinstrument", "-r", "text", "-o", str(report)]
        procs.append(
            subprocess.Popen(
                command,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        )
    return procs


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_for_leases(client: redis.Redis, shards: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(client.exists(bus.lease_key(s)) for s in range(shards)):
            return
        time.sleep(0.1)
    raise SystemExit("the workers did not take every shard")


def acknowledged(client: redis.Redis, shards: int) -> tuple[int, int]:
    """(entries acknowledged by the worker group, entries still waiting) over every shard."""
    done = waiting = 0
    for shard in range(shards):
        try:
            groups = client.xinfo_groups(bus.readings_stream(shard))
        except redis.ResponseError:  # no stream yet
            continue
        for group in groups:
            if group["name"] == bus.WORKER_GROUP.encode():
                done += int(group["entries-read"] or 0) - int(group["pending"])
                waiting += int(group["pending"]) + int(group["lag"] or 0)
    return done, waiting


def now_utc() -> datetime:
    return datetime.now(UTC)
