"""WebSocket fan-out: one alert to 1,000 screens (hub vs a bare websockets broadcast) and POST-to-screen.

    .venv/bin/python bench/ws_fanout.py            # defaults: 1,000 clients, 50 alerts, 10,000 readings/s

Every part runs in its own process: a private redis-server, the app (``hypervision serve``), one
worker, the client processes, the load generator. Part 1 publishes alerts straight to hv:events
(stamped with the send time) and measures, per alert, when the last of the clients got it; then the
same clients against a bare ``websockets`` server that XREADs the same stream and broadcasts the
same frame (the ceiling: no auth, no topics, no cursors, no queues). Part 2 POSTs a reading that
fires an alert while a load generator posts readings in the background, and measures until the
alert frame reaches a screen subscribed to ``picture`` and ``alerts``, split at the alert's append
to hv:events (its cursor's time) into the pipeline's part and the hub's part.

    .venv/bin/python bench/ws_fanout.py --skip-fanout --rate 4000   # only part 2, another rate
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import redis
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.benchkit import (
    ROOT,
    acknowledged,
    machine,
    print_table,
    redis_server,
    settings_env,
    start_workers,
    stop,
)
from hypervision import auth, bus
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.embedded_redis import free_port
from hypervision.events import Event, decode_entry
from hypervision.models.user import TokenKind
from hypervision.ws_protocol import encode, event_frame

PROBE_TIMEOUT_S = 5.0
SECRET = "bench-only-secret"  # what benchkit.settings_env sets as HV_SECRET_KEY


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65_536) if hard != resource.RLIM_INFINITY else 65_536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return f"{value * 1000:.1f} ms"


def alert_payload(n: int) -> dict[str, Any]:
    """An alert's public form, about the size of the real one."""
    return {
        "id": 100_000 + n,
        "n": n,
        "sent": time.time(),
        "rule_id": "air.no2.hourly",
        "fingerprint": f"{n:032x}",
        "state": "firing",
        "severity": "warning",
        "title": "NO2 au-dessus du seuil d'information (200 µg/m³) à la station FR-BENCH",
        "description": "Moyenne horaire 450 µg/m³ ; seuil d'information 200 µg/m³.",
        "source": "air:station:FR-BENCH",
        "zone": "valmont-centre",
        "value": 450.0,
        "labels": {"domain": "air", "metric": "no2"},
        "transition": {"event": "fire", "from": None, "to": "firing", "by": "rule:air.no2.hourly"},
    }


# -- child: clients -------------------------------------------------------------------------------
async def clients_main(url: str, count: int, expect: int, timeout: float) -> None:
    sem = asyncio.Semaphore(64)

    async def one() -> websockets.ClientConnection:
        async with sem:
            ws = await websockets.connect(url, max_size=None, open_timeout=60, ping_interval=None)
            await ws.send(json.dumps({"type": "subscribe", "topics": ["alerts"]}))
            while json.loads(await ws.recv())["type"] != "snapshot":
                pass
            return ws

    conns = await asyncio.gather(*(one() for _ in range(count)))
    print("READY", flush=True)
    latency: dict[int, list[float]] = defaultdict(list)

    async def listen(ws: websockets.ClientConnection) -> None:
        got = 0
        while got < expect:
            raw = await ws.recv()
            now = time.time()
            frame = json.loads(raw)
            if frame["type"] == "event" and frame.get("event") == "alert.changed":
                latency[frame["data"]["n"]].append(now - frame["data"]["sent"])
                got += 1
            elif frame["type"] == "ping":
                await ws.send('{"type": "pong"}')

    try:
        async with asyncio.timeout(timeout):
            await asyncio.gather(*(listen(ws) for ws in conns))
    except TimeoutError:
        pass
    print(json.dumps(latency), flush=True)
    for ws in conns:
        await ws.close()


