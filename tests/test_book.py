"""End to end: build the whole book from a clean copy of the repository and check
what a reader gets (issues: the book; the review's own data as the default; a book
about the package it was built from), its pages in a browser and the PDF.  The
browser audit of every page is tests/test_book_audit.py, the rebuilds and determinism
tests/test_book_rebuilds.py, the book of another review tests/test_book_other.py: files
of their own, so that pytest-xdist (``--dist loadfile``) runs them on both workers."""
import json
import os
import re

import pytest

from needs import require
from bookutil import CHROMIUM, browse, copy_built, dates_now, rendered_math

SECTIONS = ["study_flow", "ketamine_iv", "memantine", "other_nmda", "harms", "summary_of_findings",
            "reproduction", "independent"]
READER_PAGES = ["index.html", "intro.html", "methods.html", "rerun.html", "review_file.html", "what_changed.html",
                "glossary.html",
                "references.html", "downloads.html"] + [f"sections/{s}.html" for s in SECTIONS]
MAX_HEIGHT = 15000  # CSS px at 1280 px wide, as first shown (issue #16)


def html(repo, page):
    return (repo / "book" / "_build" / "html" / page).read_text()


def text_of(repo, page):
    return " ".join(re.sub(r"<[^>]+>", " ", html(repo, page)).split())


def test_build_reports_progress_and_where_the_site_is(built):
    repo, res = built
    for step in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"):
        assert step in res.stdout
    for name in SECTIONS:
        assert re.search(rf"{name}\s+executed in", res.stdout), name
    assert "site: " in res.stdout and res.stdout.strip().endswith("index.html")
    assert (repo / "book" / "_build" / "html" / "index.html").exists()


def test_generated_toc_is_the_committed_one(built):
    """book/_toc.yml is the plan of the book on its default data (the runner writes it)."""
    import yaml

    repo, _ = built
    from reviewbook.book import plan as pl
    from reviewbook.book import review as rv
    from reviewbook.package import datapackage as dp

    pkg = dp.read(repo / "data/CD015373")
    toc = pl.toc(pl.plan(pkg, rv.load(repo / "book/review.yml")))
    assert yaml.safe_load((repo / "book/_toc.yml").read_text()) == toc


@pytest.mark.parametrize("page,analyses", [
    ("sections/ketamine_iv.html", ["1.1", "1.4", "1.8", "2.1"]),
    ("sections/memantine.html", ["7.1", "7.2", "7.21"]),
    ("sections/other_nmda.html", ["3.1", "4.1", "5.2", "6.1", "8.1", "9.1", "10.2", "11.1"]),
    ("sections/harms.html", ["1.9", "1.19", "2.2", "3.3", "7.10", "12.1", "13.1"]),
])
def test_section_pages_show_forest_plots_from_the_reviews_data(built, page, analyses):
    repo, _ = built
    text = html(repo, page)
    figures = re.findall(r'<object data="([^"]+_forest\.svg)" type="image/svg\+xml" class="reviewbook-svg" '
                         r'role="img" aria-label="(Forest plot of analysis [^"]+)"', text)
    assert len(figures) >= len(analyses)
    for aid in analyses:
        assert f"Forest plot, analysis {aid}:" in text, aid
    assert re.search(r'<span class="caption-number">Figure \d+\.\d+', text)  # numbers restart per page
    assert re.search(r'<span class="caption-number">Table \d+\.\d+', text)
    assert "Traceback" not in text


def test_not_estimable_analyses_are_shown_as_revman_does(built):
    """1.19 (serious adverse events, Pickering 2020 0/8 vs 0/6): 'Not estimable', no error."""
    repo, _ = built
    t = text_of(repo, "sections/harms.html")
    assert "1.19 Serious adverse events (lower is better) Not estimable 14 (1 RCT) not estimable" in t
    svg = (repo / "book/_build/html/_images/harms_1_19_forest.svg").read_text()
    assert svg.count("Not estimable") == 2


