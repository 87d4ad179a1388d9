"""Console hardening, each against a real server (and a real browser for pages): evidence fetched in byte ranges
is audited, admin-made accounts get one-time passwords and a second review by two accounts one admin issued is
refused, login limits behind a trusted proxy, request body cap, Swagger UI served from here, bounded ids,
security headers on every answer, HSTS, usernames unique ignoring case, weak passwords refused."""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from central import audit
from central.console.auth import add_user
from central.console_settings import ConsoleConfig
from central.db import transaction
from tests.console_support import PASSWORDS, bearer, cut_evidence, make_central, page_session, seed, serve
from tests.test_console_browser import login

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def evidence():
    return cut_evidence(frames=8)


def views(central, actor: str) -> list[dict]:
    with transaction(central.factory) as session:
        return [e.details for e in audit.entries(session, actor=actor, action="evidence.view", limit=None)]


def test_every_range_that_carries_evidence_is_audited(db_url: str, tmp_path: Path, evidence) -> None:
    central = make_central(db_url, tmp_path)
    event_id = seed(central, evidence, kind="littering")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        audrey, sam = bearer(client, "audrey"), bearer(client, "sam")
        clip = next(e for e in client.get(f"/api/v1/infractions/{event_id}", headers=audrey).json()["evidence"])
        # A suffix range as long as the file is the whole file, without starting at byte 0.
        whole = client.get(clip["url"], headers={**audrey, "Range": "bytes=-100000000"})
        assert whole.status_code == 206 and len(whole.content) == len(evidence.clip)
        assert [d["sha256"] for d in views(central, "audrey")] == [clip["sha256"]]
        assert views(central, "audrey")[0]["range"] == "bytes=-100000000"
        multi = client.get(clip["url"], headers={**sam, "Range": "bytes=1-,0-0"})
        assert multi.status_code == 206 and len(views(central, "sam")) == 1
        # Further ranges of the same evidence by the same person belong to that viewing...
        for byte_range in ("bytes=0-", "bytes=100-200"):
            assert client.get(clip["url"], headers={**audrey, "Range": byte_range}).status_code == 206
        assert len(views(central, "audrey")) == 1
        # ...but a whole download is always a view of its own.
        assert client.get(clip["url"], headers=audrey).status_code == 200
        assert len(views(central, "audrey")) == 2
    with serve(central, ConsoleConfig(evidence_view_group_s=0)) as base, httpx.Client(base_url=base) as client:
        audrey = bearer(client, "audrey")
        assert client.get(clip["url"], headers={**audrey, "Range": "bytes=5-"}).status_code == 206
        assert len(views(central, "audrey")) == 3


