"""`docs` writes a page per workflow, in HTML and Markdown, with the state diagram, and an index."""

from __future__ import annotations

import re
import shutil

import pytest
from lxml import etree

from backoffice.definitions import LIBRARY, load_definition
from backoffice.definitions.docs import DocsError, diagram_map, document_folder, moves, render_docs, state_diagram
from backoffice.errors import DefinitionError
from backoffice.mapping.svg import SVG_NS

SERVICE_REQUEST = LIBRARY / "service-request.yaml"
NS = {"s": SVG_NS}


@pytest.fixture(scope="module")
def library_pages() -> dict[str, str]:
    return document_folder(LIBRARY)


def test_every_library_workflow_gets_an_html_page_a_markdown_page_and_a_diagram(library_pages):
    ids = [load_definition(path).id for path in sorted(LIBRARY.glob("*.yaml"))]
    per_workflow = {f"{i}.{ext}" for i in ids for ext in ("html", "md", "svg")}
    assert set(library_pages) == {"index.html", "index.md"} | per_workflow
    for workflow in ids:
        assert f'href="{workflow}.html"' in library_pages["index.html"]
        assert f"]({workflow}.md)" in library_pages["index.md"]


def test_the_html_page_says_everything_an_operations_lead_asks_and_works_offline(library_pages):
    definition = load_definition(SERVICE_REQUEST)
    page = library_pages["service-request.html"]
    for text in ("Internal service request", "Give every colleague one front door", "service-desk-lead (role)",
                 "request.submitted</code> from service-portal",
                 "first response 4h, resolution 3d of business time on the head-office calendar "
                 "(Europe/Amsterdam, 08:30-17:30, mon, tue, wed, thu, fri, public holidays of NL); "
                 "the clock stops in waiting-on-requester, blocked",
                 "service-portal, email, directory", "Exceptions and who resolves them", "third_party_delay",
                 "role resolver", "returns to in-progress", "ends in cancelled", "Manual fallback",
                 "the desk logs requests from the service desk mailbox"):
        assert text in page, text
    for sid in definition.states:
        assert f"<code>{sid}</code>" in page
    # Self-contained: the diagram inline, no file or address fetched.
    assert "<svg" in page and 'class="process-map' in page
    assert not re.search(r"""(src|href)=["'](https?:|//)""", page)
    assert "<link" not in page and "<script src" not in page


def test_the_markdown_page_has_the_same_content_and_shows_the_svg_beside_it(library_pages):
    page = library_pages["supplier-invoice.md"]
    definition = load_definition(LIBRARY / "supplier-invoice.yaml")
    assert page.startswith(f"# {definition.title}\n")
    assert f"![State diagram of {definition.title}](supplier-invoice.svg)" in page
    for approval in definition.approvals:
        assert f"| {approval.state} |" in page
    for code, reason in definition.exceptions.items():
        assert f"| `{code}` |" in page
    assert "## Manual fallback" in page and "not the requester; not whoever did review-capture" in page


def test_markdown_tables_keep_their_columns_whatever_the_text_holds(tmp_path):
    text = SERVICE_REQUEST.read_text().replace("description: The same request is already open",
                                               "description: \"The same | request, already open\"")
    path = tmp_path / "piped.yaml"
    path.write_text(text)
    page = render_docs([load_definition(path)])["service-request.md"]
    assert "The same \\| request" in page
    for table in re.findall(r"(?:^\|.*\|\n)+", page, re.MULTILINE):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(widths) == 1, table


def test_text_from_a_definition_is_escaped_in_html(tmp_path):
    text = SERVICE_REQUEST.read_text().replace("title: Internal service request",
                                               "title: \"Requests <script>alert(1)</script>\"")
    path = tmp_path / "script.yaml"
    path.write_text(text)
    pages = render_docs([load_definition(path)])
    assert "<script>alert" not in pages["service-request.html"] and "&lt;script&gt;" in pages["service-request.html"]
    assert "<script>alert" not in pages["service-request.svg"]


