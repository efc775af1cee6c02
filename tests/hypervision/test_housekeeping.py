"""The worker's timed duties: an unacknowledged alert escalates, an acknowledged one does not."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import Session, select

from hypervision.config import Settings
from hypervision.models.alert import Alert, AlertHistory
from hypervision.models.user import Role
from tests.support import eventually, reading, start_server, stop_server

RULES = """
rules:
  - id: helpline-down
    title: "No agent on {source}"
    select: {domain: call_line, metric: agentsLoggedIn}
    when: {op: "<", value: 1}
    severity: warning
    actions:
      escalate: {after: 1s, repeat: 2, notify: [astreinte], to: emergency}
"""


@pytest.fixture
def settings(settings: Settings, tmp_path: Path) -> Settings:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    return settings.model_copy(
        update={
            "rules_files": [rules],
            "housekeeping_interval_s": 0.5,
            "secret_key": SecretStr("housekeeping"),
        }
    )


async def test_unacknowledged_alert_escalates_to_its_ceiling_then_stops(runtime, make_token):
    server, task, host = await start_server(runtime)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://{host}",
            timeout=10,
            headers={"authorization": f"Bearer {make_token(Role.ADMIN)}"},
        ) as http:
            body = [
                reading(
                    source="call_line:queue:allo",
                    domain="call_line",
                    metric="agentsLoggedIn",
                    value=0.0,
                    unit="",
                )
            ]
            assert (await http.post("/api/ingest/readings", json=body)).status_code == 202

        def severity() -> str | None:
            with Session(runtime.db) as session:
                alert = session.exec(select(Alert)).first()
                return alert.severity if alert and alert.escalation_level >= 2 else None

        assert await eventually(severity, timeout=20) == "emergency"
    finally:
        await stop_server(server, task)
    with Session(runtime.db) as session:
        alert = session.exec(select(Alert)).one()
        events = [
            h.event for h in session.exec(select(AlertHistory).where(AlertHistory.alert_id == alert.id))
        ]
    assert events[0] == "fire" and events.count("escalate") == 2
    assert alert.escalation_level == 2
