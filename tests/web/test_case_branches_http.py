"""The case page lists a case's parallel work with links, and a branch links to its case for those who may see it."""

from __future__ import annotations

from backoffice.engine import Actor

from ..api.live_server import ADMIN, T0
from ..engine.nested_parallel import DEFINITION


def nested_case(site) -> dict[str, int]:
    """A nested purchase of alice's, in its parallel state: bob is its clerk and buyer, dave its legal counsel."""
    engine = site.engine
    engine.deploy(DEFINITION, actor=ADMIN, now=T0)
    engine.grant("clerk", to="bob", actor=ADMIN, now=T0, workflow="nested-parallel")
    engine.grant("legal", to="dave", actor=ADMIN, now=T0, workflow="nested-parallel")
    case = engine.start_case("nested-parallel", {"name": "Lab move"}, actor=Actor("alice"), now=T0)
    case = engine.transition(case.id, "project-work", actor=Actor("bob", "clerk"), expected_version=case.version,
                             now=T0)
    ids = {"case": case.id, **{row.branch: row.child_id for row in engine.branches(case.id)}}
    ids.update({row.branch: row.child_id for row in engine.branches(ids["buy"])})
    return ids


def test_the_case_page_lists_its_branches_with_links_and_a_branch_links_back(site):
    ids = nested_case(site)
    page = site.client("alice").get(f"/cases/{ids['case']}").text
    assert '<h2 id="branches-heading">Parallel work</h2>' in page
    assert f'<a href="/cases/{ids["buy"]}">buy</a>' in page and f'<a href="/cases/{ids["docs"]}">docs</a>' in page
    assert "<td>purchase</td>" in page and "<td>write docs</td>" in page  # where each branch stands now
    branch_page = site.client("alice").get(f"/cases/{ids['buy']}").text
    assert f'<a href="/cases/{ids["case"]}">Request {ids["case"]}</a>, branch buy of project work' in branch_page
    assert f'<a href="/cases/{ids["quote"]}">quote</a>' in branch_page


def test_a_reader_of_one_branch_is_not_shown_the_case_above_it(site):
    ids = nested_case(site)
    dave = site.client("dave")
    legal = dave.get(f"/cases/{ids['legal']}")
    assert legal.status_code == 200
    assert "Part of" not in legal.text and f"/cases/{ids['buy']}" not in legal.text
    assert dave.get(f"/cases/{ids['case']}").status_code == 404
    assert dave.get(f"/cases/{ids['buy']}").status_code == 404
