"""Request and response bodies of the /api/v1 JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from central.console.filters import OPTIONAL_IDENT, OPTIONAL_SUBJECT
from central.timeutil import as_utc
from models.base import StrictModel


def _storable(value: str) -> str:
    # PostgreSQL refuses NUL in text and no database stores lone surrogates: refuse them here as 422
    # rather than fail later as 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# SQLite hands back naive timestamps (stored in UTC); every time leaves the API as aware UTC.
UtcTime = Annotated[datetime, AfterValidator(as_utc)]
Username = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_storable)]
Password = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_storable)]
Reason = Annotated[str, Field(min_length=1, max_length=120), AfterValidator(_storable)]
Grounds = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_storable)]
Note = Annotated[str, Field(max_length=20_000), AfterValidator(_storable)]
SubjectRef = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_storable)]
VERSION_WORDS = (
    "The item's version as you read it (`version` in GET /api/v1/infractions/ID or the queue): the number of review "
    "moves made on it. A move on an item that has moved on since is refused with 409, naming what changed, when "
    "and by whom."
)
Version = Annotated[int, Field(ge=0, le=2**31 - 1, description=VERSION_WORDS)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(StrictModel):
    username: Username
    password: Password


class SessionOut(Out):
    token: str = Field(description="Send as `Authorization: Bearer TOKEN`.")
    csrf_token: str = Field(description="Needed in `X-CSRF-Token` only when calling with the session cookie.")
    username: str
    role: str
    expires_at: UtcTime


class MeOut(Out):
    username: str
    role: str


class InfractionSummary(Out):
    event_id: str
    type: str
    site: str
    camera_id: str
    started_at: UtcTime
    ended_at: UtcTime
    zone: str
    confidence: float
    redacted: bool
    review_state: str
    version: int = Field(description="The number of review moves made on the item; send it with every move.")
    rule: str


class EvidenceOut(Out):
    sha256: str
    media_type: str
    role: str
    url: str


class ReviewStepOut(Out):
    at: UtcTime
    actor: str
    action: str
    from_state: str
    to_state: str
    reason: str | None = None
    note: str | None = None
    subject_ref: str | None = None
    assignee: str | None = None
    points: int | None = None


class ClaimOut(Out):
    event_id: str
    reviewer: str
    expires_at: UtcTime


class ClaimIn(StrictModel):
    version: Version


class ClaimedOut(ClaimOut):
    """A claim just made or handed over, with the item's version after it (send that with the decision)."""

    version: int


class InfractionDetail(InfractionSummary):
    frame_start: int | None = None
    frame_end: int | None = None
    signal_phase: str | None = None
    model: dict[str, Any] = {}
    rule_trace: dict[str, Any] = Field(default_factory=dict, description="name, version, thresholds, measurements")
    message_schema: str | None = Field(None, description="The message's schema: curbwatch.infraction/1 or /2.")
    trajectory: list[dict[str, float]] = []
    zone_polygon: list[tuple[float, float]] = Field(
        default_factory=list, description="/2: the zone's outline, [x, y] normalised to the frame; empty for /1."
    )
    item_box: tuple[float, float, float, float] | None = Field(None, description="/2, littering: [x1, y1, x2, y2].")
    source: dict[str, Any] | None = Field(
        None, description="/2: kind live, or kind file with the clip's name and offset_s, the seconds into it."
    )
    evidence: list[EvidenceOut] = Field(
        default_factory=list,
        description="Roles: clip and keyframe are whole frames as filmed (redacted; the geometry above is drawn "
        "over them), item_crop a littering item's spot before and after, outlined by the camera.",
    )
    claim: ClaimOut | None = None
    history: list[ReviewStepOut] = []
    warnings: list[str] = Field(
        default_factory=list, description="Doubts about the review shown beside it, e.g. one admin's two accounts."
    )


