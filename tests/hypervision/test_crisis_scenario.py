"""Acceptance: from a rule firing to the field team, the manager and a verified logbook.

A rule fires -> its task reaches the helpline's WebSocket -> a member accepts and completes it -> a
manager acknowledges and resolves the alert -> the logbook holds each step in order and verifies.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import websockets
from click.testing import CliRunner

from hypervision.cli import main
from hypervision.config import Settings
from hypervision.models.user import Role
from tests.hypervision.people_support import event_of, frame_where, subscribe
from tests.support import LiveServer, reading

RULES = """
rules:
  - id: helpline.queue
    title: "{value:.0f} appels en attente ({source})"
    select: {domain: call_line, metric: callersWaiting}
    when: {op: ">", value: 10}
    severity: critical
    labels: {team: helpline}
    actions:
      tasks:
        - team: helpline
          title: "Ouvrir des postes ({value:.0f} appels en attente)"
          details: "File {source}"
          due_in: 30m
"""
SOURCE = "ami:queue:accueil"


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    rules = tmp_path / "crisis.yaml"
    rules.write_text(RULES, encoding="utf-8")
    return settings.model_copy(update={"rules_files": [rules]})


async def test_rule_to_field_team_to_manager_to_logbook(live: LiveServer, make_token, db_url, tmp_path):
    member = make_token(Role.TEAM, teams=["helpline"])
    manager = make_token(Role.MANAGER)
    feed = make_token(Role.INGEST, source=SOURCE)

    async with websockets.connect(f"{live.ws_url}?token={member}") as ws:
        snapshot = await subscribe(ws, ["tasks:helpline"])
        assert snapshot["type"] == "snapshot" and snapshot["state"]["tasks"] == []

        # 1. The rule fires on a reading from the call centre.
        waiting = reading(source=SOURCE, domain="call_line", metric="callersWaiting", value=14, unit="calls")
        async with live.client(feed) as http:
            assert (await http.post("/api/ingest/readings", json=[waiting])).status_code == 202

        # 2. Its task reaches the helpline team's channel, pushed.
        frame = await frame_where(ws, event_of("task.changed", team="helpline"), timeout=15)
        task = frame["data"]
        assert frame["topic"] == "tasks:helpline" and task["state"] == "open"
        assert task["title"] == "Ouvrir des postes (14 appels en attente)"
        assert task["priority"] == "critical" and task["due_at"] is not None and task["alert_id"]
        alert_id = task["alert_id"]

        # 3. A member of the team accepts, starts and completes it over REST.
        async with live.client(member) as http:
            for event, state in (("accept", "accepted"), ("start", "in_progress"), ("complete", "done")):
                resp = await http.post(f"/api/tasks/{task['id']}/transition", json={"event": event})
                assert resp.status_code == 200, resp.text
                assert resp.json()["state"] == state
                pushed = await frame_where(ws, event_of("task.changed", id=task["id"], state=state))
                assert pushed["data"]["change"]["event"] == event

    # 4. A manager acknowledges, then resolves the alert, each with a comment.
    async with live.client(manager) as http:
        alert = (await http.get(f"/api/alerts/{alert_id}")).json()
        assert alert["state"] == "firing" and alert["rule_id"] == "helpline.queue"
        ack = await http.post(f"/api/alerts/{alert_id}/ack", json={"comment": "Deux agents rappelés"})
        assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
        done = await http.post(f"/api/alerts/{alert_id}/resolve", json={"comment": "File résorbée"})
        assert done.status_code == 200 and done.json()["state"] == "resolved"

        # 5. The logbook holds each step, in order, and its chain verifies.
        entries = (await http.get("/api/logbook")).json()
        steps = [(e["kind"], e["data"].get("event"), e["ref"]) for e in entries]
        alert_ref, task_ref = f"alert:{alert_id}", f"task:{task['id']}"
        assert steps == [
            ("alert", "fire", alert_ref),
            ("task", "create", task_ref),
            ("task", "accept", task_ref),
            ("task", "start", task_ref),
            ("task", "complete", task_ref),
            ("ack", "ack", alert_ref),
            ("ack", "resolve", alert_ref),
        ]
        assert [e["seq"] for e in entries] == list(range(1, 8))
        assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
        assert entries[2]["actor"].startswith("user:team-") and entries[5]["actor"].startswith(
            "user:manager-"
        )
        assert entries[5]["text"] == "Deux agents rappelés"
        verdict = (await http.get("/api/logbook/verify")).json()
        assert verdict == {**verdict, "ok": True, "checked": 7}
        report = await http.get("/api/logbook", params={"format": "html"})
        assert "Ouvrir des postes" in report.text and "7 entries verified" in report.text

    env = {"HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path / "cli")}
    result = CliRunner().invoke(main, ["logbook", "verify"], env=env)
    assert result.exit_code == 0 and "7 entries verified" in result.output