def test_every_analysis_id_is_on_the_site(built):
    """Every analysis is named ('Analysis 1.1', 'analysis 1.1', never a prefix of '1.10') on the
    page of the section that owns it (results.json: its 'section')."""
    repo, _ = built
    results = json.loads((repo / "book/_build/html/results.json").read_text())
    assert len(results["analyses"]) == 95  # the 95 analyses of data/CD015373 (1.1 to 13.1)
    pages = {}
    for aid, a in results["analyses"].items():
        if a["section"] not in pages:
            pages[a["section"]] = text_of(repo, f"sections/{a['section']}.html")
        assert re.search(rf"\b[Aa]nalysis {re.escape(aid)}(?!\.?\d)", pages[a["section"]]), (aid, a["section"])
    assert set(pages) <= set(SECTIONS) and len(pages) >= 4


def test_prose_numbers_come_from_glue(built):
    repo, _ = built
    intro = text_of(repo, "intro.html")
    assert "The names of the 13 comparisons and the characteristics of the 28 pooled studies" in intro
    assert "IPython.core.display" not in intro
    rep = text_of(repo, "sections/reproduction.html")
    # data/published-estimates.csv: 1.1, 1.4 and 1.9 have published pooled estimates; 1.8 the review did not pool
    assert "3 of the 3 published pooled estimates reproduced to the published decimals" in rep
    assert "169 of 169 match within the rounding of the stored values" in rep


def test_reproduction_page_sets_every_stored_result_beside_ours(built):
    repo, _ = built
    t = text_of(repo, "sections/reproduction.html")
    assert "MD -15.79 (-32.09 to 0.51) very low MD -15.79 (-32.09 to 0.51)" in t
    assert "RR 3.26 (1.05 to 10.09) low RR 3.26 (1.05 to 10.09)" in t
    assert t.count(" match ") >= 169
    # the settings statuses in a reader's words (methods page, "Inferring the settings")
    assert "tie-broken" not in t and "several settings reproduce RevMan" in t and "inferred" in t


def test_study_flow_rob_and_independent_pages(built):
    repo, _ = built
    flow = html(repo, "sections/study_flow.html")
    assert "study_flow_rob_traffic.svg" in flow and "study_flow_rob_summary.svg" in flow
    assert "Intravenous ketamine versus placebo" in flow and "Magnesium" in flow
    ind = text_of(repo, "sections/independent.html")
    assert "Sigtermans 2009" in ind and "Maier 2003" in ind and "different source and time point" in ind
    sof = text_of(repo, "sections/summary_of_findings.html")
    assert "Summary of findings: Intravenous ketamine compared with placebo" in sof and "published: low" in sof
    from grade_checks import no_upper_bound

    checked, problems = no_upper_bound(repo / "book/_build/html")
    assert checked >= 10 and problems == []  # issue 21: a rating is a rating, never "upper bound"
    rep = text_of(repo, "sections/reproduction.html")
    assert "Why they differ" in rep and "very low" in rep and "Agree: both very low" in rep


def test_no_page_reads_as_a_working_note_or_shows_template_braces(built):
    """Every built page's visible text (scripts and styles removed) is free of the
    working-note words of tests/wording.py and of unrendered substitutions or roles
    such as '{{ package_id }}' (issue #16)."""
    import html as html_lib

    from wording import working_notes

    repo, _ = built
    site = repo / "book/_build/html"
    found = {}
    for page in sorted(site.rglob("*.html")):
        text = re.sub(r"(?s)<(script|style)[^>]*>.*?</\1>", " ", page.read_text())
        hits = working_notes(html_lib.unescape(re.sub(r"<[^>]+>", " ", text)), braces=True)
        if hits:
            found[str(page.relative_to(site))] = hits[:3]
    assert not found, found
    assert "This book was built from the data package CD015373." in text_of(repo, "methods.html")


def test_downloads_and_results(built):
    repo, _ = built
    site = repo / "book/_build/html"
    assert (site / "downloads/CD015373-data-package.zip").exists()
    for name in SECTIONS:
        assert (site / "downloads" / f"{name}.ipynb").exists()
    results = json.loads((site / "results.json").read_text())
    a = results["analyses"]["1.1"]
    assert {"estimate", "ci_low", "ci_high", "tau2", "i2", "k", "certainty"} <= set(a)
    assert results["analyses"]["1.19"]["status"] == "not estimable"
    assert "nothing to compare" in html(repo, "what_changed.html")


