"""The web app's frame: served beside the API, its security headers, the CSRF check of every POST, static files."""

from __future__ import annotations

from backoffice.web.security import CONTENT_SECURITY_POLICY

from .site import PASSWORD, csrf_of


def test_every_page_carries_a_csp_without_inline_scripts_and_nosniff(sqlite_site):
    for answer in (sqlite_site.anonymous().get("/sign-in"), sqlite_site.client("alice").get("/")):
        assert answer.status_code == 200
        policy = answer.headers["content-security-policy"]
        assert policy == CONTENT_SECURITY_POLICY
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"


def test_pages_hold_no_inline_script_or_style(sqlite_site):
    page = sqlite_site.client("alice").get("/").text
    assert "<script>" not in page and "style=" not in page and "<style" not in page
    assert '<script src="/static/vendor/htmx.min.js"' in page


def test_the_api_stays_at_v1_beside_the_web_app(sqlite_site):
    client = sqlite_site.anonymous()
    assert client.get("/health").json() == {"status": "ok"}
    answer = client.get("/v1/cases")
    assert answer.status_code == 401 and answer.headers["content-type"] == "application/problem+json"
    assert client.get("/").status_code == 303


def test_a_page_for_signed_in_people_redirects_to_sign_in_and_back(sqlite_site):
    client = sqlite_site.anonymous()
    answer = client.get("/me?tab=roles")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=/me%3Ftab%3Droles"
    token = csrf_of(client.get(answer.headers["location"]).text)
    signed = client.post("/sign-in", data={"person": "alice", "password": PASSWORD, "csrf_token": token,
                                           "next": "/me?tab=roles"})
    assert signed.status_code == 303 and signed.headers["location"] == "/me?tab=roles"


def test_sign_in_never_redirects_to_another_site(sqlite_site):
    client = sqlite_site.anonymous()
    token = csrf_of(client.get("/sign-in").text)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        client.cookies.delete("bo_session")
        answer = client.post("/sign-in", data={"person": "alice", "password": PASSWORD, "csrf_token": token,
                                               "next": target})
        assert answer.status_code == 303 and answer.headers["location"] == "/", target


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(sqlite_site):
    client = sqlite_site.client("alice")
    refused = client.post("/sign-out", data={})
    assert refused.status_code == 403
    assert "security token" in refused.text
    assert client.get("/").status_code == 200          # still signed in


def test_a_csrf_token_of_another_browser_is_refused(sqlite_site):
    alice, mallory = sqlite_site.client("alice"), sqlite_site.anonymous()
    foreign = csrf_of(mallory.get("/sign-in").text)
    assert alice.post("/sign-out", data={"csrf_token": foreign}).status_code == 403
    assert alice.post("/sign-out", headers={"X-CSRF-Token": foreign}).status_code == 403
    own = csrf_of(alice.get("/").text)
    assert alice.post("/sign-out", headers={"X-CSRF-Token": own}).status_code == 303


def test_signing_out_ends_the_session_in_the_database(sqlite_site):
    client = sqlite_site.client("alice")
    kept = client.cookies.get("bo_session")
    answer = client.post("/sign-out", data={"csrf_token": csrf_of(client.get("/").text)})
    assert answer.status_code == 303
    replay = sqlite_site.anonymous()
    replay.cookies.set("bo_session", kept)
    assert replay.get("/").status_code == 303          # the old cookie proves nothing any more


def test_the_vendored_htmx_is_served_with_its_licence(sqlite_site):
    client = sqlite_site.anonymous()
    script = client.get("/static/vendor/htmx.min.js")
    assert script.status_code == 200 and "htmx" in script.text[:2000]
    assert "Zero-Clause BSD" in client.get("/static/vendor/htmx.LICENSE").text


def test_an_unknown_page_is_a_404_page_not_a_traceback(sqlite_site):
    answer = sqlite_site.client("alice").get("/no-such-page")
    assert answer.status_code == 404
    assert "there is no page at this address" in answer.text


def test_a_body_over_the_limit_is_refused_before_any_page_reads_it(sqlite_site):
    client = sqlite_site.client("alice")
    token = csrf_of(client.get("/").text)
    huge = client.post("/cases/1/comments", data={"csrf_token": token, "body": "x" * (1024 * 1024 + 10)})
    assert huge.status_code == 413 and "expected at most 1048576 bytes" in huge.text
    assert huge.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert sqlite_site.engine.store.audit_records(chain="case:1") == []
