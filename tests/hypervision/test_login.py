"""Identity: throttled sign-in (per user, per address), logout, user admin, screen tokens, ingest keys."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hypervision import auth
from hypervision.cli import main
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.models.user import Role
from hypervision.runtime import utc_now
from tests.support import LiveServer, reading

PASSWORD = "correct horse battery staple"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"login_max_failures": 3, "login_max_failures_per_address": 6, "login_window_s": 120}
    )


def _user(live: LiveServer, name: str, role: Role = Role.MANAGER) -> None:
    with session_scope(live.runtime.db) as session:
        auth.create_user(
            session, name, PASSWORD, role, teams=["helpline"] if role == Role.TEAM else None, now=utc_now()
        )


async def test_failures_lock_the_user_out_with_retry_after_then_success_resets(live: LiveServer):
    _user(live, "alice")
    async with live.client() as http:
        ok = await http.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
        assert ok.status_code == 200 and ok.json()["role"] == "manager"
        for _ in range(2):
            wrong = await http.post("/api/auth/token", json={"username": "alice", "password": "nope"})
            assert wrong.status_code == 401
        # A success before the limit clears the user's count.
        assert (
            await http.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
        ).status_code == 200
        for _ in range(3):
            assert (
                await http.post("/api/auth/token", json={"username": "ALICE", "password": "x"})
            ).status_code == 401
        locked = await http.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
        assert locked.status_code == 429
        assert 1 <= int(locked.headers["retry-after"]) <= 120
        # The user's window is in Redis: once it is gone, the right password works again (the
        # address, at 5 failures of 6 allowed, is not blocked yet).
        for key in await live.runtime.redis.keys("hv:login:fail:user:*"):
            await live.runtime.redis.delete(key)
        assert (
            await http.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
        ).status_code == 200


async def test_one_address_spraying_many_users_is_throttled(live: LiveServer):
    _user(live, "bob")
    async with live.client() as http:
        for i in range(6):
            resp = await http.post("/api/auth/token", json={"username": f"guess{i}", "password": "x"})
            assert resp.status_code == 401
        blocked = await http.post("/api/auth/token", json={"username": "bob", "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


async def test_logout_revokes_the_token(live: LiveServer, make_token):
    token = make_token(Role.OPERATOR)
    async with live.client(token) as http:
        assert (await http.get("/api/auth/me")).status_code == 200
        assert (await http.post("/api/auth/logout")).status_code == 204
        after = await http.get("/api/auth/me")
    assert after.status_code == 401
    assert after.json()["detail"].startswith("token revoked:")
    assert 'error_description="token revoked"' in after.headers["www-authenticate"]
    async with live.client("never-issued") as http:
        unknown = await http.get("/api/auth/me")
    assert unknown.status_code == 401 and unknown.json()["detail"].startswith("unknown token:")


async def test_admin_manages_users_and_deactivation_revokes_their_tokens(live: LiveServer, make_token):
    admin = make_token(Role.ADMIN)
    async with live.client(admin) as http:
        created = await http.post(
            "/api/users", json={"username": "carol", "role": "team", "teams": ["lighting"]}
        )
        assert created.status_code == 201, created.text
        user = created.json()
        assert user["teams"] == ["lighting"] and len(user["password"]) >= 12
        assert (
            await http.post("/api/users", json={"username": "carol", "role": "operator"})
        ).status_code == 409
        assert (await http.post("/api/users", json={"username": "dan", "role": "team"})).status_code == 409
        assert (await http.post("/api/users", json={"username": "eve", "role": "screen"})).status_code == 422
        assert "carol" in [u["username"] for u in (await http.get("/api/users")).json()]
        assert "password" not in (await http.get(f"/api/users/{user['id']}")).json()
    async with live.client() as anon:
        login = await anon.post("/api/auth/token", json={"username": "carol", "password": user["password"]})
        assert login.status_code == 200 and login.json()["teams"] == ["lighting"]
        carol = login.json()["access_token"]
    async with live.client(admin) as http:
        moved = await http.patch(f"/api/users/{user['id']}", json={"teams": ["lighting", "waste"]})
        assert moved.status_code == 200 and moved.json()["teams"] == ["lighting", "waste"]
        gone = await http.delete(f"/api/users/{user['id']}")
        assert gone.status_code == 200 and gone.json()["active"] is False
    async with live.client(carol) as http:
        assert (await http.get("/api/auth/me")).status_code == 401


async def test_screen_tokens_are_read_only_and_revocable(live: LiveServer, make_token):
    admin = make_token(Role.ADMIN)
    async with live.client(admin) as http:
        resp = await http.post("/api/screens", json={"name": "salle de crise, mur 1"})
        assert resp.status_code == 201
        screen = resp.json()
        assert [s["name"] for s in (await http.get("/api/screens")).json()] == ["salle de crise, mur 1"]
    async with live.client(screen["token"]) as http:
        me = (await http.get("/api/auth/me")).json()
        assert me["role"] == "screen" and me["token_kind"] == "screen"
        assert (await http.get("/api/picture")).status_code == 200
        assert (await http.post("/api/tasks", json={"team": "waste", "title": "x"})).status_code == 403
        assert (await http.post("/api/ingest/readings", json=[reading()])).status_code == 403
    async with live.client(admin) as http:
        assert (await http.delete(f"/api/screens/{screen['id']}")).json()["revoked_at"] is not None
    async with live.client(screen["token"]) as http:
        assert (await http.get("/api/picture")).status_code == 401


async def test_ingest_keys_are_per_source_and_valid_only_on_ingest_routes(live: LiveServer, make_token):
    admin = make_token(Role.ADMIN)
    source = "air:station:FR-TEST-01"
    async with live.client(admin) as http:
        key = (await http.post("/api/ingest-keys", json={"name": "atmo", "source": source})).json()
        assert key["source"] == source
    async with live.client(key["token"]) as http:
        assert (await http.post("/api/ingest/readings", json=[reading(source=source)])).status_code == 202
        assert (
            await http.post("/api/ingest/readings", json=[reading(source="air:station:OTHER")])
        ).status_code == 403
        assert (await http.get("/api/picture")).status_code == 403
        assert (await http.get("/api/tasks")).status_code == 403
    async with live.client(admin) as http:
        assert (await http.delete(f"/api/ingest-keys/{key['id']}")).status_code == 200
        assert (await http.delete("/api/ingest-keys/99999")).status_code == 404
    async with live.client(key["token"]) as http:
        assert (await http.post("/api/ingest/readings", json=[reading(source=source)])).status_code == 401


def test_cli_user_add_and_token_commands(db_url, tmp_path):
    env = {"HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path / "var"), "HV_SECRET_KEY": "k" * 32}
    runner = CliRunner()
    added = runner.invoke(
        main, ["user", "add", "field1", "--role", "team", "--team", "helpline", "--password-stdin"],
        input=PASSWORD + "\n", env=env,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "created with role team" in added.output
    issued = runner.invoke(main, ["token", "screen", "hall"], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    listed = runner.invoke(main, ["token", "list"], env=env)
    assert "\tscreen\thall\t-\tactive" in listed.output
    token_id = listed.output.split("\t", 1)[0]
    from hypervision.db import make_engine

    engine = make_engine(db_url)
    with session_scope(engine) as session:
        principal = auth.authenticate(session, token, secret="k" * 32, now=utc_now())
        assert isinstance(principal, auth.Principal) and principal.role == Role.SCREEN
    assert runner.invoke(main, ["token", "revoke", token_id], env=env).exit_code == 0
    with session_scope(engine) as session:
        assert auth.authenticate(session, token, secret="k" * 32, now=utc_now()) == auth.TokenRefusal.REVOKED
