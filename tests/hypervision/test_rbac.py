"""The RBAC matrix, route by route and role by role: allowed -> 2xx, forbidden -> 403, no token -> 401.

The matrix is written once, here, as data. Every route of the app must have an entry (a new route
without one fails ``test_every_route_is_in_the_matrix``), and docs/security.md must show the same table.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets
from fastapi.routing import iter_route_contexts
from sqlmodel import Session, select

from alerts.schema import Matcher
from hypervision import auth, silence_store, task_store
from hypervision.api.app import create_app
from hypervision.db import session_scope
from hypervision.models.task import TaskCreate
from hypervision.models.user import AuthToken, Role, TokenKind, User
from tests.hypervision.people_support import stored_alert
from tests.support import LiveServer, reading

ROOT = Path(__file__).resolve().parents[2]
SOURCE = "air:station:FR-TEST-01"

ADMIN, MANAGER, OPERATOR, TEAM, SCREEN, INGEST = (
    Role.ADMIN, Role.MANAGER, Role.OPERATOR, Role.TEAM, Role.SCREEN, Role.INGEST,
)  # fmt: skip
ROLES = (ADMIN, MANAGER, OPERATOR, TEAM, SCREEN, INGEST)
ANY = frozenset(ROLES)
VIEW = frozenset({ADMIN, MANAGER, OPERATOR, TEAM, SCREEN})
ROOM = frozenset({ADMIN, MANAGER, OPERATOR})
MANAGE = frozenset({ADMIN, MANAGER})
ADMINS = frozenset({ADMIN})
FEED = frozenset({ADMIN, INGEST})
WORK = frozenset({ADMIN, MANAGER, TEAM})
PUBLIC: frozenset[Role] = frozenset()  # no token needed at all

# Public by design, outside the matrix: probes, metrics (own optional token), docs, static UI, and the
# public publishing routes (CAP, open data).
EXCLUDED = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/team",
}
EXCLUDED_PREFIXES = ("/api/cap/", "/api/opendata")


@dataclass
class Call:
    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Fresh:
    """Makes a new resource for each call, so one role's allowed call never spoils the next one's."""

    def __init__(self, live: LiveServer) -> None:
        self.db = live.runtime.db
        self.secret = live.runtime.secret
        self.now = datetime.now(UTC)

    def alert(self) -> int:
        return stored_alert(self.db, fingerprint=secrets.token_hex(8), at=self.now)

    def task(self) -> int:
        with session_scope(self.db) as session:
            task, _ = task_store.create(
                session, TaskCreate(team="helpline", title="t"), actor="user:m", now=self.now
            )
            return int(task.id)

    def silence(self) -> int:
        with session_scope(self.db) as session:
            row, _ = silence_store.create(
                session, matchers=[Matcher(label="rule", value="x")], duration=timedelta(hours=1),
                reason="r", actor="user:m", now=self.now,
            )  # fmt: skip
            return int(row.id)

    def _user(self, session: Session, role: Role = Role.OPERATOR) -> User:
        # A row with an unusable hash: these tests need accounts, not passwords (Argon2 is slow on purpose).
        teams = ["helpline"] if role == Role.TEAM else []
        name = f"u-{secrets.token_hex(4)}"
        user = User(username=name, password_hash="!", role=role, teams=teams, created_at=self.now)
        session.add(user)
        session.flush()
        return user

    def user(self) -> int:
        with session_scope(self.db) as session:
            return int(self._user(session).id or 0)

    def token(self, role: Role) -> str:
        """A bearer token for a new account of ``role`` (a screen token or an ingest key for those)."""
        with session_scope(self.db) as session:
            if role in (Role.SCREEN, Role.INGEST):
                kind = TokenKind.SCREEN if role == Role.SCREEN else TokenKind.INGEST
                source = SOURCE if role == Role.INGEST else None
                return auth.issue_token(
                    session, kind=kind, secret=self.secret, now=self.now, ttl=None, name="n", source=source
                )
            user = self._user(session, role)
            ttl = timedelta(hours=1)
            return auth.issue_token(
                session, kind=TokenKind.SESSION, secret=self.secret, now=self.now, ttl=ttl, user=user
            )

    def service_token(self, kind: TokenKind) -> int:
        with session_scope(self.db) as session:
            token = auth.issue_token(session, kind=kind, secret=self.secret, now=self.now, ttl=None, name="n")
            digest = auth.token_digest(token, self.secret)
            return int(session.exec(select(AuthToken.id).where(AuthToken.token_hash == digest)).one())


Build = Callable[[Fresh], Call]
FIXTURE_TTN = ROOT / "tests/fixtures/lorawan/ttn_v3_uplink_message.json"
FIXTURE_STOCK = ROOT / "tests/fixtures/stock/mask_stock_upload.csv"
CSV = {"content-type": "text/csv"}
# Roles allowed only for some of their members (the team member of this test is in `helpline`).
NOTES = {("POST", "/api/ingest/mask-drive.csv"): "team ✓ for `mask_drive` members"}
RULES_TEXT = """rules:
  - id: t.x
    title: x
    select: {domain: air, metric: pm10}
    when: {op: ">", value: 1}
