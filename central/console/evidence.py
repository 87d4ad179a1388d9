"""Serving evidence bytes: only files linked to the event, by digest through the evidence store (a folder or an
object store), with the media type the camera declared, and every response that carries them accounted for in
the audit log."""

from __future__ import annotations

from datetime import timedelta

from fastapi import HTTPException, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.console.byte_ranges import parse_range, ranged_response
from central.console.deps import console, now
from central.console.records import load_infraction
from central.console.sessions import LiveSession
from central.evidence_store import EvidenceError, EvidenceUnavailable
from central.tables import EvidenceBlob, EvidenceLink


def _in_a_viewing(
    request: Request, session: Session, actor: str, target: str, sha256: str, span: tuple[int, int] | None
) -> bool:
    """Whether this is a byte-range request by `actor` within `evidence_view_group_s` of their last audited view
    of the same evidence. A browser plays a video in several ranges, in any order; they belong to that viewing,
    whichever range came first. A request answered with the whole file (no `span`) is a whole download and always
    audited, even when it carried a Range header: one in a unit other than bytes is ignored, as RFC 9110 says."""
    group_s = console(request).config.evidence_view_group_s
    if span is None or group_s <= 0:
        return False
    recent = session.scalars(
        select(audit.AuditEntry.details).where(
            audit.AuditEntry.actor == actor,
            audit.AuditEntry.action == "evidence.view",
            audit.AuditEntry.target == target,
            audit.AuditEntry.at >= now() - timedelta(seconds=group_s),
        )
    )
    return any(details.get("sha256") == sha256 for details in recent)


def _view_details(request: Request, sha256: str, role: str, span: tuple[int, int] | None) -> dict[str, str]:
    # The range only when one was served: an ignored header did not narrow what the viewer received.
    byte_range = request.headers.get("range") if span is not None else None
    return {"sha256": sha256, "role": role, **({"range": byte_range[:100]} if byte_range else {})}


def evidence_response(request: Request, live: LiveSession, event_id: str, sha256: str) -> StreamingResponse:
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
            size = ctx.store.size(sha256)
        except EvidenceError:
            raise HTTPException(404, "no such evidence") from None
        except EvidenceUnavailable as exc:
            raise HTTPException(503, "the evidence store cannot be reached; try again shortly") from exc
        if size is None:
            raise HTTPException(404, "the evidence has not arrived yet")
        # Before the audit entry: a range refused carries no evidence, so it is no view.
        span = parse_range(request.headers.get("range"), size)
        actor, target = live.principal.username, f"infraction:{infraction.event_id}"
        if not _in_a_viewing(request, session, actor, target, sha256, span):
            audit.record(
                session,
                actor,
                "evidence.view",
                target=target,
                details=_view_details(request, sha256, link.role, span),
            )
    return ranged_response(
        lambda start, stop: ctx.store.read(sha256, start, stop),
        size,
        span,
        link.media_type,
        {"Cache-Control": "private, no-store"},
    )
