"""Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import hypervision.models  # noqa: F401  (registers every table)
from hypervision import migrations
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.domain import AlertState, Severity
from hypervision.models.alert import Alert


def _diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)


def test_upgrade_of_an_empty_database_matches_the_models(db_url: str):
    engine = make_engine(db_url)
    try:
        before, after = migrations.upgrade(engine)
        assert before is None
        assert after == migrations.head_revision()
        diff = _diff(engine)
        assert diff == [], (
            "the models and the migrations diverge: add a revision with "
            "`alembic -c hypervision/migrations/alembic.ini revision --autogenerate -m ...` "
            f"(docs/operations.md): {diff}"
        )
        tables = set(inspect(engine).get_table_names())
        assert set(SQLModel.metadata.tables) <= tables
        # Running it again is a no-op.
        assert migrations.upgrade(engine) == (after, after)
    finally:
        engine.dispose()


def test_a_database_made_by_create_schema_is_adopted_not_recreated(db_url: str):
    engine = make_engine(db_url)
    try:
        create_schema(engine)
        assert migrations.current_revision(engine) is None
        before, after = migrations.upgrade(engine)
        assert before == migrations.BASELINE and after == migrations.head_revision()
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_nothing_and_up_again(db_url: str):
    engine = make_engine(db_url)
    try:
        migrations.upgrade(engine)
        migrations.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()


def test_cli_db_upgrade_and_current(db_url: str, tmp_path):
    env = {**os.environ, "HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path)}
    run = [sys.executable, "-m", "hypervision"]
    up = subprocess.run([*run, "db", "upgrade"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    assert f"to {migrations.head_revision()}" in up.stdout
    assert "@" not in up.stdout  # credentials never printed
    current = subprocess.run([*run, "db", "current"], env=env, capture_output=True, text=True, timeout=120)
    assert current.returncode == 0, current.stdout + current.stderr
    assert f"database: {migrations.head_revision()}" in current.stdout


def test_migrated_schema_allows_one_open_alert_per_fingerprint_and_reopening(db_url: str):
    now = datetime.now(UTC)

    def alert(state: AlertState) -> Alert:
        return Alert(
            fingerprint="fp-1",
            rule_id="r",
            state=state,
            severity=Severity.WARNING,
            title="t",
            labels={},
            opened_at=now,
            updated_at=now,
            last_seen_at=now,
        )

    engine = make_engine(db_url)
    try:
        migrations.upgrade(engine)
        with session_scope(engine) as session:
            session.add(alert(AlertState.RESOLVED))
        with session_scope(engine) as session:  # the same condition fires again after it resolved
            session.add(alert(AlertState.FIRING))
        with pytest.raises(IntegrityError), session_scope(engine) as session:
            session.add(alert(AlertState.ACKNOWLEDGED))  # but never two open at once
    finally:
        engine.dispose()


@pytest.mark.parametrize("start", ["empty", "created_by_create_schema"])
def test_processes_starting_together_migrate_once(db_url: str, tmp_path, start: str):
    if start != "empty":
        engine = make_engine(db_url)
        create_schema(engine)
        engine.dispose()
    env = {**os.environ, "HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hypervision", "db", "upgrade"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    # One process creates the schema, the others wait for its lock and find it done (a database
    # made by create_schema is adopted as it is: stamped, nothing to create).
    assert sum("upgraded" in out for out in outputs) == (1 if start == "empty" else 0), outputs
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
        assert rows == [(migrations.head_revision(),)]
        assert _diff(engine) == []
    finally:
        engine.dispose()
