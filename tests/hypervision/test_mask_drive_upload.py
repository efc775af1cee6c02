"""POST /api/ingest/mask-drive.csv: the team's stock sheet, bad lines named by line and column."""

from __future__ import annotations

from hypervision import bus
from hypervision.models.user import Role
from tests.support import LiveServer, eventually

SHEET = (
    "site;observed_at;on_hand;distributed_per_hour;reserved;queue_wait_min;name\n"
    "gymnase-nord;2026-11-30T10:00:00+01:00;18000;450;2000;15;Gymnase Nord\n"
    "salle-sud;2026-11-30T09:55:00+01:00;beaucoup;300;400;35;Salle Sud\n"
    "mairie-est;2026-11-30T10:05:00+01:00;5200;120,5;0;5;Mairie Est\n"
)


async def test_team_upload_keeps_good_lines_and_names_bad_ones(live: LiveServer, make_token):
    team = make_token(Role.TEAM, teams=["mask_drive"])
    async with live.client(team) as http:
        resp = await http.post(
            "/api/ingest/mask-drive.csv", content=SHEET, headers={"content-type": "text/csv"}
        )
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["accepted"] > 0
    assert [e["field"] for e in body["rejected"]] == ["line 3.on_hand"]
    dead = await live.runtime.redis.xrange(bus.DEADLETTER_STREAM)
    assert len(dead) == 1 and b"line 3.on_hand" in dead[0][1][b"reason"]

    async def sites() -> set[str]:
        keys = await live.runtime.redis.hkeys(bus.PICTURE_KEY)
        return {k.decode().split("|")[0] for k in keys if k.startswith(b"mask_drive")}

    shown = await eventually(lambda: _two(sites()))
    assert any("gymnase-nord" in s for s in shown) and any("mairie-est" in s for s in shown)
    assert not any("salle-sud" in s for s in shown)


async def _two(coro):  # type: ignore[no-untyped-def]
    found = await coro
    return found if len(found) == 2 else None


async def test_other_teams_cannot_upload_and_a_broken_sheet_is_a_clear_400(live: LiveServer, make_token):
    async with live.client(make_token(Role.TEAM, teams=["helpline"])) as helpline:
        resp = await helpline.post("/api/ingest/mask-drive.csv", content=SHEET)
        assert resp.status_code == 403
    async with live.client(make_token(Role.MANAGER)) as manager:
        resp = await manager.post("/api/ingest/mask-drive.csv", content="nom;stock\nx;1\n")
        assert resp.status_code == 400 and "missing column" in resp.json()["detail"]
