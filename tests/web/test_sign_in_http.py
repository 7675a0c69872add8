"""Signing in with a local account, and the attacks on it: guessing, a deactivated person, a forged or replayed cookie."""

from __future__ import annotations

from backoffice.web.security import SESSION_COOKIE

from ..api.live_server import ADMIN
from .site import PASSWORD, csrf_of

REFUSED = "the person id or password is not right"


def _try(site, client, person: str, password: str):
    token = csrf_of(client.get("/sign-in").text)
    return client.post("/sign-in", data={"person": person, "password": password, "csrf_token": token})


def test_the_right_password_signs_in_and_the_page_knows_who_it_is(site):
    client = site.anonymous()
    answer = _try(site, client, "ALICE ", PASSWORD)          # ids are canonical: trimmed and case-folded
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    page = client.get("/me").text
    assert "<h1>Alice</h1>" in page and "alice" in page


def test_a_wrong_password_and_an_unknown_person_get_the_same_refusal(site):
    client = site.anonymous()
    wrong, unknown = _try(site, client, "alice", "not the password"), _try(site, client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert REFUSED in wrong.text and REFUSED in unknown.text
    assert SESSION_COOKIE not in client.cookies
    assert 'value="alice"' in wrong.text                     # the id is kept, never the password
    assert "not the password" not in wrong.text


def test_repeated_wrong_passwords_lock_the_account_then_it_opens_again(site):
    client = site.anonymous()
    for _ in range(5):
        assert _try(site, client, "bea", "guess guess guess").status_code == 401
    # Locked: even the right password is refused, with the same words.
    locked = _try(site, client, "bea", PASSWORD)
    assert locked.status_code == 401 and REFUSED in locked.text
    assert [r.action for r in site.engine.store.audit_records()].count("account.locked") == 1
    site.clock.advance(minutes=16)
    assert _try(site, client, "bea", PASSWORD).status_code == 303


def test_a_deactivated_person_cannot_sign_in(site):
    site.engine.set_active("dave", False, actor=ADMIN, now=site.clock.now)
    answer = _try(site, site.anonymous(), "dave", PASSWORD)
    assert answer.status_code == 401 and REFUSED in answer.text


def test_a_session_ends_when_its_person_is_deactivated(site):
    client = site.client("dave")
    assert client.get("/me").status_code == 200
    site.engine.set_active("dave", False, actor=ADMIN, now=site.clock.now)
    answer = client.get("/me")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    # Reactivated, the old session still proves nothing: it was ended, not paused.
    site.engine.set_active("dave", True, actor=ADMIN, now=site.clock.now)
    assert client.get("/me").status_code == 303


def test_a_tampered_or_forged_session_cookie_proves_nothing(sqlite_site):
    site = sqlite_site
    real = site.client("alice").cookies.get(SESSION_COOKIE)
    value, _, signature = real.rpartition(".")
    for forged in (value + "x." + signature, value + "." + signature[::-1], value, "bob", "." * 40, "a" * 600):
        client = site.anonymous()
        client.cookies.set(SESSION_COOKIE, forged)
        answer = client.get("/me")
        assert answer.status_code == 303, forged


def test_a_session_expires_after_its_hours_unused(sqlite_site):
    client = sqlite_site.client("alice")
    sqlite_site.clock.advance(hours=13)
    assert client.get("/me").status_code == 303


def test_a_password_change_ends_the_open_sessions(sqlite_site):
    client = sqlite_site.client("alice")
    from backoffice.services.accounts import LocalAccounts
    LocalAccounts(sqlite_site.engine).set_password("alice", "another long password", actor=ADMIN,
                                                   now=sqlite_site.clock.now)
    assert client.get("/me").status_code == 303


def test_one_address_trying_many_sign_ins_is_slowed_down(sqlite_site):
    client = sqlite_site.anonymous()
    people = ["hana", "ivan", "jade", "otto", "bob"]
    statuses = [_try(sqlite_site, client, people[i % 5], f"guess number {i}").status_code for i in range(21)]
    assert statuses[:20] == [401] * 20 and statuses[20] == 429


def test_signing_in_again_gives_a_new_session_and_ends_the_old_one(sqlite_site):
    client = sqlite_site.client("alice")
    old = client.cookies.get(SESSION_COOKIE)
    token = csrf_of(client.get("/").text)
    again = client.post("/sign-in", data={"person": "bea", "password": PASSWORD, "csrf_token": token})
    assert again.status_code == 303 and client.cookies.get(SESSION_COOKIE) != old
    replay = sqlite_site.anonymous()
    replay.cookies.set(SESSION_COOKIE, old)
    assert replay.get("/me").status_code == 303
    assert "<h1>Bea</h1>" in client.get("/me").text