@pytest.mark.slow(20)
def test_site_works_offline_in_a_browser(built):
    require("chromium")
    repo, _ = built
    site = repo / "book/_build/html"
    pages = ["index.html", "intro.html", "methods.html", "rerun.html", "review_file.html", "what_changed.html",
             "references.html", "downloads.html"] + [f"sections/{s}.html" for s in SECTIONS]
    problems = browse(pages, site)
    assert not problems, "\n".join(problems)
    assert rendered_math(site / "methods.html") >= 8  # local MathJax renders the methods' equations


def test_the_answer_is_on_the_first_screen(built):
    """Issues #16.1 and #22.1: at 1280 x 900 and at 390 x 844 the landing page's first screen
    shows the bottom line of the first main comparison (book/review.yml summary_of_findings:
    comparison 1, key outcomes 1.1 and 1.4, its harm 1.9), with each outcome's certainty as
    results.json has it, the benefit in points of the pain scale and the harm per 1,000."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    repo, _ = built
    site = repo / "book/_build/html"
    results = json.loads((site / "results.json").read_text())["analyses"]
    # the paragraphs and items that start on the first screen
    visible = """() => Array.from(document.querySelectorAll('.bd-article li, .bd-article p'))
        .filter(e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; })
        .map(e => e.innerText.split(/\\s+/).join(' '))"""
    firsts = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, height in ((1280, 900), (390, 844)):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto((site / "intro.html").as_uri())
            page.wait_for_load_state("load")
            firsts[width] = page.evaluate(visible)
            page.close()
        browser.close()
    for width, blocks in firsts.items():
        line = next((b for b in blocks if b.startswith("In short:")), None)
        assert line is not None, (width, blocks)
        for aid in ("1.1", "1.9"):  # the benefit and the harm of the bottom line
            assert f"{results[aid]['certainty']} certainty" in line, (width, aid, line)
        assert "points" in line and "0 (no pain) to 100 (worst pain)" in line and "per 1,000" in line, line


def _landing_blocks(repo):
    """The landing page's key findings as text blocks (paragraphs and list items)."""
    import html as html_lib

    page = html(repo, "intro.html")
    start, end = page.index('id="key-findings"'), page.index("The main comparisons and outcomes")
    blocks = re.findall(r"<(li|p)\b[^>]*>(.*?)</\1>", page[start:end], re.S)
    return [" ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", b)).split()) for _, b in blocks]


def test_landing_page_gives_a_unit_beside_every_mean_difference(built):
    """Issue #22.1: every mean difference on the landing page has its unit (points) and the
    scale it is on, beside it; every risk ratio its absolute effect per 1,000."""
    repo, _ = built
    blocks = _landing_blocks(repo)
    md = [b for b in blocks if re.search(r"\bMD -?\d", b)]
    rr = [b for b in blocks if re.search(r"\b(RR|OR) \d", b)]
    assert len(md) >= 7 and len(rr) >= 5, (len(md), len(rr))  # book/review.yml: 7 comparisons, each with pain
    for b in md:
        assert re.search(r"\d points (lower|higher)", b) and "on a scale of" in b, b
    for b in rr:
        assert "per 1,000" in b, b


def test_no_analysis_is_both_a_finding_and_one_the_evidence_says_little_about(built):
    """Issue #22: an analysis shown as a finding (a bullet) is never listed under 'The
    evidence says little about'; every comparison of book/review.yml has a harm bullet."""
    repo, _ = built
    blocks = _landing_blocks(repo)
    findings = {a for b in blocks if not b.startswith("The evidence says little")
                for a in re.findall(r"\(analysis (\d+\.\d+)\)", b)}
    little = {a for b in blocks if b.startswith("The evidence says little")
              for a in re.findall(r"analysis (\d+\.\d+):", b)}
    assert findings and little
    assert not findings & little, findings & little
    assert sum(b.startswith("Harm:") for b in blocks) == 7  # one main harm per main comparison
    assert sum(b.startswith("In short:") for b in blocks) == 7


