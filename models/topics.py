"""MQTT topic names (DESIGN.md section 4): builders for the edge, a parser for central."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

from models.base import IDENT_PATTERN, SHA256_PATTERN
from models.errors import InputError

DEFAULT_PREFIX = "curbwatch/v1"
_IDENT = re.compile(IDENT_PATTERN)
_SHA256 = re.compile(SHA256_PATTERN)

TopicKind = Literal["infraction", "evidence", "status", "item"]


class TopicError(InputError, ValueError):
    """A topic that is not one of curbwatch's, with the reason."""


def _check_ident(kind: str, value: str) -> str:
    if not _IDENT.fullmatch(value):
        raise TopicError(f"{kind} {value!r} is not a valid id (letters, digits, '_' or '-', at most 64)")
    return value


def _base(prefix: str, site: str, camera: str) -> str:
    return f"{prefix.rstrip('/')}/{_check_ident('site', site)}/{_check_ident('camera', camera)}"


def infraction_topic(site: str, camera: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{_base(prefix, site, camera)}/infraction"


def evidence_topic(site: str, camera: str, sha256: str, prefix: str = DEFAULT_PREFIX) -> str:
    if not _SHA256.fullmatch(sha256):
        raise TopicError(f"evidence sha256 {sha256!r} is not 64 lowercase hex digits")
    return f"{_base(prefix, site, camera)}/evidence/{sha256}"


def status_topic(site: str, camera: str, prefix: str = DEFAULT_PREFIX) -> str:
    return f"{_base(prefix, site, camera)}/status"


def item_topic(site: str, camera: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where the camera says what became of a littering event's item (models/item_status.py)."""
    return f"{_base(prefix, site, camera)}/item"


def receipt_topic(site: str, camera: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where central confirms what it stored for this camera; only central writes it, only the camera reads it."""
    return f"{_base(prefix, site, camera)}/receipt"


def is_receipt_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> bool:
    """True for any camera's receipt topic: central reads its own receipts back through its subscription."""
    head = prefix.rstrip("/") + "/"
    parts = topic[len(head) :].split("/") if topic.startswith(head) else []
    return len(parts) == 3 and parts[2] == "receipt"


def subscription(prefix: str = DEFAULT_PREFIX, share_group: str | None = None) -> str:
    """The filter central subscribes with; a share group makes it an MQTT 5 shared subscription."""
    topic = f"{prefix.rstrip('/')}/#"
    return f"$share/{share_group}/{topic}" if share_group else topic


@dataclass(frozen=True)
class Topic:
    kind: TopicKind
    site: str
    camera: str
    sha256: str | None = None


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> Topic:
    """Split a received topic into its parts, or raise TopicError saying what is wrong with it."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head):
        raise TopicError(f"topic {topic!r} is outside the prefix {prefix!r}")
    parts = topic[len(head) :].split("/")
    if len(parts) < 3:
        raise TopicError(f"topic {topic!r} has too few levels")
    site, camera, kind, *rest = parts
    _check_ident("site", site)
    _check_ident("camera", camera)
    if kind in ("infraction", "status", "item") and not rest:
        return Topic(cast(TopicKind, kind), site, camera)
    if kind == "evidence" and len(rest) == 1:
        if not _SHA256.fullmatch(rest[0]):
            raise TopicError(f"evidence topic {topic!r} does not end in a sha256")
        return Topic("evidence", site, camera, rest[0])
    raise TopicError(f"topic {topic!r} is not an infraction, evidence, status or item topic")


def parse_topic_any_prefix(topic: str) -> Topic | None:
    """The parts of a curbwatch topic under whatever prefix it has (a quarantined message's topic is kept as it
    came, and a report does not know each worker's prefix); None when no prefix makes it one of curbwatch's."""
    parts = topic.split("/")
    # Kind last (infraction, status, item), or evidence then its sha256.
    for levels in (3, 4):
        if len(parts) > levels:
            try:
                return parse_topic(topic, "/".join(parts[:-levels]))
            except TopicError:
                continue
    return None
