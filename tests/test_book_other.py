"""A book about a review of the training half of Pairwise70 (issue #22): built from its
data rows alone and checked in a browser; split from tests/test_book.py."""
import re

import pytest

from bookutil import audit_site, clean_copy, run_book
from needs import require
from test_book import MAX_HEIGHT



def _train_rows():
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / "shared/datasets/pairwise70/train/CD006140_pub3_data.csv"


@pytest.fixture(scope="module")
def other_book(tmp_path_factory):
    """A book built from the data rows of CD006140 (training half of Pairwise70: 136 rows,
    62 analyses in 5 comparisons, dichotomous and continuous), with no review description."""
    rows = _train_rows()
    require("shared")
    repo = clean_copy(tmp_path_factory.mktemp("other"))
    res = run_book(repo, "--data", rows)
    assert res.returncode == 0, res.stdout + res.stderr
    return repo


@pytest.fixture(scope="module")
def other_audit(other_book):
    require("chromium")
    site = other_book / "book/_build/html"
    pages = ["intro.html", "methods.html", "glossary.html", "what_changed.html", "downloads.html"] + sorted(
        str(p.relative_to(site)) for p in (site / "sections").glob("*.html"))
    # what test_other_review_in_a_browser checks, as first shown: no axe-core, no second look
    # with the dropdowns open (the default book's audit has both, tests/test_book_audit.py)
    return audit_site(pages, site, axe=False, opened=False)


@pytest.mark.slow(45)
def test_other_review_in_a_browser(other_audit):
    """Issue #22, done-when: on a book of a training-half review, no console error, no page
    that scrolls sideways at 390 or 1280 px, no page taller than 15,000 px at 390 px as first
    shown, and every table that scrolls shows its first data column."""
    assert len(other_audit) >= 5 + 8  # the pages above and the sections (5 comparisons, harms, ...)
    problems = []
    for page, d in other_audit.items():
        for w, e in d.items():
            problems += [(page, w, "console", c) for c in e["console"]]
            if e["scroll_width"] > e["viewport"]:
                problems.append((page, w, "scrolls sideways", e["scroll_width"]))
            if w == 390 and e["height"] > MAX_HEIGHT:
                problems.append((page, w, "height", e["height"]))
            problems += [(page, w, "first column hidden", t[0]) for t in e["wide"] if not t[1]]
    assert not problems, problems


def test_other_review_landing_page(other_book):
    """The landing page of a book without a review description: a bottom line per
    comparison, a unit beside every mean difference, no analysis both a finding and 'says
    little', glossary links that resolve, numbers with thousands separators and no ketamine
    text."""
    import html as html_lib

    site = other_book / "book/_build/html"
    page = (site / "intro.html").read_text()
    start, end = page.index('id="key-findings"'), page.index("The main comparisons and outcomes")
    blocks = [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", b)).split())
              for _, b in re.findall(r"<(li|p)\b[^>]*>(.*?)</\1>", page[start:end], re.S)]
    assert sum(b.startswith("In short:") for b in blocks) == 5  # one per comparison of CD006140
    for b in blocks:
        if re.search(r"\bMD -?\d", b):
            assert re.search(r"\d points (lower|higher)", b) and "scale" in b, b
    findings = {a for b in blocks if not b.startswith("The evidence says little")
                for a in re.findall(r"\(analysis (\d+\.\d+)\)", b)}
    little = {a for b in blocks if b.startswith("The evidence says little")
              for a in re.findall(r"analysis (\d+\.\d+):", b)}
    assert findings and not findings & little
    ids = set(re.findall(r'id="(term-[^"]+)"', (site / "glossary.html").read_text()))
    links = re.findall(r'href="(?:\.\./)?glossary\.html#(term-[^"]+)"', page)
    assert links and set(links) <= ids
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert "ketamine" not in text.lower() and "not named in the package" not in text
    flow = " ".join(re.sub(r"<[^>]+>", " ", (site / "sections/study_flow.html").read_text()).split())
    assert "The 5 comparisons" in flow and "not named in the package" not in flow
