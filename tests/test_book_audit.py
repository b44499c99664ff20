"""Every reader page of the default book opened in chromium at 1280 and 390 px, measured
and checked with axe-core (issues #16 and #22.5); split from tests/test_book.py so that
this, the longest part of the book's tests, runs beside the rest."""
import re

import pytest

from bookutil import TEMPLATE_MARKUP, WORKING_NOTE_WORDS, audit_site
from needs import require
from test_book import MAX_HEIGHT, READER_PAGES


@pytest.fixture(scope="module")
def audit(built):
    """Every reader page opened at 1280 and 390 px (dropdowns closed), measured and
    checked with axe-core; screenshots in book/_build/screenshots/."""
    require("chromium")
    repo, _ = built
    site = repo / "book/_build/html"
    return audit_site(READER_PAGES, site, shots=repo / "book/_build/screenshots")


@pytest.mark.slow(78)
def test_every_page_passes_axe_wcag_a_and_aa(audit):
    """axe-core (axe-playwright-python) on every page: no critical or serious violation
    of WCAG 2.0/2.1 level A or AA."""
    bad = {page: [v for v in d[1280]["axe"] if v[1] in ("critical", "serious")] for page, d in audit.items()}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}


def test_screenshots_of_every_page_at_1280_and_390(built, audit):
    repo, _ = built
    shots = repo / "book/_build/screenshots"
    for page in READER_PAGES:
        for width in (1280, 390):
            png = shots / f"{page.replace('/', '_').removesuffix('.html')}-{width}.png"
            assert png.exists() and png.stat().st_size > 5000, png


def test_no_page_scrolls_sideways(audit):
    """Wide tables and figures scroll inside their own box; the page never does, as
    first shown or with every dropdown open."""
    wide = {(page, w, state): e[key] for page, d in audit.items() for w, e in d.items()
            for state, key in (("closed", "scroll_width"), ("open", "open_scroll_width"))
            if e[key] > e["viewport"]}
    assert not wide, wide


def test_page_height_as_first_shown(audit):
    """Issue #16: as first shown (dropdowns closed) no page is taller than 15,000 CSS px at
    1280 px wide."""
    tall = {page: d[1280]["height"] for page, d in audit.items() if d[1280]["height"] > MAX_HEIGHT}
    assert not tall, f"pages taller than {MAX_HEIGHT} px at 1280 px: {tall}"


def test_no_console_error_on_any_page(audit):
    """Issue #22.5: no page logs an error to the browser's console (a script included twice
    logged "Identifier 'THEBE_JS_URL' has already been declared" on every page)."""
    errors = {(page, w): e["console"] for page, d in audit.items() for w, e in d.items() if e["console"]}
    assert not errors, errors
    assert len(audit) == len(READER_PAGES)


def test_page_height_on_a_phone(audit):
    """Issue #22.5: at 390 px, as first shown (dropdowns closed), no page is taller than
    15,000 CSS px."""
    tall = {page: d[390]["height"] for page, d in audit.items() if d[390]["height"] > MAX_HEIGHT}
    assert not tall, tall


def test_tables_that_scroll_show_their_first_data_column(audit):
    """Issue #22.5: at 390 px a table that scrolls sideways in its box shows its first data
    column without scrolling."""
    hidden = {(page, t[0]) for page, d in audit.items() for t in d[390]["wide"] if not t[1]}
    assert not hidden, hidden


def test_forest_plot_text_is_at_least_9_css_px(audit):
    """The smallest text of every forest plot, as drawn at the content width of a
    1280 px window (font size times the figure's scale on screen)."""
    sizes = {(page, f[0]): f[1] for page, d in audit.items() for f in d[1280]["fonts"] if "_forest" in f[0]}
    assert len(sizes) >= 95 - 1  # every analysis's forest plot (1.19 too: 'Not estimable')
    small = {k: round(v, 2) for k, v in sizes.items() if v < 9}
    assert not small, small


def test_no_template_markup_on_any_page(audit):
    found = {page: [m for m in TEMPLATE_MARKUP if m in d[1280]["text"]] for page, d in audit.items()}
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_no_working_notes_on_any_page(audit):
    """Words of working notes (issue #16) never reach a reader's page (case-insensitive,
    whole words)."""
    found = {}
    for page, d in audit.items():
        hits = [w for w in WORKING_NOTE_WORDS if re.search(rf"\b{re.escape(w)}\b", d[1280]["text"], re.I)]
        if hits:
            found[page] = hits
    assert not found, found
