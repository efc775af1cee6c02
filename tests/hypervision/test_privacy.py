"""Retention: free text of closed items is blanked after HV_RETENTION_DAYS; audit and chain survive."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlmodel import Session, select

from alerts.lifecycle import AlertEvent
from alerts.schema import Matcher
from hypervision import alert_store, logbook, privacy, silence_store, task_store
from hypervision.cli import main
from hypervision.db import session_scope
from hypervision.models.alert import AlertHistory
from hypervision.models.logbook import LogbookEntry
from hypervision.models.silence import Silence
from hypervision.models.task import Task, TaskCreate, TaskHistory
from hypervision.tasks import TaskEvent
from tests.hypervision.people_support import T0, fire, sql_engine

SECRET_TEXT = "Rappeler Mme Martin au 06 12 34 56 78"


def _seed(engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        old, _ = task_store.create(
            session, TaskCreate(team="helpline", title=SECRET_TEXT, details=SECRET_TEXT, location="12 rue X"),
            actor="user:manon", now=T0,
        )  # fmt: skip
        task_store.move(session, old.id, TaskEvent.ACCEPT, actor="user:field1", now=T0, comment=SECRET_TEXT)
        task_store.add_comment(session, old.id, actor="user:field1", text=SECRET_TEXT, now=T0)
        task_store.move(session, old.id, TaskEvent.COMPLETE, actor="user:field1", now=T0 + timedelta(hours=1))
        still_open, _ = task_store.create(
            session, TaskCreate(team="helpline", title=SECRET_TEXT), actor="user:manon", now=T0
        )
        recent, _ = task_store.create(
            session, TaskCreate(team="waste", title="Vider C3"), actor="user:manon", now=T0
        )
        task_store.move(session, recent.id, TaskEvent.CANCEL, actor="user:manon", now=T0 + timedelta(days=95))
        logbook.append(session, kind="note", actor="user:manon", summary="Entry", at=T0, text=SECRET_TEXT)
        logbook.append(
            session,
            kind="note",
            actor="user:manon",
            summary="Entry",
            at=T0 + timedelta(days=95),
            text="récent",
        )
        move = fire(session)
        alert_id = int(move.alert["id"])
        alert_store.apply_manual(
            session, alert_id, AlertEvent.RESOLVE, actor="user:manon", comment=SECRET_TEXT, now=T0
        )
        rule = [Matcher(label="rule", value="x")]
        silence_store.create(
            session,
            matchers=rule,
            duration=timedelta(hours=1),
            reason=SECRET_TEXT,
            actor="user:manon",
            now=T0,
        )
        ids.update(old=old.id, open=still_open.id, recent=recent.id, alert=alert_id)
    return ids


def test_purge_blanks_old_closed_free_text_and_keeps_identities_and_the_chain(db_url):
    engine = sql_engine(db_url)
    ids = _seed(engine)
    with session_scope(engine) as session:
        report = privacy.purge(session, now=T0 + timedelta(days=100), retention_days=90)
    # Logbook entries older than the period lose their text whatever they refer to: the three task
    # creations, the acceptance comment, the note and the silence reason.
    assert report == privacy.PurgeReport(
        tasks=1, task_comments=2, logbook_entries=6, alert_comments=1, silences=1
    )
    with Session(engine) as session:
        old = session.get(Task, ids["old"])
        assert old.title == privacy.ANONYMISED and old.details == "" and old.location is None
        assert old.created_by == "user:manon" and old.assignee is not None
        history = session.exec(select(TaskHistory).where(TaskHistory.task_id == ids["old"])).all()
        assert [h.actor for h in history] == ["user:manon", "user:field1", "user:field1", "user:field1"]
        assert SECRET_TEXT not in [h.comment for h in history]
        assert session.get(Task, ids["open"]).title == SECRET_TEXT  # still open: kept
        assert session.get(Task, ids["recent"]).title == "Vider C3"  # closed 5 days ago: kept
        texts = [e.text for e in session.exec(select(LogbookEntry).order_by(LogbookEntry.seq)).all()]
        assert SECRET_TEXT not in texts and "récent" in texts
        comments = [h.comment for h in session.exec(select(AlertHistory)).all()]
        assert SECRET_TEXT not in comments and privacy.ANONYMISED in comments
        assert session.exec(select(Silence)).one().reason == privacy.ANONYMISED
        verdict = logbook.verify(session)
        assert verdict.ok, verdict.describe()
    with session_scope(engine) as session:
        assert privacy.purge(session, now=T0 + timedelta(days=100), retention_days=90).total == 0


def test_an_anonymised_entry_cannot_be_given_new_text(db_url):
    engine = sql_engine(db_url)
    _seed(engine)
    with session_scope(engine) as session:
        privacy.purge(session, now=T0 + timedelta(days=100), retention_days=90)
    with session_scope(engine) as session:
        entry = session.exec(select(LogbookEntry).where(LogbookEntry.anonymised_at != None)).first()  # noqa: E711
        entry.text = "rewritten history"
        session.add(entry)
    with Session(engine) as session:
        verdict = logbook.verify(session)
    assert verdict.broken_seq == entry.seq


def test_cli_purge_uses_the_retention_setting(db_url, tmp_path):
    engine = sql_engine(db_url)
    ids = _seed(engine)
    env = {"HV_DATABASE_URL": db_url, "HV_DATA_DIR": str(tmp_path / "var"), "HV_RETENTION_DAYS": "36500"}
    kept = CliRunner().invoke(main, ["purge"], env=env)
    assert kept.exit_code == 0 and "36500 days" in kept.output and "tasks: 0" in kept.output
    gone = CliRunner().invoke(main, ["purge", "--days", "0"], env=env)
    assert gone.exit_code == 0, gone.output
    with Session(engine) as session:
        assert session.get(Task, ids["old"]).title == privacy.ANONYMISED
        assert logbook.verify(session).ok


async def test_the_daily_job_uses_the_retention_setting(runtime):
    import dataclasses

    from hypervision.people_jobs import purge_free_text

    ids = _seed(runtime.db)
    assert runtime.settings.retention_days == 90
    early = dataclasses.replace(runtime, clock=lambda: T0 + timedelta(days=80))
    assert (await purge_free_text(early)).total == 0
    later = dataclasses.replace(runtime, clock=lambda: T0 + timedelta(days=100))
    assert (await purge_free_text(later)).tasks == 1
    with Session(runtime.db) as session:
        assert session.get(Task, ids["old"]).title == privacy.ANONYMISED
