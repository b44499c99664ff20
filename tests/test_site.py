"""The reader's site, piece by piece (issue #16): dropdowns, sortable tables,
figures with tooltips, the forest plot's risk-of-bias column and text size,
the PRISMA 2020 diagram, the References page made from a package's RIS
records, print and PDF expansion.  Pages are rendered with a small Sphinx
project of the same extensions where the HTML matters; the whole book is
checked in a browser by tests/test_book.py."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from reviewbook.book import references as refs
from reviewbook.book.pages import rob_of_analysis
from reviewbook.book.pdf import expand
from reviewbook.book.sphinxext import accessible_citations, svg_objects
from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.views.forest import ROB_COLOURS, forest_plot
from reviewbook.views.prisma import STEPS, prisma_diagram
from reviewbook.views.tables import SVG_TITLES, Dropdown, Figure, Markup, Note, Table, add_svg_titles
from bookutil import leaves
from needs import require

ROOT = Path(__file__).resolve().parents[1]
PKG = dp.read(ROOT / "data/CD015373")
RIS = ROOT / "tests/fixtures/h4-included.ris"


def render(tmp_path, text, *, bib=None):
    """``text`` (MyST Markdown) as HTML through Sphinx with the book's extensions
    (myst-parser with colon fences, sphinx-design, sphinxcontrib-bibtex); warnings are errors."""
    import io

    from sphinx.application import Sphinx

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    exts = ["myst_parser", "sphinx_design"]
    conf = {"myst_enable_extensions": ["colon_fence"], "extensions": exts}
    if bib:
        (src / "studies.bib").write_text(bib)
        exts.append("sphinxcontrib.bibtex")
        conf.update(bibtex_bibfiles=["studies.bib"], bibtex_reference_style="author_year")
    (src / "conf.py").write_text("\n".join(f"{k} = {v!r}" for k, v in conf.items()) + "\n")
    (src / "index.md").write_text(text)
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    warnings = io.StringIO()
    with patch_docutils(str(src)), docutils_namespace():  # a fresh registry for each app, as sphinx-build
        app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html", status=None,
                     warning=warnings, freshenv=True)
        app.build()
    assert not warnings.getvalue().strip(), warnings.getvalue()
    return (out / "index.html").read_text()


# ------------------------------------------------------------------ Dropdown, Table

def test_dropdown_folds_tables_notes_and_nested_dropdowns(tmp_path):
    """Each dropdown's fence is longer than any fence inside it, so tables, notes and
    dropdowns nest; rendered, each is a <details> (closed unless open) holding its parts."""
    inner = Dropdown("Leave-one-out", [Table(["Study", "Effect"], [["A 2001", "1.0"]], "Inner table.", "tbl-in")])
    outer = Dropdown("Sensitivity <b>analyses</b>", [
        Table(["Model", "Effect"], [["Fixed", "0.5"]], "Outer table.", "tbl-out"),
        Note("Only one study.", "note"), inner], open=True)
    md = outer._repr_markdown_()
    assert md.startswith(":::::{dropdown} Sensitivity \\<b\\>analyses\\<\\/b\\>\n:open:\n")
    assert md.rstrip().endswith(":::::") and inner._repr_markdown_().startswith("::::{dropdown}")
    html = render(tmp_path, md)
    assert html.count("<details") == 2
    assert re.search(r'<details class="[^"]*sd-dropdown[^"]*" open', html)  # outer open, inner closed
    assert "Sensitivity &lt;b&gt;analyses&lt;/b&gt;" in html and "<b>analyses" not in html
    body = html[html.index("<details"):]
    assert body.index("Outer table.") < body.index("Only one study.") < body.index("Inner table.")
    assert repr(outer).splitlines()[0] == "[Sensitivity <b>analyses</b>]" and "Table: Inner table." in repr(outer)


def test_sortable_table_carries_the_class_and_markup_cells_are_trusted():
    t = Table(["Study", "Note"], [[Markup("A {cite:p}`k`", "A"), "<i>x</i>"]], "C.", "tbl-x", sortable=True)
    md = t._repr_markdown_()
    assert ":class: reviewbook-sortable" in md
    assert "| A {cite:p}`k` | \\<i\\>x\\<\\/i\\> |" in md  # Markup as given; everything else escaped
    assert "A  " in repr(t) and "{cite" not in repr(t) and "&lt;i&gt;x" in t.to_html()
    assert ":class:" not in Table(["a"], [["b"]], "C.", "tbl-y")._repr_markdown_()


# ------------------------------------------------------------------ figures with tooltips

def test_svg_titles_are_escaped_and_never_dropped():
    svg = '<svg><g id="row-1"><path/></g></svg>'
    out = add_svg_titles(svg, {"row-1": "A & B <script>"})
    assert "<title>A &amp; B &lt;script&gt;</title>" in out and "pointer-events: all" in out
    with pytest.raises(ValueError, match="row-2"):
        add_svg_titles(svg, {"row-2": "x"})


def test_interactive_figure_becomes_an_object_with_its_alt_text(tmp_path):
    """An <img> cannot show the tooltips inside an SVG; the page shows an <object>
    with the alt text as its accessible name (and fallback text)."""
    fig = Figure(None, tmp_path / "f.svg", "Caption.", "fig-x", "Forest plot & 1 study", interactive=True)
    assert ":class: reviewbook-svg" in fig._repr_markdown_()
    html = svg_objects('<img alt="Forest plot &amp; 1 study" class="reviewbook-svg" src="../_images/f.svg" '
                       'style="width: 100%;" />')
    assert html == ('<object data="../_images/f.svg" type="image/svg+xml" class="reviewbook-svg" role="img" '
                    'aria-label="Forest plot &amp; 1 study" style="width: 100%;">Forest plot &amp; 1 study</object>')
    assert svg_objects('<img alt="x" src="a.png" />') == '<img alt="x" src="a.png" />'


def test_forest_plot_rob_column_tooltips_and_text_size(tmp_path):
    """Analysis 1.1 (the review's rows): three studies, each with RoB 2 D1 'Low risk' and
    nothing else in the package's risk-of-bias table; Sigtermans 2009 MD -27.70
    [-41.43, -13.97], weight 36.1% (RevMan stored 36.114934%), arms 26.8 (27.9) n=30 vs
    54.5 (26.3) n=30 as in the data rows."""
    rob = rob_of_analysis(PKG, "1.1")
    assert set(rob) == {"Lumanauw 2019", "Noppers 2011a", "Sigtermans 2009"}
    fig = forest_plot(an.run(PKG, "1.1"), title="Analysis 1.1", rob=rob)
    titles = getattr(fig, SVG_TITLES)
    assert len(titles) == 3
    sig = next(t for t in titles.values() if t.startswith("Sigtermans 2009"))
    assert "mean 26.8, SD 27.9, 30 participants" in sig and "mean 54.5, SD 26.3, 30 participants" in sig
    assert "weight 36.1%" in sig and "Mean difference -27.70 [-41.43, -13.97]" in sig
    assert "risk of bias: D1 low risk; D2 not reported" in sig and sig.endswith("O not reported")
    texts = [t for ax in fig.axes for t in ax.texts]
    assert min(t.get_fontsize() for t in texts) >= 9
    assert {"D1", "D2", "D3", "D4", "D5", "O", "Risk of bias"} <= {t.get_text() for t in texts}
    f = Figure(fig, tmp_path / "f.svg", "c", "l", "a", tight=False)
    svg = Path(f.path).read_text()
    assert svg.count("<title>") == 3 and "Sigtermans 2009; Ketamine (IV)" in svg
    assert ROB_COLOURS["Low risk"].lower() in svg.lower()  # the three D1 dots


def test_rob_palette_is_robviss_colourblind_palette():
    """robvis R/helpers.R, get_colour(tool = "ROB2", colour = "colourblind"): low #fed98e,
    some concerns #fe9929, high #d95f0e, no information #ffffff; NA #cccccc."""
    assert ROB_COLOURS == {"Low risk": "#fed98e", "Some concerns": "#fe9929", "High risk": "#d95f0e",
                           "No information": "#ffffff", "Not reported": "#cccccc"}


def test_forest_plot_without_judgements_has_no_rob_column():
    fig = forest_plot(an.run(PKG, "7.2"), rob={})
    assert "Risk of bias" not in {t.get_text() for ax in fig.axes for t in ax.texts}


def test_forest_alt_text_is_singular_for_one_study():
    """Analysis 1.3 has one study (the review's rows); the alt text says '1 study'."""
    from reviewbook import book

    sec = book.section(PKG, "ketamine_iv")
    alts = {f.label: f.alt for f in leaves(sec.details()) if isinstance(f, Figure)}
    assert "1 study," in alts["fig-ketamine_iv-1_3"] and "1 studies" not in " ".join(alts.values())
    assert "3 studies," in alts["fig-ketamine_iv-1_1"]


# ------------------------------------------------------------------ PRISMA 2020

def test_prisma_diagram_boxes_arrows_and_not_reported():
    """Counts from data/CD015373/study-flow.csv: 15,759 records identified, 67 studies
    included, 28 in meta-analyses, 2,309 participants; the rest not public."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    counts = {"records_identified": "15759", "studies_included": "67", "studies_in_meta_analyses": "28",
              "participants_randomised": "2309"}
    fig = prisma_diagram(counts)
    ax = fig.axes[0]
    text = " ".join(t.get_text() for t in ax.texts)
    for phase in ("Identification", "Screening", "Included"):
        assert phase in text
    assert "Identification of studies via databases and registers" in text
    for label in ("Records identified from databases and", "Records removed before screening",
                  "Records screened", "Records excluded", "Reports sought for retrieval", "Reports not retrieved",
                  "Reports assessed for eligibility", "Reports excluded, with reasons", "Studies included in review",
                  "Reports of included studies"):
        assert label in text, label
    assert "(n = 15,759)" in text and "(n = 67)" in text and "(n = 2,309)" in text
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(arrows) == 8  # four down the main flow, four out to the right
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch) and p.get_linestyle() not in ("-", "solid")]
    assert len(boxes) == 7 + 1  # seven boxes with no public count, and the legend's sample box
    assert len(STEPS) == 13


# ------------------------------------------------------------------ References

def fixture_package():
    """The review's package with the RIS records of tests/fixtures/h4-included.ris (written
    for this test: a journal article, RevMan's NS tag, author-and-year matching, markup and
    BibTeX metacharacters in fields, a registry entry, a record with no details)."""
    return dp.Package(PKG.id, PKG.analyses, PKG.rows, PKG.subgroup_estimates, PKG.studies, PKG.risk_of_bias,
                      {"included": dp.parse_ris(RIS.read_text())}, PKG.extra)


def test_ris_records_become_bibtex_entries_keyed_by_study():
    from pybtex.database import parse_string

    reports = refs.study_reports(fixture_package())
    assert [r.key for r in reports] == ["study-sigtermans-2009", "study-lumanauw-2019", "study-noppers-2011a",
                                        "report-evil-2015", "report-report-nd", "study-sigtermans-2009-2"]
    bib = parse_string(refs.studies_bibtex(reports), "bibtex")
    sig = bib.entries["study-sigtermans-2009"]
    assert sig.type == "article" and sig.fields["journal"] == "Pain" and sig.fields["pages"] == "304--311"
    assert sig.fields["doi"] == "10.1016/j.pain.2009.06.023" and str(sig.persons["author"][1]) == "van Hilten, J. J."
    evil = bib.entries["report-evil-2015"]
    assert evil.type == "misc" and evil.fields["howpublished"] == "Some Congress"
    assert not set("{}\\\"") & set(evil.fields["title"].strip("{}"))  # BibTeX markup cannot be injected
    assert bib.entries["report-report-nd"].fields["url"].startswith("https://clinicaltrials.gov/")
    keys = refs.study_keys(fixture_package())
    assert keys == {"Sigtermans 2009": "study-sigtermans-2009", "Lumanauw 2019": "study-lumanauw-2019",
                    "Noppers 2011a": "study-noppers-2011a"}


def test_references_page_lists_and_links_the_studies(tmp_path):
    """The References page's Studies list, rendered with sphinxcontrib-bibtex: every
    report listed, a study cited by name links to its entry, markup shown as text."""
    reports = refs.study_reports(fixture_package())
    page = refs.page(len(reports), len({r.study for r in reports if r.study}))
    assert "The 6 reports of the included studies that the data package lists (3 studies" in page
    studies_only = page[page.index("## Studies"):]
    html = render(tmp_path, "# References\n\nSigtermans 2009 {cite:p}`study-sigtermans-2009`.\n\n" + studies_only,
                  bib=refs.studies_bibtex(reports))
    assert html.count('class="citation"') == 6
    assert re.search(r'<a class="reference internal" href="#id\d+"[^>]*>Sigtermans and van Hilten, 2009</a>', html)
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "Ketamine produces effective and long-term pain relief" in html  # the title as written
    assert "no reports of the included studies" in refs.page(0, 0)
    assert "The 1 report of the included studies that the data package lists (1 study " in refs.page(1, 1)


def test_reviews_own_entry_is_found_by_its_doi():
    bib = ROOT / "src/reviewbook/resources/book/references.bib"
    assert refs.key_for("Ferraro MC, et al. ... doi:10.1002/14651858.CD015373.pub2", bib) == "ferraro2025"
    assert refs.key_for("Another review, doi:10.1002/14651858.CD000001", bib) is None


def test_methods_sources_bibliography_parses_and_every_cited_key_exists():
    from pybtex.database import parse_file

    entries = parse_file(str(ROOT / "src/reviewbook/resources/book/references.bib")).entries
    cited = set()
    for m in re.finditer(r"\{cite:[pt]\}`([^`]+)`", (ROOT / "src/reviewbook/resources/book/methods.md").read_text()):
        cited |= set(m.group(1).split(","))
    assert cited and cited <= set(entries)


# ------------------------------------------------------------------ accessibility, print, PDF

def test_bibliography_entries_are_list_items():
    html = '<div role="list" class="citation-list"><div class="citation" id="id1" role="doc-biblioentry">'
    assert 'role="listitem"' in accessible_citations(html) and "doc-biblioentry" not in accessible_citations(html)


def test_pdf_opens_every_dropdown_and_prints_figures_as_images():
    body = ('<details class="sd-dropdown"><summary>S</summary><p>hidden</p></details>'
            '<object data="../_images/f.svg" type="image/svg+xml" class="reviewbook-svg" role="img" '
            'aria-label="Forest &amp; 1" style="width: 100%;">Forest &amp; 1</object>')
    out = expand(body)
    assert '<details open class="sd-dropdown">' in out
    assert '<img src="../_images/f.svg" alt="Forest &amp; 1"' in out and "<object" not in out


def test_printing_opens_every_details_and_shows_every_row(tmp_path):
    """book/_static/reviewbook.js: a 'beforeprint' opens each closed <details> and sets each
    sortable table to show all rows; 'afterprint' puts the page back."""
    from bookutil import CHROMIUM

    require("chromium")
    from playwright.sync_api import sync_playwright

    js = (ROOT / "src/reviewbook/resources/book/_static/reviewbook.js").read_text()
    page_html = (f"<html><body><article class='bd-article'><details><summary>a</summary>x</details>"
                 f"<details open><summary>b</summary>y</details></article>"
                 "<script>window.reviewbookTables=[{n:25,page:{len:function(v){if(v===undefined)return window.n;"
                 "window.n=v;return{draw:function(){}};}}}];window.n=25;</script>"
                 f"<script>{js}</script></body></html>")
    (tmp_path / "p.html").write_text(page_html)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto((tmp_path / "p.html").as_uri())
        assert page.evaluate("[...document.querySelectorAll('details')].map(d => d.open)") == [False, True]
        page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
        assert page.evaluate("[...document.querySelectorAll('details')].map(d => d.open)") == [True, True]
        assert page.evaluate("window.n") == -1
        page.evaluate("window.dispatchEvent(new Event('afterprint'))")
        assert page.evaluate("[...document.querySelectorAll('details')].map(d => d.open)") == [False, True]
        assert page.evaluate("window.n") == 25
        browser.close()


# ------------------------------------------------------------------ plain words, downloads, scripts (issue #22)

def test_glossary_terms_are_linked_once_and_windows_read_from_names():
    from reviewbook.book.plain import Terms, window_of, windows_named

    t = Terms()
    md = t.words("MD -1.00 (-2 to 0); 3 RCTs; the CI of an MD, or OR 2")
    # the first MD, RCT(s), CI and OR are links; the second MD and the word 'or' are text
    assert md.count("{term}`MD <MD>`") == 1 and "{term}`RCTs <RCT>`" in md and "{term}`CI <CI>`" in md
    assert "{term}`OR <OR>`" in md and "an MD" in md and " or " in md
    assert t.words("short-term follow-up") == "{term}`short-term follow-up <follow-up window>`"
    assert window_of("Pain intensity (continuous), immediate-term follow-up") == "immediate-term"
    assert window_of("Pain, short term follow up") == "short-term" and window_of("Nausea") is None
    assert windows_named(["A, long-term follow-up", "B, short term", "C"]) == ["short-term", "long-term"]


def test_effects_in_the_readers_units():
    """A mean difference in points on the review description's scale (book/review.yml, pain:
    '0 (no pain) to 100 (worst pain)'); without a description, the scale is said to be
    unnamed; a risk ratio as the appraisal's absolute effect per 1,000."""
    from reviewbook.book import review as rv
    from reviewbook.book.evidence import judged_all
    from reviewbook.book.plain import Terms, effect_in_units
    from reviewbook.engine.report import fmt

    review = rv.load(ROOT / "book/review.yml")
    judged = judged_all(PKG, review, {})
    md, text = effect_in_units(judged["1.1"], review, Terms())
    r = judged["1.1"].pooled
    assert text.startswith(f"{fmt(abs(r.estimate), 1)} points {'lower' if r.estimate < 0 else 'higher'}"), text
    assert text.endswith("on a scale of 0 (no pain) to 100 (worst pain)") and "{term}`CI <CI>`" in md
    _, text = effect_in_units(judged["1.1"], rv.generic(PKG), Terms())
    assert "on the scale the studies used (not named in the data package)" in text
    _, text = effect_in_units(judged["1.9"], review, Terms())
    d = judged["1.9"].appraisal.absolute.difference
    assert text.startswith(f"{int(fmt(abs(d[0]), 0)):,} {'fewer' if d[0] < 0 else 'more'} per 1,000 people"), text


