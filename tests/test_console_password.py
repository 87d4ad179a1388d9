"""Changing one's password in the console, and the one-time password the demo's first admin gets: until it is
replaced, every page leads to the change-password form and the API refuses."""

from __future__ import annotations

from pathlib import Path

import httpx

from central import audit
from central.console.first_admin import ensure_first_admin
from central.db import transaction
from tests.console_support import PASSWORDS, make_central, serve


def form_sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    token = client.get("/login").cookies["cw_login_csrf"]
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False
    )


def csrf_of(page: httpx.Response) -> str:
    return page.text.split('name="csrf_token" value="')[1].split('"')[0]


def change(client: httpx.Client, current: str, new: str, repeat: str | None = None) -> httpx.Response:
    csrf = csrf_of(client.get("/account/password"))
    form = {"csrf_token": csrf, "current": current, "new": new, "repeat": new if repeat is None else repeat}
    return client.post("/account/password", data=form, follow_redirects=False)


def test_one_time_password_must_be_replaced_before_anything_else(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    one_time = ensure_first_admin(central.factory, "demo")
    assert one_time and len(one_time) >= 10
    assert ensure_first_admin(central.factory, "demo") is None  # a second start makes no new password
    with serve(central) as base, httpx.Client(base_url=base) as client:
        signed = form_sign_in(client, "admin", one_time)
        assert signed.status_code == 303
        home = client.get(signed.headers["location"], follow_redirects=False)
        assert home.status_code == 303 and home.headers["location"] == "/account/password"
        for page in ("/admin/users", "/audit", "/"):
            assert client.get(page, follow_redirects=False).headers["location"] == "/account/password"
        form = client.get("/account/password")
        assert "one-time password" in form.text

        api = client.post("/api/v1/session", json={"username": "admin", "password": one_time}).json()
        bearer = {"Authorization": f"Bearer {api['token']}"}
        refused = client.get("/api/v1/users", headers=bearer)
        assert refused.status_code == 403 and "/account/password" in refused.json()["detail"]
        spare = client.post("/api/v1/session", json={"username": "admin", "password": one_time}).json()["token"]
        assert client.delete("/api/v1/session", headers={"Authorization": f"Bearer {spare}"}).status_code == 204

        assert "current password is wrong" in change(client, "not-it-at-all", "admin-password-new").text
        assert "differ" in change(client, one_time, "admin-password-new", "admin-password-other").text
        assert "at least 10" in change(client, one_time, "short").text
        done = change(client, one_time, "admin-password-new")
        assert done.status_code == 303 and done.headers["location"] == "/cameras"
        assert client.get("/admin/users").status_code == 200  # this session goes on
        assert client.get("/api/v1/users", headers=bearer).status_code == 401  # other sessions are signed out

    with serve(central) as base, httpx.Client(base_url=base) as client:
        assert form_sign_in(client, "admin", one_time).status_code == 401
        assert form_sign_in(client, "admin", "admin-password-new").headers["location"] == "/cameras"
    with transaction(central.factory) as session:
        actions = [(e.actor, e.action) for e in audit.entries(session, action="user.", limit=None)]
    assert ("demo", "user.add") in actions and ("admin", "user.password_change") in actions


def test_any_user_can_change_their_password(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with serve(central) as base, httpx.Client(base_url=base) as client:
        form_sign_in(client, "alice", PASSWORDS["alice"])
        assert client.get("/queue").status_code == 200  # no change is due for her
        assert 'href="/account/password"' in client.get("/queue").text
        assert change(client, PASSWORDS["alice"], "alice-new-password").headers["location"] == "/queue"
    with serve(central) as base, httpx.Client(base_url=base) as client:
        assert form_sign_in(client, "alice", "alice-new-password").status_code == 303
