"""Patterns that validate input in central match the whole text: under re.match, `$` also matches before a final
newline, so a name with one trailing newline passed as a different name that prints like the first."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from central.console.auth import AuthError, add_user
from central.console.zone_editor.draft import file_path
from central.db import transaction
from central.editor_settings import EditorStream
from central.evidence_store import EvidenceError, key_of
from models.signing import SigningKeyError, generate_keypair
from models.topics import TopicError, evidence_topic, infraction_topic, parse_topic
from tests.review_support import factory_fixture  # noqa: F401  (fixture "factory")

USUAL = "username must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def test_a_username_with_a_trailing_newline_is_refused(factory) -> None:
    """Issue 23 §8: "rev1\\n" was a second account beside rev1, shown as rev1."""
    with transaction(factory) as s:
        add_user(s, "rev1", "plenty-long-pass-91", "reviewer", issued_by="root")
    with transaction(factory) as s, pytest.raises(AuthError, match=USUAL):
        add_user(s, "rev1\n", "plenty-long-pass-92", "reviewer", issued_by="root")


def test_other_names_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    """Issue 23 §8: the same `$` let a newline follow a camera file name, an evidence digest and a stream URL."""
    with pytest.raises(ValueError, match="file name must be"):
        file_path(tmp_path, "north\n")
    with pytest.raises(EvidenceError, match="is not a sha256 digest"):
        key_of("ab" * 32 + "\n")
    with pytest.raises(ValidationError, match="must be a stream URL"):
        EditorStream(name="gate", url="rtsp://camera/stream\n")


def test_topic_and_key_names_with_a_trailing_newline_are_refused(tmp_path: Path) -> None:
    """Issue 23 §8 follow-up: models/topics.py and models/signing.py checked ids and digests with re.match too."""
    with pytest.raises(TopicError, match="camera 'cam1\\\\n' is not a valid id"):
        infraction_topic("site", "cam1\n")
    with pytest.raises(TopicError, match="is not 64 lowercase hex digits"):
        evidence_topic("site", "cam1", "ab" * 32 + "\n")
    with pytest.raises(TopicError, match="site 'site\\\\n' is not a valid id"):
        parse_topic("curbwatch/v1/site\n/cam1/infraction")
    with pytest.raises(SigningKeyError, match="camera id 'cam1\\\\n' is not valid"):
        generate_keypair("cam1\n", tmp_path)
    assert not list(tmp_path.iterdir())
