"""The accessibility check of every page in the browser tests: axe-core, vendored, with no serious or critical violation.

    from .axe import assert_accessible, axe_context
    context = axe_context(browser)           # a context axe can be injected into
    page = context.new_page(); page.goto(url)
    assert_accessible(page, "the sign-in page")

axe-core (vendor/axe.min.js, from the npm registry, MPL-2.0: vendor/axe.LICENSE) is injected
with `page.add_script_tag(path=...)`. The app's Content-Security-Policy refuses any script it
did not serve, so the context that injects axe bypasses CSP; `csp_violations` checks the
pages in a strict context instead.
"""

from __future__ import annotations

from pathlib import Path

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices (landmarks, one h1, headings in order).
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
BLOCKING = ("serious", "critical")


def axe_context(browser, **options):
    """Return a new browser context in which axe can be injected into the app's pages."""
    return browser.new_context(bypass_csp=True, **options)


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; return its violations (each with impact, id, help and nodes)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", TAGS)
    return result["violations"]


def assert_accessible(page, what: str = "the page") -> None:
    """Fail when axe-core finds a serious or critical violation on the page, naming each and where it is."""
    blocking = [v for v in axe_violations(page) if v.get("impact") in BLOCKING]
    described = "\n".join(f"- {v['impact']}: {v['id']} ({v['help']}) at "
                          f"{', '.join(' '.join(node['target']) for node in v['nodes'][:5])}" for v in blocking)
    assert not blocking, f"axe-core finds {len(blocking)} serious or critical problem(s) on {what} " \
                         f"({page.url}):\n{described}"


def csp_violations(page) -> list[str]:
    """Start recording the Content-Security-Policy refusals the browser reports on `page`; return the live list."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)
    return refused
