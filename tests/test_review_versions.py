"""A decision means what the reviewer saw (issue 29): every review move names the item's version it was made on
and is refused with 409, saying what changed, when and by whom, once the item has moved on; a second review is
its own step; the queue and "next item" offer a reviewer only what they can take. Through the API and the
console's forms, on SQLite and PostgreSQL, and a race on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from central import decisions
from central.db import transaction
from central.ledger import service as ledger
from central.review import service as review
from central.review.moves import ItemChanged
from central.review.roles import Actor
from tests.console_support import bearer, make_central, page_session, seed, serve
from tests.review_support import SETTINGS, T0, add_infraction, factory_fixture  # noqa: F401  (fixture "factory")

MIN = timedelta(minutes=1)
CONFIRM_A = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "subj-A"}
CONFIRM = {"decision": "confirm", "reason": "clear evidence"}
REJECT = {"decision": "reject", "reason": "not an infraction"}


def hidden_version(page: str, form_id: str) -> int:
    form = page.split(f'id="{form_id}"')[1].split("</form>")[0]
    return int(form.split('name="version" value="')[1].split('"')[0])


def test_a_confirmation_read_on_a_pending_item_never_becomes_a_second_confirmation(db_url: str, tmp_path: Path):
    """The issue's sequence, without any race: rev2 reads the item pending; rev1 confirms it naming subj-A; rev2's
    confirmation, made on what they read, is refused instead of writing rev1's deduction under rev2's name."""
    central = make_central(db_url, tmp_path)
    litter, jay = seed(central, kind="littering"), seed(central, kind="jaywalking")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        alice, bob = bearer(client, "alice"), bearer(client, "bob")
        seen = client.get(f"/api/v1/infractions/{litter}", headers=bob).json()
        assert (seen["review_state"], seen["history"], seen["version"]) == ("pending", [], 0)

        first = client.post(f"/api/v1/infractions/{litter}/decision", json={**CONFIRM_A, "version": 0}, headers=alice)
        assert first.json() == {"event_id": litter, "review_state": "awaiting_second", "version": 2}, first.text

        stale = client.post(f"/api/v1/infractions/{litter}/decision", json={**CONFIRM, "version": 0}, headers=bob)
        assert stale.status_code == 409, stale.text
        detail = stale.json()["detail"]
        assert f"item {litter} changed after you read it at version 0" in detail
        assert "claimed by alice (reviewer) at " in detail
        assert "confirmed with a subject reference (awaiting a second review) by alice (first reviewer) at " in detail
        assert "It is now at version 2, awaiting second: reload it" in detail
        assert "subj-A" not in detail
        # The same decision as a reject is refused alike: it was meant for a pending item.
        stale_reject = client.post(f"/api/v1/infractions/{litter}/decision", json={**REJECT, "version": 0}, headers=bob)
        assert stale_reject.status_code == 409 and "changed after you read it" in stale_reject.json()["detail"]
        # Nothing moved and nothing was deducted.
        after = client.get(f"/api/v1/infractions/{litter}", headers=bob).json()
        assert (after["review_state"], after["version"]) == ("awaiting_second", 2)
        with transaction(central.factory) as session:
            assert ledger.entries(session) == []

        # Without a version the move is refused, naming the field.
        unversioned = client.post(f"/api/v1/infractions/{litter}/decision", json=CONFIRM, headers=bob)
        assert unversioned.status_code == 422
        assert any(problem["loc"][-1] == "version" for problem in unversioned.json()["detail"]), unversioned.text

        # Even on the current version, a first-review decision is not taken as the second review...
        first_review = client.post(
            f"/api/v1/infractions/{litter}/decision", json={**CONFIRM, "version": 2}, headers=bob
        )
        assert first_review.status_code == 409 and "send yours as a second review" in first_review.json()["detail"]
        # ...nor a second review made on an item in its first review.
        no_first = client.post(f"/api/v1/infractions/{jay}/second-review", json={**CONFIRM, "version": 0}, headers=bob)
        assert no_first.status_code == 409 and "would be its first review" in no_first.json()["detail"]

        second = client.post(f"/api/v1/infractions/{litter}/second-review", json={**CONFIRM, "version": 2}, headers=bob)
        assert second.json() == {"event_id": litter, "review_state": "confirmed", "version": 4}, second.text
        with transaction(central.factory) as session:
            [entry] = ledger.entries(session)
            assert (entry.subject_ref, entry.decided_by, entry.second_by) == ("subj-A", "alice", "bob")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_confirmation_with_a_subject_racing_a_reject_one_of_them_wins(db_url: str, tmp_path: Path):
    """Both made on the pending item they read (version 0), sent at once: one is taken, the other refused with
    409. Before versions, the reject became a second-review rejection of the confirmation (both 200)."""
    central = make_central(db_url, tmp_path)
    rounds = [seed(central, kind="littering") for _ in range(12)]
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as signer:
        heads = {"alice": bearer(signer, "alice"), "bob": bearer(signer, "bob")}
        bodies = {"alice": {**CONFIRM_A, "version": 0}, "bob": {**REJECT, "version": 0}}
        for event_id in rounds:
            barrier, answers = threading.Barrier(2), {}

            def send(who: str, event_id: str = event_id, barrier=barrier, answers=answers) -> None:
                with httpx.Client(base_url=base, timeout=30) as client:
                    barrier.wait()
                    answers[who] = client.post(
                        f"/api/v1/infractions/{event_id}/decision", json=bodies[who], headers=heads[who]
                    )

            threads = [threading.Thread(target=send, args=(who,)) for who in bodies]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            codes = sorted(answer.status_code for answer in answers.values())
            assert codes == [200, 409], {who: answer.text for who, answer in answers.items()}
            winner = next(who for who, answer in answers.items() if answer.status_code == 200)
            with transaction(central.factory) as session:
                moves = [(step.actor, step.action) for step in review.history(session, event_id)]
            assert moves == [(winner, "claim"), (winner, "refer" if winner == "alice" else "reject")]
        with transaction(central.factory) as session:
            assert ledger.entries(session) == []


def test_every_move_names_its_version(db_url: str, tmp_path: Path):
    """Claim, reassign and reopen made on an older version are refused with what changed since; on the current
    one they are taken. A renewed claim leaves the version as it is."""
    central = make_central(db_url, tmp_path)
    jay = seed(central, kind="jaywalking")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        alice, bob, sam = (bearer(client, n) for n in ("alice", "bob", "sam"))
        given = client.post(
            f"/api/v1/infractions/{jay}/reassign", json={"to_reviewer": "bob", "version": 0}, headers=sam
        )
        assert given.status_code == 200 and given.json()["version"] == 1
        late = client.post(f"/api/v1/infractions/{jay}/claim", json={"version": 0}, headers=alice)
        assert late.status_code == 409 and "reassigned to bob by sam (supervisor) at " in late.json()["detail"]
        renewed = client.post(f"/api/v1/infractions/{jay}/claim", json={"version": 1}, headers=bob)
        assert renewed.status_code == 200 and renewed.json()["version"] == 1
        rejected = client.post(f"/api/v1/infractions/{jay}/decision", json={**REJECT, "version": 1}, headers=bob)
        assert rejected.json()["version"] == 2
        reopen = {"reason": "look again", "version": 1}
        stale = client.post(f"/api/v1/infractions/{jay}/reopen", json=reopen, headers=sam)
        assert stale.status_code == 409 and "rejected by bob (reviewer) at " in stale.json()["detail"]
        taken = client.post(f"/api/v1/infractions/{jay}/reopen", json={**reopen, "version": 2}, headers=sam)
        assert taken.json() == {"event_id": jay, "review_state": "pending", "version": 3}
        unknown = client.post(f"/api/v1/infractions/{jay}/claim", json={"version": 9}, headers=alice)
        assert unknown.status_code == 409 and "has no version 9" in unknown.json()["detail"]
        assert client.post(f"/api/v1/infractions/{jay}/claim", json={}, headers=alice).status_code == 422


def test_an_appeal_decided_on_an_older_version_is_refused(factory):
    with transaction(factory) as s:
        event_id = add_infraction(s, type="jaywalking")
        review.claim(s, event_id, Actor("alice", "reviewer"), T0, SETTINGS)
        decisions.decide(
            s, event_id, Actor("alice", "reviewer"), "confirm", "clear evidence", "", "case-1", T0, SETTINGS
        )
        [entry] = ledger.entries(s)
        appeal = ledger.open_appeal(s, entry.seq, "clerk", "not me", T0 + MIN, SETTINGS)
        seen = review.version(s, event_id)
    assert seen == 3
    with transaction(factory) as s:
        ledger.decide_appeal(
            s, appeal.id, Actor("sam", "supervisor"), True, "deduction stands: evidence clear", "", T0 + 2 * MIN,
            SETTINGS, version=seen,
        )  # fmt: skip
    refused = r"appeal refused \(the deduction stands\) by sam \(appeal reviewer\)"
    with pytest.raises(ItemChanged, match=refused), transaction(factory) as s:
        ledger.decide_appeal(
                s, appeal.id, Actor("sue", "supervisor"), False, "circumstances justify it", "", T0 + 3 * MIN,
                SETTINGS, version=seen,
            )  # fmt: skip


def test_the_console_forms_send_the_version_the_page_showed(tmp_path: Path):
    """The item page's forms carry the version; a form sent after the item moved on is refused (409) and the page
    shown again says what changed and offers the second review as its own step."""
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    litter = seed(central, kind="littering")
    with (
        serve(central) as base,
        httpx.Client(base_url=base, timeout=30) as alice,
        httpx.Client(base_url=base, timeout=30) as bob,
    ):
        alice_csrf, bob_csrf = page_session(alice, "alice"), page_session(bob, "bob")
        bob_page = bob.get(f"/items/{litter}").text
        assert hidden_version(bob_page, "confirm-form") == 0 and hidden_version(bob_page, "reject-form") == 0
        alice_page = alice.get(f"/items/{litter}").text
        form = {"csrf_token": alice_csrf, "version": hidden_version(alice_page, "confirm-form"), **CONFIRM_A}
        assert alice.post(f"/items/{litter}/decision", data=form).status_code == 303

        refused = bob.post(f"/items/{litter}/decision", data={"csrf_token": bob_csrf, "version": 0, **CONFIRM})
        assert refused.status_code == 409
        assert "changed after you read it at version 0" in refused.text and "alice (first reviewer)" in refused.text
        # The page shown again is the second review's: its own forms, on the new version.
        assert 'id="confirm-form"' not in refused.text
        assert hidden_version(refused.text, "second-confirm-form") == 2
        assert 'action="/items/' + litter + '/second-review"' in refused.text
        with transaction(central.factory) as session:
            assert review.history(session, litter)[-1].action == "refer"

        # The first reviewer is offered no second-review form, and the item is not in their queue.
        mine = alice.get(f"/items/{litter}").text
        assert 'id="own-referral"' in mine and 'id="second-confirm-form"' not in mine
        assert litter not in alice.get("/queue").text and litter in bob.get("/queue").text

        second = {"csrf_token": bob_csrf, "version": 2, **CONFIRM}
        assert bob.post(f"/items/{litter}/second-review", data=second).status_code == 303
        assert "version" in bob.post(f"/items/{litter}/claim", data={"csrf_token": bob_csrf}).text


def test_the_queue_and_next_item_offer_only_what_the_reviewer_can_take(factory):
    """Not the items one referred (one may not give their second review), not those another reviewer holds a live
    claim on; one's own claimed items are in."""
    with transaction(factory) as s:
        referred, claimed_by_bob, mine, free = (add_infraction(s, started_at=T0 + i * MIN) for i in range(4))
    with transaction(factory) as s:
        alice, bob = Actor("alice", "reviewer"), Actor("bob", "reviewer")
        review.claim(s, referred, alice, T0, SETTINGS)
        decisions.decide(s, referred, alice, "confirm", "clear evidence", "", "case-1", T0, SETTINGS.model_copy(
            update={"second_review_points": 1}
        ))  # fmt: skip
        review.claim(s, claimed_by_bob, bob, T0, SETTINGS)
        review.claim(s, mine, alice, T0, SETTINGS)
    with transaction(factory) as s:
        assert [i.event_id for i in review.queue(s, now=T0 + MIN, for_reviewer="alice")] == [mine, free]
        assert [i.event_id for i in review.queue(s, now=T0 + MIN, for_reviewer="bob")] == [
            referred,
            claimed_by_bob,
            free,
        ]
        # Once claims expire the items are free for everyone again; one's own referral never is.
        later = T0 + 11 * MIN
        assert [i.event_id for i in review.queue(s, now=later, for_reviewer="alice")] == [claimed_by_bob, mine, free]
