"""The public form in Debian's Chromium: no account, an error beside its field, then the confirmation with a reference.

Each page is checked by axe-core (no serious or critical violation) and for refusals of the
Content-Security-Policy the browser reports.
"""

from __future__ import annotations

import re

import pytest

from backoffice.definitions import LIBRARY

from ..api.live_server import ADMIN, T0
from .axe import assert_accessible, axe_context, csp_violations
from .browser import needs_chromium, shot

pytestmark = needs_chromium
SERVICE = "service-request-public-intake"


@pytest.fixture
def sqlite_site(sqlite_site):
    """The SQLite site with the service request's public form open (served as `live`)."""
    sqlite_site.engine.deploy(LIBRARY / "service-request.yaml", actor=ADMIN, now=T0)
    sqlite_site.engine.add_service_account(SERVICE, description="the public form", actor=ADMIN, now=T0)
    return sqlite_site


def test_an_outsider_sends_the_public_form_and_keeps_the_reference(browser, live):
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = csp_violations(page)
    page.goto(f"{live.url}/public/service-request")
    assert page.get_by_role("heading", level=1).inner_text() == "Internal service request"
    assert page.get_by_role("button", name="Sign out").count() == 0
    assert_accessible(page, "the public form")
    page.get_by_label("Summary").fill("Badge does not open the door")
    page.get_by_label("Description").fill("My visitor badge stopped working at the gate")
    page.get_by_label("Category").fill("facilities")
    page.get_by_label("Urgency").fill("normal")
    page.get_by_role("button", name="Send the request").last.click()
    assert page.locator("#f-requester_email-error").inner_text() == "Expected this required field."
    assert page.get_by_label("Summary").input_value() == "Badge does not open the door"   # nothing typed is lost
    assert_accessible(page, "the public form with an error")
    shot(page, "public-form-error")
    page.get_by_label("Requester email").fill("sam@example.org")
    page.get_by_role("button", name="Send the request").last.click()
    page.wait_for_url(re.compile(r".*/public/service-request/received/[A-Z2-7-]{14}$"))
    reference = page.url.rsplit("/", 1)[1]
    assert reference in page.locator("main").inner_text()
    assert_accessible(page, "the confirmation")
    shot(page, "public-received")
    [case] = live.engine.cases(workflow="service-request")
    assert case.requester == SERVICE and case.data["requester_email"] == "sam@example.org"
    assert refused == []
    context.close()
