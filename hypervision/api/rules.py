"""Rules: list the rules in force, check a file, reload atomically (admin), backtest (managers)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Body, HTTPException, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from alerts.backtest import Summary, backtest, change_to_dict
from alerts.loader import RulesError, RuleSet, load_rules, load_rules_text
from alerts.schema import json_schema
from hypervision import bus, logbook
from hypervision.api.deps import Admin, ControlRoom, Manager, RuntimeDep
from hypervision.backtest import HistoryTooLarge, history_readings
from hypervision.domain import Reading
from hypervision.events import Publication
from hypervision.unit_of_work import commit_and_publish

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/rules", tags=["rules"])

MAX_RULES_TEXT = 1_000_000
MAX_INLINE_READINGS = 100_000
MAX_CHANGES_SHOWN = 10_000


def _problems(err: RulesError) -> list[dict[str, Any]]:
    return [
        {"file": name, "line": line, "rule": rule_id, "field": fld, "message": msg}
        for name, line, rule_id, fld, msg in err.problems
    ]


def _refused(err: RulesError) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        {"message": "the rules are invalid", "problems": _problems(err)},
    )


def _summary(rules: RuleSet) -> dict[str, Any]:
    return {
        "digest": rules.digest,
        "files": list(rules.names),
        "count": len(rules.rules),
        "rules": [
            {
                "id": r.id,
                "title": r.title,
                "severity": r.severity.value,
                "levels": [lvl.severity.value for lvl in r.levels],
                "domain": r.select.domain.value if r.select.domain else None,
                "metric": r.select.metric,
                "public": r.public,
                "enabled": r.enabled,
                "labels": r.labels,
            }
            for r in rules.rules
        ],
    }


@router.get("")
def list_rules(runtime: RuntimeDep, _: ControlRoom) -> dict[str, Any]:
    """The rule set in force: digest, files and one line per rule."""
    return _summary(runtime.load_rule_set())


@router.get("/schema")
def rules_schema(_: ControlRoom) -> dict[str, Any]:
    """JSON Schema of a rule file (point a YAML editor at it for completion and checks)."""
    return json_schema()


@router.post("/check")
def check_rules(
    _: Admin,
    text: Annotated[str, Body(media_type="application/yaml", max_length=MAX_RULES_TEXT)],
) -> dict[str, Any]:
    """Validate a rule file sent as the body (YAML) without running it; 422 lists every problem."""
    try:
        rules = load_rules_text(text, name="body")
    except RulesError as err:
        raise _refused(err) from err
    return {"valid": True, "count": len(rules.rules), "digest": rules.digest}


@router.post("/reload")
async def reload_rules(runtime: RuntimeDep, principal: Admin) -> dict[str, Any]:
    """Reload the configured rule files; a bad file is refused (422) and the running rules stay.

    A reload that changes the rule set is written to the crisis logbook before it takes effect.
    """
    try:
        rules = load_rules(runtime.rule_files())
    except RulesError as err:
        log.warning("rules reload by %s refused: %d problem(s)", principal.actor, len(err.problems))
        raise _refused(err) from err
    previous = runtime.rules
    changed = previous is None or previous.digest != rules.digest
    if changed:

        def record(session: Session) -> tuple[None, Publication]:
            before = previous.digest if previous is not None else None
            publication = logbook.rule_change(
                session,
                actor=principal.actor,
                before=before,
                after=rules.digest,
                rules=len(rules.rules),
                at=runtime.clock(),
            )
            return None, publication

        await commit_and_publish(runtime, record)
    runtime.rules = rules  # one reference swap: readers see the old set or the new one, never a mix
    # Workers in other processes follow this digest and read the same files themselves.
    await runtime.redis.set(bus.RULES_DIGEST_KEY, rules.digest)
    log.info(
        "rules reloaded by %s: %d rules, digest %s", principal.actor, len(rules.rules), rules.digest[:12]
    )
    return {**_summary(rules), "changed": changed}


class BacktestRequest(BaseModel):
    """Replay readings (given inline, or the stored history between `from` and `to`) through rules."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rules: str | None = Field(
        default=None, max_length=MAX_RULES_TEXT, description="rule file (YAML); default: the rules in force"
    )
    readings: list[Reading] | None = Field(default=None, max_length=MAX_INLINE_READINGS)
    start: AwareDatetime | None = Field(default=None, alias="from")
    end: AwareDatetime | None = Field(default=None, alias="to")
    tick_every_s: float = Field(default=60.0, ge=1, le=3600)

    @model_validator(mode="after")
    def _one_input(self) -> BacktestRequest:
        if (self.readings is None) == (self.start is None or self.end is None):
            raise ValueError("give either `readings`, or both `from` and `to` (the stored history)")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("`to` must be after `from`")
        return self


@router.post("/backtest")
async def backtest_rules(request: BacktestRequest, runtime: RuntimeDep, _: Manager) -> dict[str, Any]:
    """The alerts the rules would have raised over these readings: when, what and why."""
    if request.rules is not None:
        try:
            rules = load_rules_text(request.rules, name="body")
        except RulesError as err:
            raise _refused(err) from err
    else:
        rules = runtime.load_rule_set()
    if request.readings is not None:
        readings = request.readings
        until = None
    else:
        assert request.start is not None and request.end is not None
        try:
            readings = await history_readings(runtime.redis, start=request.start, end=request.end)
        except HistoryTooLarge as err:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(err)) from err
        until = request.end
    tick = timedelta(seconds=request.tick_every_s)
    # CPU-bound: off the event loop, so the API keeps answering while a long replay runs.
    changes = await to_thread.run_sync(lambda: backtest(rules, readings, tick, until=until))
    summary = Summary.of(changes)
    return {
        "digest": rules.digest,
        "readings": len(readings),
        "changes": [change_to_dict(c, rules) for c in changes[:MAX_CHANGES_SHOWN]],
        "truncated": len(changes) > MAX_CHANGES_SHOWN,
        "summary": {"changes": summary.changes, "fired": summary.fired, "resolved": summary.resolved},
    }
