"""Every route of the OpenAPI schema, fuzzed by schemathesis with an admin token: no 500, clear errors.

The app runs as `hypervision serve` in its own process (real Redis, a SQLite file); cases are drawn
from the schema (valid and invalid inputs) a few per operation, to keep the run bounded.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

from hypervision import auth
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.embedded_redis import free_port
from hypervision.models.user import Role, TokenKind
from tests.support import LiveServer

EXAMPLES_PER_OPERATION = 12
# Routes that would end the fuzzing session itself (the admin's token revoked).
SKIPPED = {("POST", "/api/auth/logout")}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[tuple[str, str]]:
    folder = tmp_path_factory.mktemp("fuzz")
    secret = "fuzz-" + secrets.token_hex(8)
    db_url = f"sqlite:///{folder / 'hv.db'}"
    engine = make_engine(db_url)
    create_schema(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        admin = auth.create_user(session, "fuzz-admin", secrets.token_urlsafe(16), Role.ADMIN, now=now)
        token = auth.issue_token(
            session, kind=TokenKind.SESSION, secret=secret, now=now, ttl=timedelta(hours=1), user=admin
        )
    engine.dispose()
    port = free_port()
    env = dict(os.environ)
    env.update(
        HV_REDIS_URL=redis_url, HV_DATABASE_URL=db_url, HV_SECRET_KEY=secret, HV_DATA_DIR=str(folder),
        HV_HOST="127.0.0.1", HV_PORT=str(port), HV_READING_SHARDS="2",
    )  # fmt: skip
    log = open(folder / "api.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "hypervision", "serve"], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base, proc)
        yield base, token
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
        errors = [
            line
            for line in (folder / "api.log").read_text(errors="replace").splitlines()
            if " ERROR " in line
        ]
        assert not errors, "the API logged errors while fuzzed:\n" + "\n".join(errors[:20])


def _wait(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the API exited"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the API did not start")


def _clear_error(status: int, body: Any) -> str | None:
    """Why an error body is not clear, or None. Clear: a JSON object whose `detail` says something,
    or one of the documented shapes naming each problem (ingest's `rejected`, rules' `problems`)."""
    if not isinstance(body, dict):
        return f"{status} without a JSON object: {body!r:.200}"
    if isinstance(body.get("rejected"), list) and body["rejected"]:
        return None if all(r.get("reason") for r in body["rejected"]) else f"{status} rejected without reason"
    detail = body.get("detail")
    if isinstance(detail, dict) and detail.get("message") and isinstance(detail.get("problems"), list):
        return None if all(p.get("message") for p in detail["problems"]) else f"{status} unclear problem"
    if isinstance(detail, str):
        return None if detail.strip() else f"{status} with an empty detail"
    if isinstance(detail, list) and detail and all(isinstance(d, dict) and d.get("msg") for d in detail):
        return None  # FastAPI's validation errors: each names the field and the problem
    return f"{status} with no clear detail: {body!r:.200}"


def test_every_route_answers_without_500_and_with_clear_errors(served: tuple[str, str]) -> None:
    base, token = served
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    problems: list[str] = []
    seen = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        seen += 1
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            response = case.call(base_url=base, headers=headers, timeout=30)
            label = f"{case.method} {case.formatted_path}"
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code} {response.text[:300]}")
            elif response.status_code >= 400:
                try:
                    body = response.json()
                except ValueError:
                    body = response.text[:120]
                why = _clear_error(response.status_code, body)
                if why:
                    problems.append(f"{label}: {why}")

        check()
    assert seen >= 30, f"only {seen} operations in the schema"
    assert not problems, "\n".join(sorted(set(problems))[:40])


async def test_an_id_too_large_for_the_database_is_a_422_not_a_500(live: LiveServer, make_token: Any) -> None:
    """Found by the fuzzing above: SQLite cannot hold a 40-digit id (OverflowError) and answers 422;
    PostgreSQL compares it as a numeric and finds no row: a plain 404. Never a 500."""
    sqlite = live.runtime.settings.sqlalchemy_url.startswith("sqlite")
    async with live.client(make_token(Role.ADMIN)) as http:
        for path in (f"/api/users/{10**40}", f"/api/alerts/{10**40}", f"/api/tasks/{10**40}"):
            resp = await http.get(path)
            if sqlite:
                assert resp.status_code == 422, (path, resp.text)
                assert resp.json() == {"detail": "a number in the request is out of range"}
            else:
                assert resp.status_code == 404, (path, resp.text)
                assert str(10**40) in resp.json()["detail"]
        assert (await http.get("/api/alerts/999999")).status_code == 404  # in range: the usual answer