def test_glossary_links_resolve_and_terms_are_linked_on_first_use(built):
    """Issue #22.1: terms link to the Glossary page on first use; every such link names an
    entry the glossary has."""
    repo, _ = built
    site = repo / "book/_build/html"
    glossary = (site / "glossary.html").read_text()
    ids = set(re.findall(r'id="(term-[^"]+)"', glossary))
    assert {"term-MD", "term-RR", "term-CI", "term-RCT", "term-GRADE"} <= ids
    checked = 0
    for page in sorted(site.rglob("*.html")):
        for target in re.findall(r'href="(?:\.\./)?glossary\.html#(term-[^"]+)"', page.read_text()):
            assert target in ids, (page.name, target)
            checked += 1
    assert checked >= 20, checked
    landing = html(repo, "intro.html")
    for term in ("MD", "RR", "CI", "RCT", "GRADE", "follow-up-window", "per-1-000"):
        assert landing.count(f'href="glossary.html#term-{term}"') == 1, term  # first use only


def test_summary_of_findings_has_contents_and_its_legend_first(built):
    """Issue #22.5: the summary of findings opens with the GRADE legend and in-page contents
    linking each comparison's table (book/review.yml: 7 main comparisons)."""
    repo, _ = built
    page = html(repo, "sections/summary_of_findings.html")
    legend = page.index("certainty: ⊕⊕⊕⊕ High")
    first_table = page.index('id="tbl-sof-')
    assert legend < first_table
    contents = page[page.index("On this page:"):first_table]
    assert len(re.findall(r'href="#sof-\d+"', contents)) == 7
    assert 'href="#sof-all"' in contents