def test_downloaded_notebook_carries_the_books_parameters(tmp_path):
    import json

    import nbformat

    from reviewbook.book.runner import _download_notebook, _size

    nb = nbformat.v4.new_notebook()
    p = nbformat.v4.new_code_cell('package = "data/CD015373"  # str: the package\nsection = "ketamine_iv"\nlevel = 0.95')
    p.metadata["tags"] = ["parameters"]
    inj = nbformat.v4.new_code_cell('package = "/home/builder/x"\nsection = "memantine"')
    inj.metadata["tags"] = ["injected-parameters"]
    nb.cells = [p, inj]
    nbformat.write(nb, tmp_path / "in.ipynb")
    _download_notebook(tmp_path / "in.ipynb", tmp_path / "out.ipynb",
                       {"package": "P1-data-package.zip", "section": "memantine", "level": 0.9})
    out = json.loads((tmp_path / "out.ipynb").read_text())
    assert len(out["cells"]) == 1 and "/home/builder" not in (tmp_path / "out.ipynb").read_text()
    assert "".join(out["cells"][0]["source"]) == ('package = "P1-data-package.zip"  # str: the package\n'
                                                  'section = "memantine"\nlevel = 0.9')
    assert (_size(812), _size(14540), _size(3 * 1024 ** 2)) == ("812 bytes", "14.2 KB", "3.0 MB")


