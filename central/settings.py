"""Settings of the central service: review, ledger and retention policy. Loaded from YAML; every field is
bounded and described, unknown keys are refused."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from central.console_settings import ConsoleConfig
from central.db import DEFAULT_DATA_DIR, default_db_url
from central.editor_settings import EditorSettings
from central.evidence_store import EvidenceStore, FolderEvidenceStore
from central.object_store import S3EvidenceStore
from central.object_store_settings import ObjectStoreSettings
from models.base import StrictModel
from models.errors import ConfigError, format_validation_error

DEFAULT_REJECT_REASONS = [
    "not an infraction",
    "wrong infraction type",
    "evidence unclear",
    "duplicate of another event",
    "exempt (emergency, road works, authorised)",
    "camera or rule fault",
    "other",
]
DEFAULT_CONFIRM_REASONS = ["clear evidence", "consistent with rule trace", "other"]
DEFAULT_APPEAL_GRANT_REASONS = [
    "evidence does not show the subject",
    "wrong subject reference",
    "circumstances justify it",
    "other",
]
"""Why an appeal is granted: the deduction is reversed."""
DEFAULT_APPEAL_REFUSE_REASONS = [
    "deduction stands: evidence clear",
    "grounds not borne out by the evidence",
    "other",
]
"""Why an appeal is refused: the deduction stands."""
ReasonList = Annotated[list[str], Field(min_length=1, max_length=50)]
"""The reasons a reviewer picks from for one kind of decision: at least one, at most 50."""
SUBJECT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$"


class CameraHealthSettings(StrictModel):
    """When the console's camera page warns about a camera."""

    silent_after_s: int = Field(
        300, ge=10, le=86_400, description="An online camera without a heartbeat for this long is shown as silent."
    )
    outbox_messages: int = Field(
        100, ge=1, le=10_000_000, description="Warn when a camera's outbox holds more messages than this."
    )
    outbox_age_s: int = Field(
        600, ge=10, le=604_800, description="Warn when a camera's oldest outbox message has waited longer than this."
    )