def test_admin_made_accounts_get_one_time_passwords(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        root = bearer(client, "root")
        chosen = client.post(
            "/api/v1/users", json={"username": "rex", "role": "reviewer", "password": "rex-password-77"}, headers=root
        )
        assert chosen.status_code == 422  # an admin may no longer choose the password
        made = client.post("/api/v1/users", json={"username": "rex", "role": "reviewer"}, headers=root)
        assert made.status_code == 201, made.text
        one_time = made.json()["one_time_password"]
        assert made.json()["must_change_password"] is True and len(one_time) >= 16
        rex = bearer(client, "rex", one_time)
        refused = client.get("/api/v1/queue", headers=rex)
        assert refused.status_code == 403 and "/api/v1/me/password" in refused.json()["detail"]
        weak = client.post("/api/v1/me/password", json={"current": one_time, "new": " " * 10}, headers=rex)
        assert weak.status_code == 422 and "blank" in weak.json()["detail"]
        changed = client.post("/api/v1/me/password", json={"current": one_time, "new": "rex-own-pass-8"}, headers=rex)
        assert changed.status_code == 204, changed.text
        assert client.get("/api/v1/queue", headers=rex).status_code == 200
    with transaction(central.factory) as session:
        [added] = audit.entries(session, action="user.add", limit=None)
        [change] = audit.entries(session, action="user.password_change", limit=None)
    assert (added.actor, added.target, added.details) == (
        "root",
        "rex",
        {"role": "reviewer", "one_time": True, "credential_issuer": "root"},
    )
    assert (change.actor, change.details) == ("rex", {"one_time": True})


def test_the_users_page_shows_the_one_time_password_once(browser: Browser, tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with serve(central) as base:
        admin = login(browser, base, "root")
        admin.goto("/admin/users")
        expect(admin.locator("input[name=password]")).to_have_count(0)
        admin.fill("input[name=username]", "rita")
        admin.select_option("select[name=role]", "reviewer")
        admin.click("form.stacked button[type=submit]")
        one_time = admin.locator("#one-time-password code").inner_text()
        assert len(one_time) >= 16
        admin.goto("/admin/users")
        expect(admin.locator("#one-time-password")).to_have_count(0)
        expect(admin.locator("tr", has_text="rita")).to_contain_text("one-time, not yet replaced")

        rita = browser.new_context(base_url=base).new_page()
        rita.goto("/login")
        rita.fill("input[name=username]", "rita")
        rita.fill("input[name=password]", one_time)
        rita.click("button[type=submit]")
        expect(rita).to_have_url(re.compile(r"/account/password$"))
        rita.goto("/queue")
        expect(rita).to_have_url(re.compile(r"/account/password$"))


def test_a_second_review_by_one_admins_accounts_is_refused(db_url: str, tmp_path: Path, evidence) -> None:
    central = make_central(db_url, tmp_path)
    flagged, clean = seed(central, evidence, kind="littering"), seed(central, evidence, kind="littering")
    # Accounts as an admin made them before one-time passwords: a password root chose, never replaced.
    with transaction(central.factory) as session:
        for name, role in (("rev1", "reviewer"), ("sup1", "supervisor")):
            add_user(session, name, f"{name}-chosen-by-root", role, issued_by="root")
            audit.record(session, "root", "user.add", target=name, details={"role": role})
    decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "case-7", "version": 0}
    second = {**decision, "version": 2}
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        rev1 = bearer(client, "rev1", "rev1-chosen-by-root")
        sup1 = bearer(client, "sup1", "sup1-chosen-by-root")
        answer = client.post(f"/api/v1/infractions/{flagged}/decision", json=decision, headers=rev1)
        assert answer.json()["review_state"] == "awaiting_second", answer.text
        refused = client.post(f"/api/v1/infractions/{flagged}/second-review", json=second, headers=sup1)
        assert refused.status_code == 409 and "were issued by root" in refused.json()["detail"]
        for name, step, body, state in (
            ("alice", "decision", decision, "awaiting_second"),
            ("bob", "second-review", second, "confirmed"),
        ):
            answer = client.post(f"/api/v1/infractions/{clean}/{step}", json=body, headers=bearer(client, name))
            assert answer.json()["review_state"] == state, answer.text
        audrey = bearer(client, "audrey")
        assert client.get(f"/api/v1/infractions/{flagged}", headers=audrey).json()["warnings"] == []
        assert client.get(f"/api/v1/infractions/{clean}", headers=audrey).json()["warnings"] == []
        token = client.get("/login").cookies["cw_login_csrf"]
        client.post("/login", data={"username": "sup1", "password": "sup1-chosen-by-root", "csrf_token": token})
        assert "You cannot give the second confirmation" in client.get(f"/items/{flagged}").text


def test_login_limits_behind_a_trusted_proxy(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)

    def attempt(client: httpx.Client, name: str, password: str, client_ip: str) -> int:
        return client.post(
            "/api/v1/session", json={"username": name, "password": password}, headers={"X-Forwarded-For": client_ip}
        ).status_code

    # Without trusted proxies the header is the caller's say-so: ignored, everyone is 127.0.0.1.
    with serve(central, ConsoleConfig(login_max_failures=2)) as base, httpx.Client(base_url=base) as client:
        assert [attempt(client, "sam", "guess-guess", f"10.9.0.{n}") for n in (1, 2)] == [401, 401]
        assert attempt(client, "sam", PASSWORDS["sam"], "10.9.0.3") == 429

    config = ConsoleConfig(
        trusted_proxies=["127.0.0.1"],
        login_max_failures=3,
        login_address_max_failures=4,
        login_user_backoff_after=4,
        login_window_s=600,
    )
    with serve(central, config) as base, httpx.Client(base_url=base) as client:
        # One client's mistakes lock out that client only.
        assert [attempt(client, "bob", "guess-guess", "10.0.0.1") for _ in range(3)] == [401] * 3
        assert attempt(client, "bob", PASSWORDS["bob"], "10.0.0.1") == 429
        assert attempt(client, "bob", PASSWORDS["bob"], "10.0.0.2") == 200
        # The nearest untrusted hop is the client; what it claims before that may be forged.
        assert attempt(client, "audrey", PASSWORDS["audrey"], "6.6.6.6, 10.0.0.7") == 200

        # Many addresses against one username: from the fourth failure on, each one doubles a wait (1 s, 2 s).
        assert [attempt(client, "alice", "guess-guess", f"10.1.0.{n}") for n in range(4)] == [401] * 4
        assert attempt(client, "alice", PASSWORDS["alice"], "10.1.0.98") == 429
        time.sleep(1.2)
        assert attempt(client, "alice", "guess-again", "10.1.0.97") == 401
        assert attempt(client, "alice", PASSWORDS["alice"], "10.1.0.98") == 429
        time.sleep(2.2)
        assert attempt(client, "alice", PASSWORDS["alice"], "10.1.0.98") == 200

        # One address against many usernames: the fifth try is refused whatever the name.
        tries = [attempt(client, name, "guess-guess", "10.2.0.1") for name in ("sam", "root", "nobody", "x")]
        assert tries == [401] * 4
        assert attempt(client, "root", PASSWORDS["root"], "10.2.0.1") == 429
        assert attempt(client, "root", PASSWORDS["root"], "10.2.0.2") == 200
    with transaction(central.factory) as session:
        addresses = {(e.actor, e.details["address"]) for e in audit.entries(session, action="login.success")}
    assert {("bob", "10.0.0.2"), ("audrey", "10.0.0.7"), ("root", "10.2.0.2")} <= addresses


def _raw_post(base: str, head: str, body: bytes) -> tuple[int, str]:
    """Send a request head and part of its body, then read the answer without sending the rest."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(head.encode() + body)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with part of the body unread, after answering
    status = int(answer.split(b" ", 2)[1])
    return status, answer.decode("latin-1")


def test_large_bodies_are_refused_before_they_are_read(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with serve(central, ConsoleConfig(max_body_bytes=64 * 1024)) as base:
        host = urlsplit(base).netloc
        # A declared 100 MB body: refused having sent only its first 64 KiB.
        head = (
            f"POST /api/v1/session HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {100 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
        )
        status, answer = _raw_post(base, head, b'{"username": "' + b"a" * 65536)
        assert status == 413 and "over 65536 bytes" in answer
        assert "content-security-policy" in answer.lower()
        # A chunked body without a length: refused once it passes the cap (here after 80 of its KiB).
        head = (
            f"POST /api/v1/session HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        )
        chunk = b"a" * 16384
        status, _answer = _raw_post(base, head, (b"4000\r\n" + chunk + b"\r\n") * 5)
        assert status == 413
        # A login form of many megabytes is an HTML error page; ordinary bodies pass.
        with httpx.Client(base_url=base) as client:
            form = client.post("/login", data={"username": "a" * 200_000, "password": "x", "csrf_token": "t"})
            assert form.status_code == 413 and "<html" in form.text.lower()
            assert bearer(client, "alice")


def test_api_docs_load_nothing_from_elsewhere(browser: Browser, tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with serve(central) as base:
        page = browser.new_context(base_url=base).new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        problems: list[str] = []
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        answer = page.goto("/api/docs")
        assert answer is not None and "script-src 'self'" in answer.headers["content-security-policy"]
        expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
        assert page.locator(".opblock").count() > 20
        assert requested and all(url.startswith(base) for url in requested), requested
        assert not [p for p in problems if "Content Security Policy" in p], problems


def _boom(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")


def test_ids_are_bounded_and_every_answer_has_the_security_headers(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    huge = "99999999999999999999999"
    with serve(central, extend=_boom) as base, httpx.Client(base_url=base) as client:
        csrf = page_session(client, "sam")
        forms = {
            f"/appeals/{huge}/decision": {
                "outcome": "uphold",
                "reason": "evidence confirms the deduction",
                "version": 0,
            },
            f"/ledger/{huge}/appeal": {"reason": "not me"},
            f"/appeals/{2**31}/decision": {
                "outcome": "uphold",
                "reason": "evidence confirms the deduction",
                "version": 0,
            },
        }
        for path, form in forms.items():
            answer = client.post(path, data={**form, "csrf_token": csrf})
            assert answer.status_code == 422, (path, answer.status_code)
            assert all(h in answer.headers for h in SECURITY_HEADERS), path
        root = httpx.Client(base_url=base)
        root_csrf = page_session(root, "root")
        answer = root.post(f"/admin/users/{huge}/active", data={"active": "false", "csrf_token": root_csrf})
        assert answer.status_code == 422
        root.close()
        for path in ("/api/v1/nothing-here", "/items/not-an-id", "/static/none.css"):
            answer = client.get(path)
            assert answer.status_code >= 400 and all(h in answer.headers for h in SECURITY_HEADERS), path
        # The server closes the connection after an unexpected failure: a connection of its own.
        failed = httpx.get(f"{base}/boom")
        assert failed.status_code == 500 and all(h in failed.headers for h in SECURITY_HEADERS)


def test_hsts_only_where_the_cookie_is_secure(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with serve(central) as base, httpx.Client(base_url=base) as client:
        assert "strict-transport-security" not in client.get("/login").headers
        remote = client.get("/login", headers={"Host": "console.example.org"})
        assert remote.headers["strict-transport-security"] == "max-age=31536000"
        assert client.get("/nothing", headers={"Host": "console.example.org"}).headers["strict-transport-security"]
    with serve(central, ConsoleConfig(cookie_secure=False)) as base, httpx.Client(base_url=base) as client:
        assert "strict-transport-security" not in client.get("/login", headers={"Host": "console.example.org"}).headers


def test_usernames_are_one_ignoring_case_and_weak_passwords_are_refused(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    with serve(central) as base, httpx.Client(base_url=base) as client:
        root = bearer(client, "root")
        for name in ("Alice", "ALICE", "ａｌｉｃｅ"):
            clash = client.post("/api/v1/users", json={"username": name, "role": "reviewer"}, headers=root)
            assert clash.status_code in (409, 422), (name, clash.text)
        assert (
            "already exists"
            in client.post("/api/v1/users", json={"username": "Alice", "role": "reviewer"}, headers=root).json()[
                "detail"
            ]
        )
        signed = client.post("/api/v1/session", json={"username": "ALICE", "password": PASSWORDS["alice"]})
        assert signed.status_code == 200 and signed.json()["username"] == "alice"

        alice = {"Authorization": f"Bearer {signed.json()['token']}"}
        weak_ones = (
            (" " * 10, "blank"),
            ("password123", "easy to guess"),
            ("qwertyuiop", "easy to guess"),
            ("0" * 900, "easy"),
        )
        for weak, why in weak_ones:
            answer = client.post(
                "/api/v1/me/password", json={"current": PASSWORDS["alice"], "new": weak}, headers=alice
            )
            assert answer.status_code == 422 and why in answer.json()["detail"], (weak, answer.text)
        csrf = page_session(client, "bob")
        form = {"csrf_token": csrf, "current": PASSWORDS["bob"], "new": " " * 12, "repeat": " " * 12}
        page = client.post("/account/password", data=form)
        assert page.status_code == 422 and "must not be blank" in page.text
