"""Public CAP 1.2 warnings: an Atom index and one frozen XML document per message (no token needed)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from hypervision import cap, cap_store
from hypervision.api.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/cap", tags=["publishing"])

# Anyone may relay a public warning: allow every origin, and let caches share the answers.
PUBLIC_HEADERS = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}


@router.get(
    "/alerts",
    response_class=Response,
    responses={200: {"content": {cap.ATOM_MIME: {}}, "description": "Atom feed of CAP messages"}},
)
def cap_feed(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """The newest public CAP messages (Alert, Update, Cancel), each linking to its XML document."""
    settings = runtime.settings
    messages = cap_store.public_messages(session, limit=limit)
    entries = [
        cap.FeedEntry(
            identifier=m.identifier,
            msg_type=m.msg_type,
            sent=m.sent_text,
            headline=m.headline,
            summary=str(m.info.get("fr", {}).get("description", "")),
            href=str(request.url_for("cap_document", identifier=m.identifier)),
        )
        for m in messages
    ]
    updated = (
        messages[0].sent_text if messages else cap.cap_time(runtime.clock(), ZoneInfo(settings.territory_tz))
    )
    body = cap.atom_feed(
        entries,
        feed_url=str(request.url_for("cap_feed")),
        title=f"Alertes publiques — {settings.cap_sender_name}",
        author=settings.cap_sender_name,
        updated=updated,
    )
    headers = {**PUBLIC_HEADERS, "Cache-Control": "public, max-age=60"}
    return Response(body, media_type=cap.ATOM_MIME, headers=headers)


@router.get(
    "/alerts/{identifier}.xml",
    response_class=Response,
    responses={
        200: {"content": {cap.CAP_MIME: {}}, "description": "One CAP 1.2 document"},
        404: {"description": "No such message"},
    },
)
def cap_document(identifier: str, session: SessionDep) -> Response:
    """One CAP message exactly as it was sent: a document never changes once published."""
    message = cap_store.find(session, identifier)
    if message is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no CAP message {identifier!r}")
    headers = {**PUBLIC_HEADERS, "Cache-Control": "public, max-age=86400, immutable"}
    return Response(message.xml.encode("utf-8"), media_type=cap.CAP_MIME, headers=headers)