"""


def fixed(path: str, **kw: Any) -> Build:
    return lambda _: Call(path, **kw)


# (method, path) -> (roles allowed, how to build a valid request). The single source of truth.
MATRIX: dict[tuple[str, str], tuple[frozenset[Role], Build]] = {
    ("POST", "/api/auth/token"): (PUBLIC, fixed("/api/auth/token")),
    ("POST", "/api/auth/logout"): (ANY, fixed("/api/auth/logout")),
    ("GET", "/api/auth/me"): (ANY, fixed("/api/auth/me")),
    ("POST", "/api/ingest/readings"): (FEED, fixed("/api/ingest/readings", json=[reading(source=SOURCE)])),
    ("POST", "/api/ingest/chirpstack"): (
        FEED,
        fixed("/api/ingest/chirpstack", params={"event": "join"}, json={}),
    ),
    ("POST", "/api/ingest/ttn"): (FEED, lambda _: Call("/api/ingest/ttn", content=FIXTURE_TTN.read_bytes())),
    ("POST", "/api/ingest/mask-drive.csv"): (
        FEED | {MANAGER},
        lambda _: Call("/api/ingest/mask-drive.csv", content=FIXTURE_STOCK.read_bytes(), headers=CSV),
    ),
    ("GET", "/api/picture"): (VIEW, fixed("/api/picture")),
    ("GET", "/api/sources"): (VIEW, fixed("/api/sources")),
    ("GET", "/api/history"): (VIEW, fixed("/api/history", params={"series": f"{SOURCE}|pm10"})),
    ("GET", "/api/alerts"): (VIEW, fixed("/api/alerts")),
    ("GET", "/api/alerts/{alert_id}"): (VIEW, lambda f: Call(f"/api/alerts/{f.alert()}")),
    ("GET", "/api/alerts/{alert_id}/history"): (VIEW, lambda f: Call(f"/api/alerts/{f.alert()}/history")),
    ("POST", "/api/alerts/{alert_id}/ack"): (
        MANAGE,
        lambda f: Call(f"/api/alerts/{f.alert()}/ack", json={"comment": "vu"}),
    ),
    ("POST", "/api/alerts/{alert_id}/resolve"): (
        MANAGE,
        lambda f: Call(f"/api/alerts/{f.alert()}/resolve", json={"comment": "fini"}),
    ),
    ("POST", "/api/alerts/{alert_id}/silence"): (
        MANAGE,
        lambda f: Call(f"/api/alerts/{f.alert()}/silence", json={"duration": "1h", "reason": "travaux"}),
    ),
    ("GET", "/api/silences"): (VIEW, fixed("/api/silences")),
    ("DELETE", "/api/silences/{silence_id}"): (MANAGE, lambda f: Call(f"/api/silences/{f.silence()}")),
    ("GET", "/api/tasks"): (VIEW, fixed("/api/tasks")),
    ("POST", "/api/tasks"): (MANAGE, fixed("/api/tasks", json={"team": "helpline", "title": "Rappeler"})),
    ("GET", "/api/tasks/{task_id}"): (VIEW, lambda f: Call(f"/api/tasks/{f.task()}")),
    ("POST", "/api/tasks/{task_id}/transition"): (
        WORK,
        lambda f: Call(f"/api/tasks/{f.task()}/transition", json={"event": "accept"}),
    ),
    ("POST", "/api/tasks/{task_id}/comments"): (
        WORK,
        lambda f: Call(f"/api/tasks/{f.task()}/comments", json={"text": "en route"}),
    ),
    ("GET", "/api/logbook"): (ROOM, fixed("/api/logbook")),
    ("POST", "/api/logbook"): (MANAGE, fixed("/api/logbook", json={"text": "décision"})),
    ("GET", "/api/logbook/verify"): (MANAGE, fixed("/api/logbook/verify")),
    ("GET", "/api/users"): (ADMINS, fixed("/api/users")),
    ("POST", "/api/users"): (
        ADMINS,
        lambda _: Call("/api/users", json={"username": f"n-{secrets.token_hex(4)}", "role": "operator"}),
    ),
    ("GET", "/api/users/{user_id}"): (ADMINS, lambda f: Call(f"/api/users/{f.user()}")),
    ("PATCH", "/api/users/{user_id}"): (
        ADMINS,
        lambda f: Call(f"/api/users/{f.user()}", json={"role": "manager"}),
    ),
    ("DELETE", "/api/users/{user_id}"): (ADMINS, lambda f: Call(f"/api/users/{f.user()}")),
    ("GET", "/api/screens"): (ADMINS, fixed("/api/screens")),
    ("POST", "/api/screens"): (ADMINS, fixed("/api/screens", json={"name": "mur"})),
    ("DELETE", "/api/screens/{token_id}"): (
        ADMINS,
        lambda f: Call(f"/api/screens/{f.service_token(TokenKind.SCREEN)}"),
    ),
    ("GET", "/api/ingest-keys"): (ADMINS, fixed("/api/ingest-keys")),
    ("POST", "/api/ingest-keys"): (
        ADMINS,
        fixed("/api/ingest-keys", json={"name": "feed", "source": SOURCE}),
    ),
    ("DELETE", "/api/ingest-keys/{token_id}"): (
        ADMINS,
        lambda f: Call(f"/api/ingest-keys/{f.service_token(TokenKind.INGEST)}"),
    ),
    ("GET", "/api/rules"): (ROOM, fixed("/api/rules")),
    ("GET", "/api/rules/schema"): (ROOM, fixed("/api/rules/schema")),
    ("POST", "/api/rules/check"): (
        ADMINS,
        fixed("/api/rules/check", content=RULES_TEXT.encode(), headers={"content-type": "application/yaml"}),
    ),
    ("POST", "/api/rules/reload"): (ADMINS, fixed("/api/rules/reload")),
    ("POST", "/api/rules/backtest"): (MANAGE, fixed("/api/rules/backtest", json={"readings": [reading()]})),
    ("WS", "/ws"): (VIEW, fixed("/ws")),
}


def app_routes() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(create_app().routes):
        path = route.path
        if not path or path in EXCLUDED or path.startswith(EXCLUDED_PREFIXES):
            continue
        for method in route.methods or {"WS"}:
            if method != "HEAD":
                found.add((method, path))
    return found


def test_every_route_is_in_the_matrix():
    routes = app_routes()
    missing = sorted(routes - MATRIX.keys())
    assert not missing, (
        f"routes without an RBAC matrix entry (add them to MATRIX and docs/security.md): {missing}"
    )
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


def matrix_table() -> list[str]:
    """The matrix as the markdown rows docs/security.md must hold (✓ allowed, · refused with 403)."""
    rows = []
    for (method, path), (allowed, _) in sorted(MATRIX.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cells = (
            ["public"] * len(ROLES) if allowed == PUBLIC else ["✓" if r in allowed else "·" for r in ROLES]
        )
        note = f" ({NOTES[method, path]})" if (method, path) in NOTES else ""
        rows.append(f"| `{method} {path}`{note} | " + " | ".join(cells) + " |")
    return rows


def test_docs_show_the_same_matrix():
    doc = (ROOT / "docs/security.md").read_text(encoding="utf-8")
    missing = [row for row in matrix_table() if row not in doc]
    assert not missing, "docs/security.md is out of date; expected rows:\n" + "\n".join(missing)


async def _request(live: LiveServer, method: str, call: Call, token: str | None) -> int:
    async with live.client(token) as http:
        resp = await http.request(
            method, call.path, json=call.json, params=call.params, content=call.content, headers=call.headers
        )
        return resp.status_code


async def _ws(live: LiveServer, token: str | None) -> str:
    url = live.ws_url if token is None else f"{live.ws_url}?token={token}"
    async with websockets.connect(url) as ws:
        if token is None:
            await ws.send(json.dumps({"type": "auth"}))
        try:
            frame = json.loads(await ws.recv())
        except websockets.ConnectionClosed as closed:
            return f"closed {closed.rcvd.code if closed.rcvd else None}"
        return str(frame["type"])


async def test_every_route_role_by_role(live: LiveServer):
    fresh = Fresh(live)
    tokens = {role: fresh.token(role) for role in ROLES}
    failures: list[str] = []
    for (method, path), (allowed, build) in MATRIX.items():
        if method == "WS":
            if (got := await _ws(live, None)) != "closed 4401":
                failures.append(f"WS {path} without a token: {got}")
            for role in ROLES:
                got = await _ws(live, tokens[role])
                want = "hello" if role in allowed else "closed 4403"
                if got != want:
                    failures.append(f"WS {path} as {role.value}: {got}, expected {want}")
            continue
        if allowed == PUBLIC:
            continue
        status = await _request(live, method, build(fresh), None)
        if status != 401:
            failures.append(f"{method} {path} without a token: {status}, expected 401")
        for role in ROLES:
            # Logging out revokes the token used: give that call a token of its own.
            token = fresh.token(role) if path == "/api/auth/logout" else tokens[role]
            status = await _request(live, method, build(fresh), token)
            ok = 200 <= status < 300 if role in allowed else status == 403
            if not ok:
                want = "2xx" if role in allowed else "403"
                failures.append(f"{method} {path} as {role.value}: {status}, expected {want}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", [TEAM])
async def test_a_team_member_is_refused_another_teams_task(live: LiveServer, make_token, role):
    fresh = Fresh(live)
    other = make_token(role, teams=["waste"])
    task_id = fresh.task()
    for method, call in (
        ("GET", Call(f"/api/tasks/{task_id}")),
        ("POST", Call(f"/api/tasks/{task_id}/transition", json={"event": "accept"})),
        ("POST", Call(f"/api/tasks/{task_id}/comments", json={"text": "x"})),
    ):
        assert await _request(live, method, call, other) == 403
