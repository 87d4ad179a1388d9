"""Serving evidence bytes: only files linked to the event, by digest through the evidence store, with the media
type the camera declared, and every view written to the audit log."""

from __future__ import annotations

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse
from sqlalchemy import select

from central import audit
from central.console.deps import console
from central.console.records import load_infraction
from central.console.sessions import LiveSession
from central.evidence_store import EvidenceError
from central.tables import EvidenceBlob, EvidenceLink


def _first_view(request: Request) -> bool:
    """Browsers fetch a video in several byte ranges; the first request of a view is the one audited."""
    byte_range = request.headers.get("range", "")
    return not byte_range or byte_range.replace(" ", "").startswith("bytes=0-")


def evidence_response(request: Request, live: LiveSession, event_id: str, sha256: str) -> FileResponse:
    ctx = console(request)
    with ctx.tx() as session:
        infraction = load_infraction(session, event_id)
        link = session.scalar(
            select(EvidenceLink).where(EvidenceLink.event_id == infraction.event_id, EvidenceLink.sha256 == sha256)
        )
        if link is None:
            raise HTTPException(404, "this event lists no such evidence")
        blob = session.get(EvidenceBlob, sha256)
        if blob is not None and blob.purged_at is not None:
            raise HTTPException(410, "this evidence was purged under the retention policy")
        try:
            path = ctx.store.path(sha256)
        except EvidenceError:
            raise HTTPException(404, "no such evidence") from None
        if not path.is_file():
            raise HTTPException(404, "the evidence has not arrived yet")
        if _first_view(request):
            audit.record(
                session,
                live.principal.username,
                "evidence.view",
                target=f"infraction:{infraction.event_id}",
                details={"sha256": sha256, "role": link.role},
            )
    return FileResponse(path, media_type=link.media_type, headers={"Cache-Control": "private, no-store"})