# -- child: the ceiling ---------------------------------------------------------------------------
async def ceiling_main(redis_url: str, port: int) -> None:
    """A bare websockets server broadcasting each hv:events entry as the same event frame."""
    from redis.asyncio import Redis
    from websockets.asyncio.server import broadcast, serve

    conns: set[Any] = set()

    async def handler(ws: Any) -> None:
        await ws.recv()  # the subscribe frame
        await ws.send('{"type": "snapshot"}')
        conns.add(ws)
        try:
            await ws.wait_closed()
        finally:
            conns.discard(ws)

    r = Redis.from_url(redis_url)
    last_entry: Any = await r.xrevrange(bus.EVENTS_STREAM, count=1)
    position = last_entry[0][0].decode() if last_entry else "0-0"
    async with serve(handler, "127.0.0.1", port, max_size=None, ping_interval=None):
        print("READY", flush=True)
        while True:
            response: Any = await r.xread({bus.EVENTS_STREAM: position}, block=1000, count=1000)
            for _stream, entries in response or []:
                for entry_id, fields in entries:
                    cursor, event = decode_entry(entry_id, fields)
                    position = cursor
                    broadcast(conns, encode(event_frame(cursor, event)))


# -- child: the load generator --------------------------------------------------------------------
async def load_main(base: str, token: str, rate: int, seconds: float) -> None:
    batch = 200
    per_s = rate / batch
    sent = 0
    t0 = datetime.now(UTC)
    async with httpx.AsyncClient(
        base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        start = time.monotonic()
        inflight: set[asyncio.Task[Any]] = set()
        i = 0
        while time.monotonic() - start < seconds:
            due = start + i / per_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            items = [_load_reading(sent + k, t0) for k in range(batch)]
            task = asyncio.create_task(http.post("/api/ingest/readings", json=items))
            inflight.add(task)
            task.add_done_callback(inflight.discard)
            sent += batch
            i += 1
            if len(inflight) > 32:  # the API is saturated: do not pile up requests
                await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.gather(*inflight)
        elapsed = time.monotonic() - start
    print(json.dumps({"sent": sent, "rate": sent / elapsed}), flush=True)


def _load_reading(i: int, t0: datetime) -> dict[str, Any]:
    return {
        "source": f"air:station:L{i % 2000:04d}",
        "domain": "air",
        "metric": "pm10",
        "value": 20.0 + (i * 7919 % 200) / 10,
        "unit": "µg/m³",
        "observed_at": datetime.now(UTC).isoformat(),
        "zone": f"z{i % 50}",
    }


# -- the conductor --------------------------------------------------------------------------------
def spawn(args: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, __file__, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=open(log, "w") if log else subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )


def wait_ready(procs: list[subprocess.Popen[str]], what: str, logs: list[Path]) -> None:
    for proc, log in zip(procs, logs, strict=True):
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != "READY":
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise SystemExit(f"{what} did not get ready (got {line!r}); {log.name} ends with:\n{tail}")


def fan_out(
    url: str, args: argparse.Namespace, r: redis.Redis, env: dict[str, str], folder: Path
) -> dict[str, float]:
    per = args.clients // args.client_procs
    timeout = 30 + args.alerts * args.alert_gap_s
    logs = [folder / f"clients-{i}.log" for i in range(args.client_procs)]
    procs = [
        spawn(
            [
                "--role",
                "clients",
                "--url",
                url,
                "--count",
                str(per),
                "--expect",
                str(args.alerts),
                "--timeout",
                str(timeout),
            ],
            env,
            folder / f"clients-{i}.log",
        )
        for i in range(args.client_procs)
    ]
    wait_ready(procs, "the clients", logs)
    time.sleep(1.0)
    for n in range(args.alerts):
        event = Event("alert.changed", "alerts", alert_payload(n))
        r.xadd(bus.EVENTS_STREAM, event.fields(), maxlen=100_000, approximate=True)  # type: ignore[arg-type]
        time.sleep(args.alert_gap_s)
    by_alert: dict[int, list[float]] = defaultdict(list)
    for proc in procs:
        out, _ = proc.communicate(timeout=timeout + 30)
        for n, values in json.loads(out.strip().splitlines()[-1]).items():
            by_alert[int(n)].extend(values)
    complete = [v for v in by_alert.values() if len(v) == per * args.client_procs]
    reach_all = [max(v) for v in complete]
    every = [x for v in by_alert.values() for x in v]
    return {
        "clients": per * args.client_procs,
        "alerts complete": len(complete),
        "all p50": pct(reach_all, 50) if reach_all else float("nan"),
        "all p99": pct(reach_all, 99) if reach_all else float("nan"),
        "one p50": pct(every, 50),
        "one p99": pct(every, 99),
    }


async def end_to_end(
    http_base: str, ws_url: str, token: str, screen: str, probes: int, topics: list[str]
) -> list[tuple[float, float]]:
    """Per probe: (POST -> alert frame, POST -> alert appended to hv:events), in seconds."""
    arrived: dict[str, tuple[float, float]] = {}
    async with websockets.connect(f"{ws_url}?token={screen}", max_size=None) as ws:
        await ws.send(json.dumps({"type": "subscribe", "topics": topics}))

        async def listen() -> None:
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "event" and frame.get("event") == "alert.changed":
                    appended = int(frame["cursor"].split("-")[0]) / 1000
                    arrived.setdefault(frame["data"].get("source", ""), (time.time(), appended))
                elif frame["type"] == "ping":
                    await ws.send('{"type": "pong"}')

        listener = asyncio.create_task(listen())
        latencies: list[tuple[float, float]] = []
        missed = 0
        async with httpx.AsyncClient(
            base_url=http_base, headers={"authorization": f"Bearer {token}"}
        ) as http:
            for i in range(probes):
                source = f"air:station:PROBE-{i:03d}-{os.getpid()}"
                reading = {
                    "source": source,
                    "domain": "air",
                    "metric": "no2",
                    "value": 450.0,
                    "unit": "µg/m³",
                    "observed_at": datetime.now(UTC).isoformat(),
                    "zone": "probe",
                }
                sent = time.time()
                response = await http.post("/api/ingest/readings", json=[reading])
                response.raise_for_status()
                deadline = time.monotonic() + PROBE_TIMEOUT_S
                while source not in arrived and time.monotonic() < deadline:
                    await asyncio.sleep(0.001)
                if source in arrived:
                    at, appended = arrived[source]
                    latencies.append((at - sent, appended - sent))
                    missed = 0
                else:
                    missed += 1
                    if missed == 3:  # the pipeline is not keeping up: no point waiting for more
                        break
                await asyncio.sleep(0.2)
        listener.cancel()
    return latencies


def under_load(
    port: int, feed: str, screen: str, args: argparse.Namespace, env: dict[str, str], folder: Path
) -> tuple[list[tuple[float, float]], dict[str, float]]:
    """Probe while the load runs (it is stopped only after the last probe); the achieved rate and
    the worker's backlog are read from Redis over the probing window."""
    load = spawn(
        [
            *("--role", "load", "--http", f"http://127.0.0.1:{port}", "--token", feed),
            *("--rate", str(args.rate), "--seconds", "3600"),
        ],
        env,
        folder / "load.log",
    )
    r = redis.Redis.from_url(env["HV_REDIS_URL"])
    try:
        time.sleep(args.settle_s)  # the load reaches its pace; the worker takes the new series in
        start, added = time.monotonic(), entries_added(r, 2)
        waiting_before = acknowledged(r, 2)[1]
        e2e = asyncio.run(
            end_to_end(
                f"http://127.0.0.1:{port}",
                f"ws://127.0.0.1:{port}/ws",
                feed,
                screen,
                args.probes,
                args.e2e_topics.split(","),
            )
        )
        rate = (entries_added(r, 2) - added) / (time.monotonic() - start)
        waiting_after = acknowledged(r, 2)[1]
        if load.poll() is not None:
            raise SystemExit("the load generator stopped early; see load.log")
    finally:
        load.terminate()
        load.wait(15)
        r.close()
    return e2e, {"rate": rate, "waiting before": waiting_before, "waiting after": waiting_after}


def entries_added(r: redis.Redis, shards: int) -> int:
    """Readings ever appended to the shards (XINFO STREAM entries-added, Redis 7)."""
    total = 0
    for shard in range(shards):
        info: Any = r.xinfo_stream(bus.readings_stream(shard))
        total += int(info["entries-added"])
    return total


def issue(db_url: str) -> tuple[str, str]:
    engine = make_engine(db_url)
    create_schema(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        screen = auth.issue_token(
            session, kind=TokenKind.SCREEN, secret=SECRET, now=now, ttl=None, name="wall"
        )
        feed = auth.issue_token(
            session, kind=TokenKind.INGEST, secret=SECRET, now=now, ttl=None, name="bench"
        )
    engine.dispose()
    return screen, feed


def main(args: argparse.Namespace) -> None:
    raise_open_files()  # inherited by every child: 1,000 sockets need more than the usual 1,024 fds
    started = time.monotonic()
    from alerts.loader import DEFAULT_RULES

    with (
        tempfile.TemporaryDirectory(prefix="hv-wsbench-") as tmp,
        redis_server(Path(tmp) / "redis", aof=False) as rs,
    ):
        folder = Path(tmp)
        env = settings_env(rs.url, folder, 2, Path(DEFAULT_RULES), HV_WORKER_BLOCK_MS="50")
        screen, feed = issue(f"sqlite:///{folder / 'hv.db'}")
        port = free_port()
        profile = (
            ["-m", "pyinstrument", "-r", "text", "-o", args.profile_server] if args.profile_server else []
        )
        server = subprocess.Popen(
            [sys.executable, *profile, "-m", "hypervision", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(folder / "serve.log", "w"),  # noqa: SIM115  (closed with the process)
            cwd=ROOT,
        )
        workers = start_workers(args.workers, env, folder)
        r = redis.Redis.from_url(rs.url)
        try:
            for _ in range(200):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            hub = bare = None
            if not args.skip_fanout:
                hub = fan_out(f"ws://127.0.0.1:{port}/ws?token={screen}", args, r, env, folder)
                ceiling_port = free_port()
                ceiling = spawn(
                    ["--role", "ceiling", "--redis", rs.url, "--port", str(ceiling_port)],
                    env,
                    folder / "ceiling.log",
                )
                try:
                    wait_ready([ceiling], "the ceiling server", [folder / "ceiling.log"])
                    bare = fan_out(f"ws://127.0.0.1:{ceiling_port}/", args, r, env, folder)
                finally:
                    ceiling.terminate()
                    ceiling.wait(15)
            e2e, achieved = (
                ([], {"rate": 0.0}) if args.skip_e2e else under_load(port, feed, screen, args, env, folder)
            )
        except SystemExit:
            problems = [
                line
                for line in (folder / "serve.log").read_text().splitlines()
                if "connection open" not in line
                and "[accepted]" not in line
                and "connection closed" not in line
            ]
            print("serve.log, beyond connections:\n" + "\n".join(problems[-60:]), file=sys.stderr)
            raise
        finally:
            stop(workers)
            server.send_signal(signal.SIGINT)  # a graceful stop, so a profile gets written
            try:
                server.wait(120)
            except subprocess.TimeoutExpired:
                server.kill()
            r.close()
        print_table("Machine", [*machine(), ("Redis", rs.version)])
        if hub is not None and bare is not None:
            print_fan_out(hub, bare, args)
        if not args.skip_e2e:
            total = [t for t, _ in e2e] or [float("nan")]
            to_stream = [a for _, a in e2e] or [float("nan")]
            hub_part = [t - a for t, a in e2e] or [float("nan")]
            e2e_rows = [
                (
                    "background load while probing (readings/s)",
                    f"{achieved['rate']:,.0f} (asked {args.rate:,})",
                ),
                (
                    "worker backlog at first / last probe (readings)",
                    f"{achieved['waiting before']:,.0f} / {achieved['waiting after']:,.0f}",
                ),
                ("probes answered (within 5 s)", f"{len(e2e)} / {args.probes}"),
                (
                    "POST -> alert frame, p50 / p99",
                    f"{ms(pct(total, 50))} / {ms(pct(total, 99))}  (target ≤ 100 ms)",
                ),
                (
                    "  of which POST -> event appended (API, bus, worker, SQL)",
                    f"{ms(pct(to_stream, 50))} / {ms(pct(to_stream, 99))}",
                ),
                (
                    "  of which event appended -> frame on the screen (hub)",
                    f"{ms(pct(hub_part, 50))} / {ms(pct(hub_part, 99))}",
                ),
                ("POST -> alert frame, max", ms(max(total))),
                (
                    "probes over 100 ms (probe #: ms)",
                    ", ".join(f"#{i}: {t * 1000:.0f}" for i, t in enumerate(total) if t > 0.1) or "none",
                ),
            ]
            print_table(f"End to end under load (screen subscribed to {args.e2e_topics})", e2e_rows)
        print(f"\nwall time {time.monotonic() - started:.0f} s")


def print_fan_out(hub: dict[str, float], bare: dict[str, float], args: argparse.Namespace) -> None:
    rows = [
        ("clients connected (hub / bare)", f"{hub['clients']:.0f} / {bare['clients']:.0f}"),
        (
            "alerts received by every client",
            f"{hub['alerts complete']:.0f} / {bare['alerts complete']:.0f} of {args.alerts}",
        ),
        ("one alert to all clients, p50", f"{ms(hub['all p50'])} / {ms(bare['all p50'])}"),
        ("one alert to all clients, p99", f"{ms(hub['all p99'])} / {ms(bare['all p99'])}  (target ≤ 250 ms)"),
        ("per delivery, p50", f"{ms(hub['one p50'])} / {ms(bare['one p50'])}"),
        ("per delivery, p99", f"{ms(hub['one p99'])} / {ms(bare['one p99'])}"),
    ]
    print_table("Fan-out of one alert (hub / bare websockets broadcast, same clients, same frame)", rows)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=1000)
    p.add_argument("--client-procs", type=int, default=2)
    p.add_argument("--alerts", type=int, default=50)
    p.add_argument("--alert-gap-s", type=float, default=0.1)
    p.add_argument("--rate", type=int, default=10_000, help="background readings per second")
    p.add_argument("--settle-s", type=float, default=10.0, help="load time before the first probe")
    p.add_argument("--probes", type=int, default=50)
    p.add_argument("--workers", type=int, default=2, help="worker processes (one per shard)")
    p.add_argument("--e2e-topics", default="picture,alerts", help="what the probing screen subscribes to")
    p.add_argument(
        "--profile-server", metavar="FILE", help="run the app under pyinstrument, text report to FILE"
    )
    p.add_argument("--skip-e2e", action="store_true", help="only the fan-out part")
    p.add_argument("--skip-fanout", action="store_true", help="only the end-to-end part")
    # internal: the child processes
    p.add_argument("--role", choices=["clients", "ceiling", "load"], help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    p.add_argument("--count", type=int, help=argparse.SUPPRESS)
    p.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, help=argparse.SUPPRESS)
    p.add_argument("--redis", help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, help=argparse.SUPPRESS)
    p.add_argument("--http", help=argparse.SUPPRESS)
    p.add_argument("--token", help=argparse.SUPPRESS)
    p.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    return p.parse_args()


def child(args: argparse.Namespace) -> None:
    import uvloop  # the app's own loop under uvicorn, so both servers and the clients use it

    run = uvloop.run
    if args.role == "clients":
        run(clients_main(args.url, args.count, args.expect, args.timeout))
    elif args.role == "ceiling":
        run(ceiling_main(args.redis, args.port))
    else:
        run(load_main(args.http, args.token, args.rate, args.seconds))


if __name__ == "__main__":
    arguments = parse()
    if arguments.role:
        child(arguments)
    else:
        main(arguments)