class DecisionIn(StrictModel):
    """The first review of an item (pending, or claimed by you in its first review)."""

    decision: Literal["confirm", "reject"]
    reason: Reason
    note: Note = ""
    subject_ref: SubjectRef | None = Field(
        None, description="Opaque subject id under the site's policy; none = no deduction."
    )
    version: Version


class SecondReviewIn(StrictModel):
    """The second review of a first reviewer's confirmation (an item awaiting_second, or claimed by you in its
    second review)."""

    decision: Literal["confirm", "reject"] = Field(
        description="confirm: the first reviewer's confirmation takes effect (the deduction is written); reject: "
        "nothing is deducted."
    )
    reason: Reason
    note: Note = ""
    subject_ref: SubjectRef | None = Field(
        None, description="Optional: the first reviewer's reference typed again; a different one is refused."
    )
    version: Version


class StateOut(Out):
    event_id: str
    review_state: str
    version: int = Field(description="The item's version after the move.")


class ReassignIn(StrictModel):
    to_reviewer: Username
    version: Version


class ReopenIn(StrictModel):
    reason: Grounds
    version: Version


class LedgerEntryOut(Out):
    seq: int
    created_at: UtcTime
    kind: str
    site: str
    subject_ref: str
    event_id: str
    infraction_type: str
    points: int
    reverses: int | None = None
    occurred_at: UtcTime
    expires_at: UtcTime
    decided_by: str
    second_by: str | None = None
    reason: str
    hash: str


class LedgerSearchIn(StrictModel):
    """A ledger search: the subject reference goes in this body, never in a URL."""

    subject: str = Field(
        "",
        pattern=OPTIONAL_SUBJECT,
        max_length=64,
        description="Subject reference; empty for the most recent entries.",
    )
    site: str = Field("", pattern=OPTIONAL_IDENT, max_length=64, description="Site id; empty for all.")


class LedgerOut(Out):
    entries: list[LedgerEntryOut]
    balances: dict[str, int] = Field(description="Points counting now, per site (only when a subject is given).")
    chain_problems: list[str]


class AppealIn(StrictModel):
    reason: Grounds


class AppealDecisionIn(StrictModel):
    outcome: Literal["uphold", "reverse"]
    reason: Reason
    note: Note = ""
    version: Version = Field(
        description=f"Of the appealed item (`item_version` in GET /api/v1/appeals). {VERSION_WORDS}"
    )


class AppealOut(Out):
    id: int
    entry_seq: int
    event_id: str
    filed_by: str
    filed_at: UtcTime
    reason: str
    state: str
    decided_by: str | None = None
    decided_at: UtcTime | None = None
    decision_reason: str | None = None
    reversal_seq: int | None = None
    item_version: int | None = Field(None, description="The appealed item's version: send it with the decision.")


class AuditOut(Out):
    seq: int
    at: UtcTime
    actor: str
    action: str
    target: str | None = None
    details: dict[str, Any]
    hash: str


class CameraOut(Out):
    site: str
    camera_id: str
    state: str
    last_seen: UtcTime | None = None
    seconds_since: float | None = None
    events_last_hour: int
    events_per_hour_24h: float
    heartbeat: dict[str, Any]
    warnings: list[str] = Field(description="What needs attention: offline, silent, outbox growing, fps too low.")


class OverturnOut(Out):
    camera: str
    rule: str
    decided: int
    overturned: int
    rate: float


class UserIn(StrictModel):
    """The account gets a one-time password (in the answer); its holder must replace it before anything else."""

    username: Username
    role: Literal["reviewer", "supervisor", "auditor", "admin"]


class UserOut(Out):
    id: int
    username: str
    role: str
    active: bool
    must_change_password: bool = Field(description="The one-time password has not been replaced yet.")


class UserCreatedOut(UserOut):
    one_time_password: str = Field(description="Shown this once; the holder must replace it at the first sign-in.")


class PasswordChangeIn(StrictModel):
    current: Password
    new: Password
