"""Silences: list the active ones, lift one early (setting one goes through POST /api/alerts/{id}/silence)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from sqlmodel import Session, col, select

from hypervision import silence_store
from hypervision.api.deps import Manager, RuntimeDep, SessionDep, Viewer
from hypervision.events import Publication
from hypervision.models.silence import Silence, SilencePublic
from hypervision.unit_of_work import commit_and_publish

router = APIRouter(prefix="/api/silences", tags=["silences"])


@router.get("", response_model=list[SilencePublic])
def list_silences(
    session: SessionDep,
    runtime: RuntimeDep,
    _: Viewer,
    include_expired: Annotated[bool, Query(alias="all")] = False,
) -> list[Silence]:
    query = select(Silence)
    if not include_expired:
        query = query.where(col(Silence.ends_at) > runtime.clock())
    return list(session.exec(query.order_by(col(Silence.id).desc()).limit(500)).all())


@router.delete("/{silence_id}", response_model=SilencePublic)
async def lift_silence(silence_id: int, runtime: RuntimeDep, principal: Manager) -> Any:
    """End a silence now (logged)."""

    def work(session: Session) -> tuple[dict[str, Any], Publication]:
        row, publication = silence_store.expire(
            session, silence_id, actor=principal.actor, now=runtime.clock()
        )
        return SilencePublic.model_validate(row).model_dump(mode="json"), publication

    try:
        return await commit_and_publish(runtime, work)
    except silence_store.SilenceNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from err
