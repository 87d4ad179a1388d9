"""Evidence downloads with a Range header in a unit other than bytes: RFC 9110 (section 14.2) has a server ignore
it and send the whole representation with 200, and a whole download is a view of its own in the audit log."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.console_support import cut_evidence, make_central, seed, serve
from tests.test_console_hardening import bearer, views


def test_a_range_in_another_unit_is_a_whole_download_and_audited(db_url: str, tmp_path: Path) -> None:
    """Issue 23 §11: `Range: items=0-10` got the whole file but, within a viewing, no new evidence.view entry."""
    central = make_central(db_url, tmp_path)
    evidence = cut_evidence(frames=8)
    event_id = seed(central, evidence, kind="littering")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        audrey = bearer(client, "audrey")
        clip = next(e for e in client.get(f"/api/v1/infractions/{event_id}", headers=audrey).json()["evidence"])
        assert client.get(clip["url"], headers={**audrey, "Range": "bytes=0-99"}).status_code == 206
        whole = client.get(clip["url"], headers={**audrey, "Range": "items=0-10"})
        assert whole.status_code == 200 and whole.content == evidence.clip
        assert "content-range" not in whole.headers
        seen = views(central, "audrey")
        assert [view.get("range") for view in seen] == ["bytes=0-99", None]
        assert {view["sha256"] for view in seen} == {clip["sha256"]}
