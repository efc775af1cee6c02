"""/ws authentication and topic authorisation: each refusal closes with its documented code and reason."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
import websockets
from sqlmodel import select

from hypervision import auth
from hypervision.db import session_scope
from hypervision.domain import DOMAINS
from hypervision.events import Event, Publication, publish
from hypervision.models.user import AuthToken, Role, TokenKind, User
from hypervision.picture import STALE_AFTER
from hypervision.runtime import Runtime
from tests.hypervision.wskit import connect, events, hub_server, recv, subscribe


async def _close_of(url: str, *, first: str | None = None) -> tuple[int, str]:
    async with websockets.connect(url) as ws:
        if first is not None:
            await ws.send(first)
        try:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None
            return closed.rcvd.code, closed.rcvd.reason
    raise AssertionError("not closed")


def _expired_token(runtime: Runtime) -> str:
    with session_scope(runtime.db) as session:
        user = auth.create_user(
            session, "old-operator", "a-long-password-1", Role.OPERATOR, now=datetime.now(UTC)
        )
        return auth.issue_token(
            session,
            kind=TokenKind.SESSION,
            secret=runtime.secret,
            now=datetime.now(UTC) - timedelta(hours=2),
            ttl=timedelta(hours=1),
            user=user,
        )


async def test_a_token_is_accepted_in_the_query_or_in_a_first_auth_frame(runtime: Runtime, make_token):
    token = make_token(Role.OPERATOR)
    async with hub_server(runtime) as url:
        async with websockets.connect(f"{url}?token={token}") as ws:
            hello = await recv(ws)
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            hello_by_frame = await recv(ws)
    assert hello["type"] == hello_by_frame["type"] == "hello"
    assert hello["role"] == "operator" and hello["protocol"] == 1
    assert hello["tick_ms"] == 250 and hello["heartbeat_s"] == 5
    # the screens judge staleness with the server's allowances, not a copy of them
    assert hello["stale_after_s"] == {d: STALE_AFTER[d].total_seconds() for d in DOMAINS}


@pytest.mark.parametrize(
    ("case", "code", "reason"),
    [
        ("wrong", 4401, "invalid token: unknown token"),
        ("expired", 4401, "invalid token: token expired"),
        ("not-auth-first", 4401, "authentication required"),
        ("ingest", 4403, "an ingest key cannot open the screen feed"),
        ("silent", 4408, "no auth frame within 0.3 s"),
    ],
)
async def test_refusals_close_with_the_documented_code(runtime: Runtime, make_token, case, code, reason):
    async with hub_server(runtime, hub_auth_timeout_s=0.3) as url:
        if case == "wrong":
            got = await _close_of(f"{url}?token=not-a-token")
        elif case == "expired":
            got = await _close_of(f"{url}?token={_expired_token(runtime)}")
        elif case == "not-auth-first":
            got = await _close_of(url, first=json.dumps({"type": "subscribe", "topics": ["alerts"]}))
        elif case == "ingest":
            got = await _close_of(url, first=json.dumps({"type": "auth", "token": make_token(Role.INGEST)}))
        else:
            got = await _close_of(url)
    assert got[0] == code
    assert got[1].startswith(reason)


async def test_a_revoked_token_is_closed_within_the_recheck_interval(runtime: Runtime, make_token):
    token = make_token(Role.SCREEN)
    async with hub_server(runtime, hub_token_recheck_s=0.2) as url:
        ws = await connect(url, token)
        await subscribe(ws, ["alerts"])
        await asyncio.sleep(0.5)
        assert ws.state is websockets.State.OPEN  # still valid: still connected
        with session_scope(runtime.db) as session:
            row = session.exec(select(AuthToken).where(AuthToken.kind == TokenKind.SCREEN)).one()
            auth.revoke_token(session, row.id or 0, now=datetime.now(UTC))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(3):
                while True:
                    await ws.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "token revoked")


async def test_a_team_member_follows_only_their_own_teams_tasks(runtime: Runtime, make_token):
    token = make_token(Role.TEAM, teams=["helpline"])
    async with hub_server(runtime) as url:
        ws = await connect(url, token)
        for topics in (["tasks"], ["tasks:roads"], ["logbook"], ["alerts", "tasks:roads"]):
            refused = await subscribe(ws, topics)
            assert (refused["type"], refused["code"]) == ("error", "forbidden_topic"), topics
        unknown = await subscribe(ws, ["weather"])
        assert unknown["code"] == "unknown_topic"
        snapshot = await subscribe(ws, ["tasks:helpline", "alerts"])
        assert snapshot["type"] == "snapshot" and snapshot["state"]["tasks"] == []
        publication = Publication(
            events=[
                Event("task.changed", "tasks:roads", {"id": 1, "team": "roads"}),
                Event("task.changed", "tasks:helpline", {"id": 2, "team": "helpline"}),
            ]
        )
        await publish(runtime.redis, publication, events_maxlen=1000)
        (only,) = await events(ws, 1)
        assert (only["topic"], only["data"]["id"]) == ("tasks:helpline", 2)
        await ws.close()
    with session_scope(runtime.db) as session:
        assert session.exec(select(User).where(User.role == Role.TEAM)).one().teams == ["helpline"]


@pytest.mark.parametrize("offer", [True, False], ids=["offered", "not-offered"])
async def test_compression_is_negotiated_when_the_client_offers_it(runtime: Runtime, make_token, offer):
    token = make_token(Role.SCREEN)
    async with hub_server(runtime) as url:
        ws = await connect(url, token, compression="deflate" if offer else None)
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions") if ws.response else None
        if offer:
            assert extensions is not None and "permessage-deflate" in extensions
        else:
            assert extensions is None
        snapshot = await subscribe(ws, ["alerts"])  # and frames still flow either way
        assert snapshot["type"] == "snapshot"
        await ws.close()
