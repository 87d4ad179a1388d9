"""Subject references stay out of URLs and log lines (issue 23 §2, DESIGN.md section 5): a subject-record
session through `curbwatch central serve` as an operator runs it (uvicorn's access log on, everything the
process writes going to one log file), then a grep of that log for the reference."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx

from central.console.url_privacy import SubjectRedactingFilter, names_subject, redact_text
from tests.conftest import ROOT
from tests.console_support import PASSWORDS, cut_evidence, free_port, make_central, seed, wait_console

SUBJECT = "SUBJ-M2"


def test_redaction_of_query_strings_in_log_text() -> None:
    line = '127.0.0.1:5 - "GET /ledger?site=x&subject=SUBJ-M2&subj%65ct=SUBJ-M2&Subject_ref=SUBJ-M2 HTTP/1.1" 400'
    redacted = redact_text(line)
    assert SUBJECT not in redacted
    assert "site=x&subject=[redacted]&subj%65ct=[redacted]&Subject_ref=[redacted] HTTP/1.1" in redacted
    assert redact_text("GET /queue?camera=cam-1&age=gt7d") == "GET /queue?camera=cam-1&age=gt7d"
    assert names_subject("a=1&SUBJECT=2") and names_subject("sub%6aect=x") and not names_subject("site=subject")

    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/subject-report/download?subject={SUBJECT}&site=aboda", "1.1", 400), None,
    )  # fmt: skip
    assert SubjectRedactingFilter().filter(record)
    assert (
        record.getMessage() == '127.0.0.1:5 - "GET /subject-report/download?subject=[redacted]&site=aboda HTTP/1.1" 400'
    )


def _sign_in_page(client: httpx.Client, name: str) -> None:
    form = client.get("/login").text
    csrf = form.split('name="csrf_token" value="')[1].split('"')[0]
    signed = client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": csrf})
    assert signed.status_code in (200, 303), signed.text


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


def test_a_subject_record_session_leaves_the_reference_in_no_url_and_no_log_line(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    central = make_central(db_url, tmp_path)
    event_id = seed(central, cut_evidence(), kind="jaywalking", site="aboda")
    settings = tmp_path / "central.yaml"
    settings.write_text(f"data_dir: {tmp_path}\n")
    log_path = tmp_path / "central.log"
    port = free_port()
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "curbwatch", "central", "serve", "--db", db_url, "--settings", str(settings),
             "--http", f"127.0.0.1:{port}", "--evidence", str(tmp_path / "evidence")],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_console(base, server, log_path.read_text)
            _session(base, event_id)
        finally:
            server.terminate()
            server.wait(20)
    lines = log_path.read_text().splitlines()
    assert any("POST /subject-report/download" in line for line in lines), "the access log was on"
    assert any("subject=[redacted]" in line for line in lines), "a reference sent in a URL is logged redacted"
    leaking = [line for line in lines if SUBJECT in line]
    assert leaking == [], leaking


def _session(base: str, event_id: str) -> None:
    with httpx.Client(base_url=base, timeout=30) as api:
        token = api.post("/api/v1/session", json={"username": "alice", "password": PASSWORDS["alice"]}).json()
        alice = {"Authorization": f"Bearer {token['token']}"}
        decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": SUBJECT, "version": 0}
        decided = api.post(f"/api/v1/infractions/{event_id}/decision", json=decision, headers=alice)
        assert decided.json()["review_state"] == "confirmed", decided.text
        found = api.post("/api/v1/ledger/search", json={"subject": SUBJECT, "site": "aboda"}, headers=alice).json()
        assert [e["subject_ref"] for e in found["entries"]] == [SUBJECT] and found["balances"] == {"aboda": 2}
        assert SUBJECT not in api.get("/api/v1/ledger", headers=alice).url.query.decode()

    with httpx.Client(base_url=base, timeout=30) as audrey:
        _sign_in_page(audrey, "audrey")
        # The ledger page: the filter form and each reference shown are POST forms.
        ledger = audrey.get("/ledger")
        assert ledger.status_code == 200 and f"?subject={SUBJECT}" not in ledger.text
        assert 'method="post" action="/ledger"' in ledger.text
        shown = audrey.post("/ledger", data={"subject": SUBJECT, "site": "", "csrf_token": _csrf(ledger.text)})
        assert shown.status_code == 200 and 'class="balance" data-site="aboda">2<' in shown.text
        # The subject record: the form posts, the download comes back, and neither URL holds the reference.
        form = audrey.get("/subject-report")
        assert 'method="post" action="/subject-report/download"' in form.text
        record = audrey.post(
            "/subject-report/download", data={"subject": SUBJECT, "site": "aboda", "csrf_token": _csrf(form.text)}
        )
        assert record.status_code == 200 and f"Record held about {SUBJECT}" in record.text
        assert SUBJECT not in str(record.url) and SUBJECT not in record.headers["content-disposition"]
        # Without the CSRF token: refused, like every other form.
        assert audrey.post("/subject-report/download", data={"subject": SUBJECT, "site": "aboda"}).status_code == 403
        # A bad reference: the error page does not repeat it.
        bad = "SUBJ M2<x>"
        refused = audrey.post("/ledger", data={"subject": bad, "csrf_token": _csrf(form.text)})
        assert refused.status_code == 422 and bad not in refused.text and "SUBJ M2" not in refused.text
        # The old URLs, and variants of the name: 400, the value not repeated (and redacted in the access log).
        for url in (
            f"/ledger?subject={SUBJECT}",
            f"/subject-report/download?subject={SUBJECT}&site=aboda",
            f"/api/v1/ledger?subject={SUBJECT}",
            f"/ledger?Subject={SUBJECT}",
            f"/ledger?site=aboda&subj%65ct={SUBJECT}",
        ):
            answer = audrey.get(url)
            assert answer.status_code == 400 and SUBJECT not in answer.text, (url, answer.text)
