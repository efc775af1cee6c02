"""The crisis logbook: hash chain, tamper detection (API and CLI), concurrent appends, exports."""

from __future__ import annotations

import csv
import io
import itertools
import threading
from datetime import timedelta

import websockets
from click.testing import CliRunner
from sqlalchemy import text
from sqlmodel import Session

from alerts.lifecycle import AlertEvent
from hypervision import bus, logbook
from hypervision.cli import main
from hypervision.db import session_scope
from hypervision.models.user import Role
from tests.hypervision.people_support import T0, change, fire, frame_where, sql_engine, subscribe
from tests.support import LiveServer


def _append(engine, n: int, actor: str = "user:alice") -> None:
    for i in range(n):
        with session_scope(engine) as session:
            logbook.append(
                session,
                kind="note",
                actor=actor,
                summary=f"note {i}",
                at=T0 + timedelta(minutes=i),
                text=f"t{i}",
            )


def test_entries_are_chained_in_order_and_verify(db_url):
    engine = sql_engine(db_url)
    _append(engine, 5)
    with Session(engine) as session:
        rows = logbook.entries(session)
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
        assert rows[0].prev_hash == logbook.GENESIS
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        verdict = logbook.verify(session)
    assert verdict.ok and verdict.checked == 5


def test_altered_summary_text_or_deleted_tail_is_named(db_url):
    engine = sql_engine(db_url)
    _append(engine, 4)
    with engine.begin() as conn:
        conn.execute(text("UPDATE logbook_entry SET summary = 'nothing happened' WHERE seq = 2"))
    with Session(engine) as session:
        verdict = logbook.verify(session)
    assert not verdict.ok and verdict.broken_seq == 2
    assert "seq 2" in verdict.describe()

    engine2 = sql_engine(db_url.replace("hv.db", "hv2.db")) if db_url.startswith("sqlite") else None
    if engine2 is not None:
        _append(engine2, 4)
        with engine2.begin() as conn:
            conn.execute(text("UPDATE logbook_entry SET text = 'forged' WHERE seq = 3"))
        with Session(engine2) as session:
            assert logbook.verify(session).broken_seq == 3
        with engine2.begin() as conn:
            conn.execute(text("UPDATE logbook_entry SET text = 't2' WHERE seq = 3"))
            conn.execute(text("DELETE FROM logbook_entry WHERE seq = 4"))
        with Session(engine2) as session:
            verdict = logbook.verify(session)
        assert verdict.broken_seq == 4 and "remain" in verdict.reason


def test_cli_verify_exits_non_zero_naming_the_first_broken_entry(db_url, tmp_path):
    engine = sql_engine(db_url)
    _append(engine, 3)
    env = {"HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path / "var")}
    ok = CliRunner().invoke(main, ["logbook", "verify"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "3 entries verified" in ok.output
    with engine.begin() as conn:
        conn.execute(text("UPDATE logbook_entry SET actor = 'user:mallory' WHERE seq = 2"))
    broken = CliRunner().invoke(main, ["logbook", "verify"], env=env)
    assert broken.exit_code == 1
    assert "broken at entry seq 2" in broken.output


def test_concurrent_writers_never_fork_the_chain(db_url):
    engine = sql_engine(db_url)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            _append(engine, 8, actor=f"user:{name}")
        except BaseException as err:  # surfaced by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with Session(engine) as session:
        assert [e.seq for e in logbook.entries(session)] == list(range(1, 33))
        assert logbook.verify(session).ok


def test_alert_moves_are_logged_but_not_value_updates(db_url):
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        fired = fire(session)
        update = alert_store_update(session)
        pub = logbook.entries_from_moves(session, [fired, *update], T0)
    assert [e.type for e in pub.events] == ["logbook.entry"]
    assert pub.events[0].data["summary"].startswith(f"Alert #{fired.alert['id']} raised")
    assert pub.events[0].data["kind"] == "alert" and pub.events[0].data["actor"] == "rule:call_line.test"


def alert_store_update(session):
    from hypervision import alert_store

    return alert_store.apply_engine_changes(session, [("2-0", change(event=AlertEvent.UPDATE))])


async def test_manager_note_reaches_the_logbook_topic_and_exports(live: LiveServer, make_token):
    manager, operator = make_token(Role.MANAGER), make_token(Role.OPERATOR)
    async with websockets.connect(f"{live.ws_url}?token={operator}") as ws:
        snapshot = await subscribe(ws, ["logbook"])
        assert snapshot["type"] == "snapshot" and snapshot["state"]["logbook"] == []
        async with live.client(manager) as http:
            note = "Décision : ouverture du second site du drive, =SUM(A1)"
            resp = await http.post("/api/logbook", json={"text": note})
            assert resp.status_code == 201, resp.text
        frame = await frame_where(ws, lambda f: f.get("event") == "logbook.entry")
        assert frame["topic"] == "logbook" and frame["data"]["text"] == note
    tail = await live.runtime.redis.lrange(bus.LOGBOOK_TAIL_KEY, 0, -1)
    assert [bus.loads(t)["text"] for t in tail] == [note]

    async with live.client(operator) as http:
        assert (await http.post("/api/logbook", json={"text": "x"})).status_code == 403
        listed = (await http.get("/api/logbook")).json()
        assert [e["kind"] for e in listed] == ["note"]
        rows = list(csv.reader(io.StringIO((await http.get("/api/logbook", params={"format": "csv"})).text)))
        assert rows[0][:3] == ["seq", "at", "kind"] and rows[1][2] == "note"
        assert rows[1][6].startswith("Décision")
        html = await http.get("/api/logbook", params={"format": "html"})
        assert html.headers["content-type"].startswith("text/html")
        assert "second site du drive" in html.text and "1 entries verified" in html.text
        later = (T0 + timedelta(days=3650)).isoformat()
        assert (await http.get("/api/logbook", params={"from": later})).json() == []
    async with live.client(manager) as http:
        assert (await http.get("/api/logbook/verify")).json()["ok"] is True


def test_a_rule_change_is_an_entry_of_its_own(db_url):
    engine = sql_engine(db_url)
    with session_scope(engine) as session:
        pub = logbook.rule_change(
            session, actor="user:root", before="a" * 64, after="b" * 64, rules=12, at=T0
        )
    (event,) = pub.events
    assert event.data["kind"] == "rule" and event.data["data"]["rules"] == 12
    assert (
        event.data["summary"] == f"Rules changed by user:root: 12 rules, digest {'b' * 12} (was {'a' * 12})"
    )
    with Session(engine) as session:
        assert logbook.verify(session).checked == 1