class CentralSettings(StrictModel):
    data_dir: Path = Field(DEFAULT_DATA_DIR, description="Folder for the SQLite database and evidence files.")
    db_url: str | None = Field(
        None, description="SQLAlchemy URL of the database; default a SQLite file in data_dir.", max_length=1000
    )
    evidence_dir: Path | None = Field(None, description="Evidence files by sha256; default data_dir/evidence.")
    object_store: ObjectStoreSettings | None = Field(
        None,
        description="Keep evidence in this S3-compatible bucket instead of evidence_dir, so that central workers and "
        "consoles on several hosts share it (docs/scale.md). Default: the evidence folder.",
    )
    checkpoint_dir: Path | None = Field(
        None,
        description="Folder of the key that signs checkpoints of the ledger's and audit log's heads, the public "
        "keys that verify them and the checkpoint log auditors collect; default 'checkpoints' beside the settings "
        "file (data_dir/checkpoints without one). Keep it off the database's disks.",
    )
    claim_ttl_s: int = Field(
        900, ge=60, le=86_400, description="How long a reviewer's claim on an item lasts before others may take it."
    )
    disclosure_threshold: int = Field(
        5,
        ge=5,
        le=1000,
        description="A transparency report figure resting on fewer records than this reads 'hidden' (at least 5; "
        "it comes from here, never from whoever asks for the report).",
    )
    second_review_points: int = Field(
        2,
        ge=0,
        le=100,
        description="A confirmation that names a subject and is worth more than this many points needs a second, "
        "different reviewer before it takes effect.",
    )
    points_expiry_days: int = Field(
        365, ge=1, le=3650, description="A deduction stops counting this many days after the infraction."
    )
    per_incident_cap: int = Field(
        3, ge=1, le=100, description="The most points one incident (a subject's deductions close in time) can count."
    )
    incident_window_s: int = Field(
        600,
        ge=0,
        le=86_400,
        description="Deductions of one subject at one site whose infractions start within this many seconds of "
        "the incident's first one belong to the same incident.",
    )
    appeal_window_days: int = Field(
        30, ge=1, le=365, description="Days after a deduction during which it can be appealed."
    )
    camera_health: CameraHealthSettings = Field(
        default_factory=CameraHealthSettings, description="Thresholds of the camera page's warnings."
    )
    retention_rejected_days: int = Field(
        30, ge=0, le=3650, description="Evidence of rejected or reversed events is purged after this many days."
    )
    litter_item_days: int = Field(
        7,
        ge=1,
        le=365,
        description="A littering item its camera last spoke of more than this many days ago (no longer watched, or "
        "still there when its stream ended) leaves the Litter page, and `central purge` deletes what the camera said "
        "about it; a camera still watching reports every few minutes, so its items stay.",
    )
    confirm_reasons: ReasonList = Field(
        default_factory=lambda: list(DEFAULT_CONFIRM_REASONS),
        description="Reasons a reviewer picks from when confirming.",
    )
    reject_reasons: ReasonList = Field(
        default_factory=lambda: list(DEFAULT_REJECT_REASONS),
        description="Reasons a reviewer picks from when rejecting.",
    )
    appeal_grant_reasons: ReasonList = Field(
        default_factory=lambda: list(DEFAULT_APPEAL_GRANT_REASONS),
        description="Reasons a reviewer picks from when granting an appeal (the deduction is reversed).",
    )
    appeal_refuse_reasons: ReasonList = Field(
        default_factory=lambda: list(DEFAULT_APPEAL_REFUSE_REASONS),
        description="Reasons a reviewer picks from when refusing an appeal (the deduction stands).",
    )
    subject_ref_pattern: str = Field(
        SUBJECT_REF_PATTERN,
        max_length=200,
        description="Regular expression a subject reference (an opaque id typed by the reviewer) must match.",
    )
    note_max_chars: int = Field(2000, ge=0, le=20_000, description="Longest free-text note on a decision.")
    console: ConsoleConfig = Field(
        default_factory=ConsoleConfig,
        description="The reviewer console: sessions, login limits, trusted reverse proxies and request size.",
    )
    editor: EditorSettings = Field(
        default_factory=EditorSettings,
        description="The console's zone editor: video folders and streams it may open, the camera files folder "
        "and the detector that redacts what it shows.",
    )

    @field_validator("confirm_reasons", "reject_reasons", "appeal_grant_reasons", "appeal_refuse_reasons")
    @classmethod
    def _reasons_unique(cls, reasons: list[str]) -> list[str]:
        for reason in reasons:
            if not reason.strip() or len(reason) > 120:
                raise ValueError(f"reason {reason!r} must be 1 to 120 characters")
        if len(set(reasons)) != len(reasons):
            raise ValueError("reasons must not repeat")
        return reasons

    def appeal_reasons(self, grant: bool) -> list[str]:
        """The reasons that fit an appeal's outcome: granted (the deduction reversed) or refused (it stands)."""
        return self.appeal_grant_reasons if grant else self.appeal_refuse_reasons

    @field_validator("subject_ref_pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from exc
        return pattern

    @model_validator(mode="after")
    def _window_inside_expiry(self) -> CentralSettings:
        if self.appeal_window_days > self.points_expiry_days:
            raise ValueError("appeal_window_days must not exceed points_expiry_days")
        return self

    @property
    def database_url(self) -> str:
        return self.db_url or default_db_url(self.data_dir)

    @property
    def evidence_path(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    @property
    def checkpoint_path(self) -> Path:
        return self.checkpoint_dir or self.data_dir / "checkpoints"

    def open_evidence(self, folder: Path | None = None) -> EvidenceStore:
        """The evidence store these settings choose: the object store when one is set, else the folder
        `folder` (a command's own option) or evidence_path. Raises ValueError when the object store's client or
        secret is missing."""
        if self.object_store is not None:
            return S3EvidenceStore(self.object_store)
        return FolderEvidenceStore(folder or self.evidence_path)


def load_settings(path: str | Path | None = None) -> CentralSettings:
    """Settings from a YAML file, or the defaults when `path` is None. Raises ConfigError with one line per
    problem. The checkpoint folder defaults to one beside the file: the key that vouches for the ledger
    belongs with the settings an operator guards, not with the data a database administrator can write."""
    if path is None:
        return CentralSettings()
    origin = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(origin, [f"cannot read: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(origin, [f"not valid YAML: {exc}"]) from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(origin, ["the top level must be a mapping of setting names to values"])
    data.setdefault("checkpoint_dir", Path(path).parent / "checkpoints")
    try:
        return CentralSettings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(origin, format_validation_error(exc, CentralSettings)) from exc
