"""The crisis logbook: read or export it (JSON, CSV, printable HTML), add a manager's entry, verify."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import HTMLResponse
from pydantic import AwareDatetime, BaseModel
from sqlmodel import Session

from hypervision import logbook, logbook_report
from hypervision.api.deps import ControlRoom, Manager, RuntimeDep, SessionDep
from hypervision.events import Publication
from hypervision.models.logbook import NoteCreate
from hypervision.unit_of_work import commit_and_publish

router = APIRouter(prefix="/api/logbook", tags=["logbook"])


class VerifyResult(BaseModel):
    ok: bool
    checked: int
    broken_seq: int | None
    message: str


@router.get(
    "",
    responses={
        200: {
            "description": "the entries in order",
            "content": {"text/csv": {}, "text/html": {}},
        }
    },
)
def read_logbook(
    session: SessionDep,
    runtime: RuntimeDep,
    _: ControlRoom,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    format: Annotated[Literal["json", "csv", "html"], Query()] = "json",
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
) -> Any:
    """Entries with ``from <= at < to``; ``format=html`` is the printable after-action report."""
    rows = [logbook.entry_public(e) for e in logbook.entries(session, start=start, end=end, limit=limit)]
    if format == "csv":
        return Response(
            logbook_report.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="main-courante.csv"'},
        )
    if format == "html":
        verdict = logbook.verify(session)
        period = f"{_shown(start)} → {_shown(end)}"
        html = logbook_report.to_html(
            rows,
            title="Main courante — rapport de retour d'expérience",
            period=period,
            generated_at=runtime.clock(),
            chain=verdict.describe(),
            tz=runtime.settings.territory_tz,
        )
        return HTMLResponse(html)
    return rows


def _shown(moment: datetime | None) -> str:
    return moment.isoformat() if moment else "…"


@router.post("", status_code=status.HTTP_201_CREATED)
async def add_entry(body: NoteCreate, runtime: RuntimeDep, principal: Manager) -> Any:
    """A manager's free-text entry ("décision : ouverture du second site du drive")."""

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        entry, publication = logbook.append(
            session,
            kind=logbook.Kind.NOTE,
            actor=principal.actor,
            summary=f"Entry by {principal.actor}",
            at=runtime.clock(),
            text=body.text,
        )
        return logbook.entry_public(entry), publication

    return await commit_and_publish(runtime, work)


@router.get("/verify", response_model=VerifyResult)
def verify_logbook(session: SessionDep, _: Manager) -> VerifyResult:
    """Walk the hash chain; names the first entry that does not hold."""
    verdict = logbook.verify(session)
    return VerifyResult(
        ok=verdict.ok, checked=verdict.checked, broken_seq=verdict.broken_seq, message=verdict.describe()
    )
