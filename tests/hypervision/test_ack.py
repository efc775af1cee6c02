"""Acknowledge, resolve and silence: managers only, audited (who, when, before/after, why), pushed."""

from __future__ import annotations

import websockets
from sqlmodel import Session, select

from hypervision import bus, logbook
from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.logbook import LogbookEntry
from hypervision.models.user import Role
from tests.hypervision.people_support import event_of, frame_where, stored_alert, subscribe
from tests.support import LiveServer


async def test_operator_cannot_ack_and_a_manager_ack_is_audited_and_pushed(live: LiveServer, make_token):
    alert_id = stored_alert(live.runtime.db)
    operator, manager, screen = make_token(Role.OPERATOR), make_token(Role.MANAGER), make_token(Role.SCREEN)
    async with live.client(operator) as http:
        assert (await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": "vu"})).status_code == 403
        assert (await http.post(f"/api/alerts/{alert_id}/resolve", json={"comment": "x"})).status_code == 403
    async with live.client() as http:
        assert (await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": "vu"})).status_code == 401

    async with websockets.connect(f"{live.ws_url}?token={screen}") as ws:
        await subscribe(ws, ["alerts", "logbook"])
        async with live.client(manager) as http:
            assert (await http.post(f"/api/alerts/{alert_id}/ack", json={})).status_code == 422
            assert (await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": ""})).status_code == 422
            resp = await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": "Équipe prévenue"})
            assert resp.status_code == 200, resp.text
            assert resp.json()["state"] == "acknowledged"
            assert (
                await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": "again"})
            ).status_code == 409
            assert (await http.post("/api/alerts/999999/ack", json={"comment": "x"})).status_code == 404
        pushed = await frame_where(ws, event_of("alert.changed", id=alert_id))
        transition = pushed["data"]["transition"]
        assert (
            transition["event"] == "ack"
            and transition["from"] == "firing"
            and transition["to"] == "acknowledged"
        )
        assert transition["by"].startswith("user:manager-") and transition["comment"] == "Équipe prévenue"
        entry = await frame_where(ws, lambda f: f.get("event") == "logbook.entry")
        assert entry["data"]["kind"] == "ack" and entry["data"]["text"] == "Équipe prévenue"
        mirrored = bus.loads(await live.runtime.redis.hget(bus.OPEN_ALERTS_KEY, str(alert_id)))
        assert mirrored["state"] == "acknowledged"

        async with live.client(manager) as http:
            resp = await http.post(f"/api/alerts/{alert_id}/resolve", json={"comment": "Postes ouverts"})
            assert resp.status_code == 200 and resp.json()["state"] == "resolved"
        await frame_where(ws, event_of("alert.changed", state="resolved"))
    assert not await live.runtime.redis.hexists(bus.OPEN_ALERTS_KEY, str(alert_id))

    with Session(live.runtime.db) as session:
        rows = session.exec(select(AlertHistory).where(AlertHistory.alert_id == alert_id)).all()
        assert [(r.event, r.from_state, r.to_state) for r in rows] == [
            ("fire", None, "firing"),
            ("ack", "firing", "acknowledged"),
            ("resolve", "acknowledged", "resolved"),
        ]
        assert rows[1].actor == rows[2].actor and rows[1].actor.startswith("user:manager-")
        assert [r.comment for r in rows[1:]] == ["Équipe prévenue", "Postes ouverts"]
        alert = session.get(Alert, alert_id)
        assert (
            alert is not None
            and alert.acknowledged_by == rows[1].actor
            and alert.resolved_by == rows[1].actor
        )
        kinds = [e.data["event"] for e in session.exec(select(LogbookEntry).order_by(LogbookEntry.seq)).all()]
        assert kinds == ["ack", "resolve"]
        assert logbook.verify(session).ok


async def test_silence_is_listed_logged_and_lifted_by_managers_only(live: LiveServer, make_token):
    alert_id = stored_alert(live.runtime.db)
    manager, operator = make_token(Role.MANAGER), make_token(Role.OPERATOR)
    body = {"duration": "2h", "reason": "Travaux sur l'autocommutateur"}
    async with live.client(operator) as http:
        assert (await http.post(f"/api/alerts/{alert_id}/silence", json=body)).status_code == 403
    async with live.client(manager) as http:
        assert (
            await http.post(f"/api/alerts/{alert_id}/silence", json={**body, "duration": "9d"})
        ).status_code == 422
        assert (
            await http.post(f"/api/alerts/{alert_id}/silence", json={**body, "reason": ""})
        ).status_code == 422
        resp = await http.post(f"/api/alerts/{alert_id}/silence", json=body)
        assert resp.status_code == 201, resp.text
        silence = resp.json()
        assert {"label": "rule", "value": "call_line.test", "op": "="} in silence["matchers"]
        assert silence["alert_id"] == alert_id and silence["created_by"].startswith("user:manager-")
    async with live.client(operator) as http:
        assert [s["id"] for s in (await http.get("/api/silences")).json()] == [silence["id"]]
        assert (await http.delete(f"/api/silences/{silence['id']}")).status_code == 403
    async with live.client(manager) as http:
        lifted = await http.delete(f"/api/silences/{silence['id']}")
        assert lifted.status_code == 200 and lifted.json()["expired_by"].startswith("user:manager-")
        assert (await http.get("/api/silences")).json() == []
        assert len((await http.get("/api/silences", params={"all": "true"})).json()) == 1
    with Session(live.runtime.db) as session:
        entries = session.exec(select(LogbookEntry).order_by(LogbookEntry.seq)).all()
        assert [e.kind for e in entries] == ["silence", "silence"]
        assert entries[0].text == body["reason"] and "lifted" in entries[1].summary
    events = await live.runtime.redis.xrange(bus.EVENTS_STREAM)
    silenced = [bus.loads(f[b"data"]) for _, f in events if f[b"type"] == b"alert.changed"]
    assert silenced[0]["transition"]["event"] == "silence" and silenced[0]["silenced_until"]