def test_the_diagram_draws_each_state_in_the_lane_of_its_role_with_its_kind_and_no_figures():
    definition = load_definition(SERVICE_REQUEST)
    root = etree.fromstring(state_diagram(definition).encode())
    assert root.get("aria-label") == "State diagram of Internal service request: 7 states in 3 lanes"
    lanes = [t.text for t in root.xpath("//s:g[@class='lane']/s:text[@class='lane-label']", namespaces=NS)]
    assert lanes == ["Requester", "Service desk", "Resolver group"]
    boxes = root.xpath("//s:g[starts-with(@class, 'node state-')]", namespaces=NS)
    assert len(boxes) == len(definition.states)
    kinds = sorted(g.xpath("string(s:text[contains(@class, 'node-value')])", namespaces=NS) for g in boxes)
    assert kinds == sorted(["intake", "human task", "human task", "waiting · SLA paused", "waiting · SLA paused",
                            "done", "cancelled"])
    shown = " ".join(root.xpath("//s:text/text() | //s:title/text()", namespaces=NS))
    assert not re.search(r"\d+ (events|cases)|median wait", shown)
    assert root.xpath("//s:*[contains(@class, 'measure-time')]", namespaces=NS) == []
    assert "Start: every case begins in new" in shown and "End: done, cancelled" in shown
    labels = {t.text for t in root.xpath("//s:g[@class='edge-labels']/s:text", namespaces=NS)}
    assert {"accept", "assign", "resolve", "block / third_party_delay"} <= labels


def test_exceptions_and_exhausted_retries_are_dashed_detours(library_pages):
    root = etree.fromstring(library_pages["supplier-invoice.svg"].encode())
    dashed = {g.xpath("string(s:title)", namespaces=NS) for g in root.xpath("//s:g[contains(@class, 'edge ')]",
                                                                           namespaces=NS)
              if g.xpath("s:path[@stroke-dasharray]", namespaces=NS)}
    assert "validate-invoice → review-capture: low_confidence_capture / retries run out" in dashed
    assert "three-way-match → match-manually: retries run out" in dashed


def test_moves_are_transitions_then_exceptions_raised_where_named_and_exhausted_retries():
    definition = load_definition(SERVICE_REQUEST)
    found = {(m.source, m.target): (m.label, m.detour) for m in moves(definition)}
    assert found[("new", "triage")] == ("accept", False)
    assert found[("in-progress", "blocked")] == ("block / third_party_delay", False)
    assert found[("triage", "cancelled")] == ("withdraw / duplicate / out_of_scope", False)
    assert found[("blocked", "in-progress")] == ("unblock / third_party_delay resolved", False)
    mapped = diagram_map(definition)
    assert [a.name for a in mapped.activities] == [s.title for s in definition.states.values()]
    assert len(mapped.edges) == len(found)


def test_two_versions_of_a_workflow_get_a_page_each_and_two_copies_of_one_are_refused(tmp_path):
    first = load_definition(SERVICE_REQUEST)
    second = first.model_copy(update={"version": 2})
    assert {"service-request-v1.html", "service-request-v2.html"} <= set(render_docs([first, second]))
    with pytest.raises(DocsError, match="a.yaml and b.yaml both define service-request"):
        render_docs([first, first], sources=["a.yaml", "b.yaml"])


def test_a_broken_definition_in_the_folder_is_named_and_nothing_is_rendered(tmp_path):
    shutil.copy(SERVICE_REQUEST, tmp_path / "good.yaml")
    (tmp_path / "broken.yaml").write_text(SERVICE_REQUEST.read_text().replace("kind: intake", "kind: intak"))
    with pytest.raises(DefinitionError) as caught:
        document_folder(tmp_path)
    assert caught.value.path == tmp_path / "broken.yaml"


def test_a_folder_without_definitions_is_refused(tmp_path):
    with pytest.raises(DocsError, match="no definition files"):
        document_folder(tmp_path)
    with pytest.raises(DocsError, match="not a folder"):
        document_folder(tmp_path / "missing")