def test_contents_link_opens_the_folded_comparison(built):
    """Issue #22.5: following the summary of findings' contents to a folded comparison (book/
    review.yml: comparison 7, memantine) opens it, and arriving with #sof-all opens the table of
    every analysis."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    repo, _ = built
    url = (repo / "book/_build/html/sections/summary_of_findings.html").as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(url)
        page.wait_for_load_state("load")
        assert page.evaluate("document.getElementById('sof-7').open") is False
        page.click("a[href='#sof-7']")
        page.wait_for_timeout(300)
        assert page.evaluate("document.getElementById('sof-7').open") is True
        page.goto(url + "#sof-all")
        page.wait_for_load_state("load")
        assert page.evaluate("document.getElementById('sof-all').open") is True
        browser.close()


def test_forest_plots_have_a_table_a_screen_reader_reads(built):
    """Issue #22.5: each forest plot of an estimable analysis is followed by its rows as a
    table (study, effect, CI, weight)."""
    repo, _ = built
    checked = 0
    for name in SECTIONS:
        page = html(repo, f"sections/{name}.html")
        plots = re.findall(r'aria-label="Forest plot of analysis ([\d.]+), [^"]*pooled', page)
        for aid in plots:
            assert f"Analysis {aid}, the forest plot as a table" in page, (name, aid)
            checked += 1
    assert checked >= 90, checked  # results.json: 95 analyses, all but the non-estimable


def test_reader_pages_speak_of_the_review(built):
    """Issue #22.3: no code paths, layer names, cache talk or 'review file' on a reader page;
    the methods state one leave-one-out rule, the one the code applies (at least three
    studies: reviewbook.book.sections, _sensitivity_parts)."""
    import html as html_lib

    repo, _ = built
    site = repo / "book/_build/html"
    checked = 0
    for rel in READER_PAGES[1:]:
        text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", re.sub(
            r"(?s)<(script|style)[^>]*>.*?</\1>", " ", (site / rel).read_text()))).split())
        # the re-running page and the page on writing a review file are about that file, and define it
        about_the_file = rel in ("rerun.html", "review_file.html")
        for words in ("src/reviewbook", "appraisal layer", "build-review", "review file", "from the cache",
                      "tie-broken"):
            assert words not in text or (words == "review file" and about_the_file), (rel, words)
        checked += 1
    assert checked == len(READER_PAGES) - 1
    methods = text_of(repo, "methods.html")
    assert "at least three studies" in methods and "two or more studies" not in methods
    assert "11-point NRS" not in text_of(repo, "sections/ketamine_iv.html")


def test_first_build_says_what_the_page_will_show(built):
    repo, _ = built
    t = text_of(repo, "what_changed.html")
    assert "nothing to compare with" in t and "When the book is rebuilt on corrected or newer data" in t


def test_main_tables_read_as_cards_on_a_phone(built):
    """Issue #16: at 390 px a section's main-outcomes table and each summary of findings
    show one card per row, every cell under its column's name, with nothing to scroll
    sideways; at 1280 px they stay tables."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    repo, _ = built
    site = repo / "book/_build/html"
    measure = """() => Array.from(document.querySelectorAll('table.reviewbook-stack')).map(t => {
      const names = Array.from(t.tHead.rows[0].cells).map(c => c.textContent.trim());
      const cells = Array.from(t.tBodies[0].rows[0].cells);
      return {display: getComputedStyle(cells[0]).display, box: t.parentElement.clientWidth,
              wide: t.parentElement.scrollWidth,
              labelled: cells.every((c, i) => c.getAttribute('data-label') === names[i])};
    })"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, display in ((390, "block"), (1280, "table-cell")):
            page = browser.new_page(viewport={"width": width, "height": 900})
            for rel in ("sections/memantine.html", "sections/summary_of_findings.html"):
                page.goto((site / rel).as_uri())
                page.wait_for_load_state("load")
                tables = page.evaluate(measure)
                assert tables, rel
                for t in tables:
                    assert t["display"] == display and t["labelled"], (rel, width, t)
                    if width == 390:
                        assert t["wide"] <= t["box"] + 1, (rel, t)
            page.close()
        browser.close()


def test_sortable_tables_work_offline(built):
    """The reproduction page's long tables are DataTables served from the site itself:
    sortable, searchable, 25 rows a page; searching narrows the rows."""
    require("chromium")
    from playwright.sync_api import sync_playwright

    repo, _ = built
    page_file = repo / "book/_build/html/sections/reproduction.html"
    assert "reviewbook-tables.js" in page_file.read_text()
    assert "reviewbook-tables.js" not in (repo / "book/_build/html/methods.html").read_text()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        requests = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        page.wait_for_function("document.documentElement.dataset.reviewbookTables === 'ready'", timeout=20000)
        rows = "document.querySelectorAll('#tbl-study-results tbody tr').length"
        assert page.evaluate(rows) == 25
        page.fill("#tbl-study-results_wrapper input[type=search]", "Sigtermans")
        page.wait_for_function(f"{rows} < 25", timeout=20000)
        assert 1 <= page.evaluate(rows) < 25
        assert all(r.startswith(("file:", "data:", "blob:")) for r in requests), requests
        browser.close()


def test_reader_pages_show_no_code_and_the_methods_name_the_package(built):
    repo, _ = built
    for name in SECTIONS:
        assert "cell_input" not in html(repo, f"sections/{name}.html"), name
    methods = text_of(repo, "methods.html")
    assert "This book was built from the data package CD015373." in methods


def test_downloads_page_links_every_download(built):
    """Issue #22.4: every file with its size and the licences; titles of pages that exist;
    notebooks with this book's parameters and no path of the building machine."""
    repo, _ = built
    page = html(repo, "downloads.html")
    links = re.findall(r'<a href="([^"]+)" download>', page)
    assert {"downloads/CD015373-data-package.zip", "results.json", "changes.json"} <= set(links)
    assert {f"downloads/{s}.ipynb" for s in SECTIONS} <= set(links)
    # the machine-readable exports (issue 24), the FHIR bundle also linked from the summary of findings
    assert {"evidence.fhir.json", "downloads/summary-of-findings.csv", "downloads/included-studies.ris",
            "downloads/included-studies.bib"} <= set(links)
    assert 'href="../evidence.fhir.json" download' in html(repo, "sections/summary_of_findings.html")
    site = repo / "book/_build/html"
    assert all((site / link).exists() for link in links)
    assert 'href="downloads.html"' in html(repo, "intro.html")  # in the table of contents
    t = text_of(repo, "downloads.html")
    assert len(re.findall(r"\d[\d,.]* (KB|MB|bytes)", t)) == len(links)
    assert "Licences:" in t and "MIT" in t and "Key findings" not in t
    checked = 0
    for nb_path in sorted((site / "downloads").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        params = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
        assert len(params) == 1 and not [c for c in nb["cells"]
                                         if "injected-parameters" in c["metadata"].get("tags", [])]
        src = "".join(params[0]["source"])
        assert 'package = "CD015373-data-package.zip"' in src, src
        if nb_path.stem in SECTIONS[1:5]:
            assert f'section = "{nb_path.stem}"' in src, src
        assert str(repo) not in nb_path.read_text() and "/tmp/" not in src
        checked += 1
    assert checked == len(SECTIONS) + 1  # and the landing page's notebook


def test_references_page_cites_the_sources_of_the_methods(built):
    repo, _ = built
    refs = text_of(repo, "references.html")
    for words in ("Ketamine and other NMDA receptor antagonists for chronic pain", "GRADE guidelines 6",
                  "Conducting meta-analyses in R with the metafor package", "The PRISMA 2020 statement",
                  "Trial Sequential Analysis in systematic reviews with meta-analysis"):
        assert words in refs, words
    # data/CD015373/CD015373-study-data/CD015373-included.ris: 28 records (ER lines), one per pooled
    # study, all matched by name (21 reports, 7 records saying no report was found)
    ris = (repo / "data/CD015373/CD015373-study-data/CD015373-included.ris").read_text(encoding="utf-8-sig")
    n = sum(line.startswith("ER  -") for line in ris.splitlines())
    assert n == 28
    assert f"The {n} reports of the included studies that the data package lists ({n} studies" in refs
    methods = html(repo, "methods.html")
    assert methods.count('class="reference internal" href="references.html#') >= 25


def test_external_links_are_sources_a_reader_can_follow(built):
    """Every external link of the default book: none to an aggregator or a catalogue
    (reviewbook.book.references.AGGREGATOR_HOSTS), none with LaTeX escapes or a double-escaped
    '&'; each study on the References page links to its DOI, PubMed record or registry entry
    (STUDY_HOSTS) or says that none was found; no study is cited as 'n.d.'."""
    import html as html_lib

    from reviewbook.book import references as refs
    from reviewbook.package import datapackage as dp

    repo, _ = built
    site = repo / "book" / "_build" / "html"
    pages = [p for p in sorted(site.rglob("*.html")) if "_sources" not in p.parts]
    links = []
    for page in pages:
        for raw in re.findall(r'href="(https?://[^"]+)"', page.read_text(encoding="utf-8")):
            assert "&amp;amp;" not in raw and "\\" not in raw, (page.name, raw)
            links.append((page.name, html_lib.unescape(raw)))
    assert len(links) >= 60  # 72 on the default book when written (references, study flow, methods, landing)
    bad = [(p, u) for p, u in links if refs.on_hosts(u, refs.AGGREGATOR_HOSTS)]
    assert not bad, bad
    page = html(repo, "references.html")
    studies = page[page.index('id="studies"'):]
    items = re.findall(r'<div class="citation" id="[^"]+" role="listitem">(.*?)</div>', studies, re.S)
    study_links = [html_lib.unescape(u) for item in items for u in re.findall(r'href="(https?://[^"]+)"', item)]
    assert all(refs.on_hosts(u, refs.STUDY_HOSTS) for u in study_links), study_links
    pkg = dp.read(repo / "data/CD015373")
    assert len(items) == len(pkg.studies) == 28  # one reference per pooled study (data/README.md)
    for item in items:
        text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", item)).split())
        assert re.search(r'href="https?://', item) or refs.NONE_FOUND in text, text
        assert "n.d." not in text, text
    assert "n.d." not in text_of(repo, "references.html")


def test_pdf_appendix(built, tmp_path):
    """The whole book as one PDF: title page (package id, date, versions), page
    numbers, every figure; rendered to PNG with pdftoppm."""
    import subprocess
    import sys

    require("chromium", "poppler")
    # in a copy: the PDF's source page is written beside the site and removed, and the
    # shared build is only read (another worker may be copying it)
    repo = copy_built(built[0], tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    before = dates_now()
    res = subprocess.run([sys.executable, "-m", "reviewbook", "pdf"], cwd=repo, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    dates = before | dates_now()
    pdf = repo / "book/_build/appendix.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 30
    text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "CD015373" in text and any(d in text for d in dates) and "jupyter-book" in text
    last = subprocess.run(["pdftotext", "-f", str(pages), "-l", str(pages), str(pdf), "-"],
                          capture_output=True, text=True).stdout
    assert f"{pages} / {pages}" in last  # page numbers in the footer
    full = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    figures = len(list((repo / "book/_build/html/_images").glob("*.svg")))
    assert figures > 100
    assert len(re.findall(r"Figure \d+\.\d+", full)) >= figures  # every figure's caption (figures are vector)
    assert "Analysis 1.19. Intravenous ketamine versus placebo: Serious adverse events" in full  # text inside an SVG
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "3", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) == 3
    assert "Show code cell source" not in full


def test_build_fingerprint_covers_every_file_under_a_folder(tmp_path):
    """A changed stylesheet under book/_static must rebuild the site: the fingerprint
    of a folder is that of every file under it (a folder once counted as nothing)."""
    from reviewbook.book.runner import tree_hash

    static = tmp_path / "_static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "custom.css").write_text("table { font-size: 0.8rem; }\n")
    before = tree_hash([static])
    (static / "css" / "custom.css").write_text("table { font-size: 0.9rem; }\n")
    assert tree_hash([static]) != before
    assert tree_hash([static]) == tree_hash([static / "css" / "custom.css"])


def test_editors_checklist(built):
    """Issue #15, done-when: on the default book, (1) no 'Favours' label against its
    analysis's direction (the forest plot's labels, read from each SVG, put 'Favours
    <experimental>' on the side where benefit lies); (2) no single study under 200
    participants rated high; (3) no '0 per 1,000 (0 to 0)'; (4) no subgroup analysis listed as
    an outcome in the summary of findings."""
    repo, _ = built
    site = repo / "book" / "_build" / "html"
    results = json.loads((site / "results.json").read_text())["analyses"]
    from reviewbook.package import datapackage as dp

    pkg = dp.read(repo / "data/CD015373")
    checked = 0
    for aid, a in results.items():
        if a.get("direction") not in ("lower", "higher"):
            continue
        svgs = list(site.glob(f"_images/*_{aid.replace('.', '_')}_forest.svg"))
        assert svgs, aid
        text = re.sub(r"<[^>]+>", " ", svgs[0].read_text())
        exp = pkg.analysis(aid).experimental_label
        ctl = pkg.analysis(aid).control_label
        left, right = (exp, ctl) if a["direction"] == "lower" else (ctl, exp)
        assert re.search(rf"Favours {re.escape(left)}.*Favours {re.escape(right)}", " ".join(text.split()),
                         re.S), aid
        checked += 1
    assert checked > 50
    for aid, a in results.items():
        if a.get("status") == "computed" and a.get("studies_distinct") == 1 and a["participants"] < 200:
            assert a["certainty"] != "high", aid
    for page in site.rglob("*.html"):
        assert "0 per 1,000 (0 to 0)" not in " ".join(re.sub(r"<[^>]+>", " ", page.read_text()).split()), page
    sof = html(repo, "sections/summary_of_findings.html")
    tables = re.findall(r'<table[^>]*id="tbl-sof-\d+".*?</table>', sof, re.S)
    assert tables
    for aid, a in results.items():
        if a.get("parent"):
            for t in tables:
                assert f"({aid})" not in " ".join(re.sub(r"<[^>]+>", " ", t).split()), aid