def test_a_script_listed_twice_is_listed_once():
    """The inline 'const THEBE_JS_URL' came twice (file name None and '')."""
    from sphinx.builders.html._assets import _JavaScript

    from reviewbook.book.sphinxext import unique_scripts

    body = 'const THEBE_JS_URL = "x"'
    scripts = [_JavaScript("a.js"), _JavaScript(None, body=body), _JavaScript("", body=body),
               _JavaScript("a.js", priority=800), _JavaScript("b.js", **{"async": "async"})]
    assert [str(getattr(s, "filename", "")) for s in unique_scripts(scripts)] == ["a.js", "None", "b.js"]


def test_forest_plot_rows_and_arrows_past_the_axis():
    """The text alternative lists each study's effect, CI and weight in the plot's order; a
    study CI past the axis's end (the ratio axis stops at 1/1000 and 1000) gets an arrow."""
    import matplotlib.pyplot as plt

    from reviewbook.views.forest import study_rows

    ar = an.run(PKG, "1.9")
    rows = study_rows(ar)
    assert [r[0] for r in rows] == list(ar.labels) and len(rows) == 4  # data rows of analysis 1.9
    assert all(r[4].endswith("%") for r in rows)
    fig = forest_plot(ar, title="t")
    markers = [ln.get_marker() for ax in fig.axes for ln in ax.get_lines()]
    plt.close(fig)
    assert "<" not in markers and ">" not in markers  # every CI of 1.9 lies inside the axis


def test_a_ci_past_the_axis_ends_in_an_arrow():
    """A study of analysis 1.9 made to have 2/2 events against 0/4,000: its RR CI (about 398
    to 111,589, computed here with the 0.5 correction) runs past the ratio axis's end at 1,000,
    so its line ends in a right arrow; no left arrow (no CI passes 1/1,000)."""
    import matplotlib.pyplot as plt

    from reviewbook.views.forest import study_rows

    rows = PKG.rows.copy()
    i = rows.index[(rows["Analysis group"] == 1) & (rows["Analysis number"] == 9)][0]
    rows.loc[i, ["Experimental cases", "Experimental N", "Control cases", "Control N"]] = [2, 2, 0, 4000]
    pkg = dp.Package(PKG.id, PKG.analyses, rows, PKG.subgroup_estimates, PKG.studies, PKG.risk_of_bias,
                     PKG.references, {})
    ar = an.run(pkg, "1.9")
    assert float(study_rows(ar)[0][3]) > 1000
    fig = forest_plot(ar, title="t")
    markers = [ln.get_marker() for ax in fig.axes for ln in ax.get_lines()]
    plt.close(fig)
    assert markers.count(">") == 1 and "<" not in markers
