"""A book of another review's package built in a copy of the default book's built
repository: the site becomes a book about that package alone, and names with markup
stay text.  Split from tests/test_faults.py (each test on its own copy) so that
pytest-xdist (``--dist loadfile``) runs the two files on both workers."""
import json
import os
import re
import subprocess
import sys

import pytest

from bookutil import CHROMIUM, browse, copy_built, run_book
from test_faults import FIX, ROOT


@pytest.fixture
def repo(default_book, tmp_path):
    """A copy of the default book's built repository for each test: the builds here
    replace its site with a book of another package."""
    return copy_built(default_book[0], tmp_path / "repo")


KETAMINE = re.compile(r"ketamine|NMDA|CD015373|memantine|Ferraro", re.I)


def site_text(site):
    """Every page's visible text (HTML without tags) and the title of the PDF's source."""
    out = {}
    for p in sorted(site.rglob("*.html")):
        t = re.sub(r"<script.*?</script>|<style.*?</style>", " ", p.read_text(), flags=re.S)
        out[str(p.relative_to(site))] = " ".join(re.sub(r"<[^>]+>", " ", t).split())
    return out


def assert_book_about(site, pkg_ids):
    pages = site_text(site)
    leaked = {k: KETAMINE.search(v).group(0) for k, v in pages.items() if KETAMINE.search(v)}
    assert not leaked, leaked
    blob = " ".join(pages.values())
    for aid in pkg_ids:
        assert f"analysis {aid}" in blob or f" {aid} " in blob, aid


@pytest.mark.slow(11)
def test_any_reviews_package_builds_a_coherent_book(repo, tmp_path):
    """Fleiss1993.zip (R meta's example export): a book about that package, with no
    ketamine text left, every analysis on the site, and what changed since the last build."""
    res = run_book(repo, "--data", FIX / "Fleiss1993.zip")
    assert res.returncode == 0, res.stderr
    site = repo / "book/_build/html"
    results = json.loads((site / "results.json").read_text())
    assert set(results["analyses"]) == {"1.1", "1.2"}
    assert {a["section"] for a in results["analyses"].values()} == {"comparison_1"}
    page = (site / "sections/comparison_1.html").read_text()
    assert "Examples from Fleiss (1993)" in page and "Aspirin for Preventing Death" in page
    assert_book_about(site, ["1.1", "1.2"])
    # the package's RIS records (12 included studies, RevMan's NS tag only) listed as its study reports
    refs = (site / "references.html").read_text()
    assert "The 12 reports of the included studies that the data package lists (12 studies" in refs
    assert len(re.findall(r'class="label"><span class="fn-bracket">\[</span>S\d+<', refs)) == 12
    changed = (site / "what_changed.html").read_text()
    # the previous build was of CD015373: another package is not an earlier version of this one
    assert "The previous build was of another data package: there is nothing to compare with" in changed
    assert json.loads((site / "changes.json").read_text())["other_package"] is True


@pytest.mark.slow(15)
@pytest.mark.needs("shared")
def test_book_from_another_reviews_imported_rows(repo, tmp_path):
    """CD001703.pub4 imported with import-rows: one page per comparison, harms where
    adverse-event analyses exist, every analysis id on the site, no ketamine text."""
    out = tmp_path / "CD001703"
    res = subprocess.run([sys.executable, "-m", "reviewbook", "import-rows",
                          str(ROOT.parent / "shared/datasets/pairwise70/CD001703_pub4_data.csv"), str(out),
                          "--id", "CD001703"], cwd=repo, env=dict(os.environ, PYTHONPATH=str(repo / "src")),
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = run_book(repo, "--data", out)
    assert res.returncode == 0, res.stdout + res.stderr
    site = repo / "book/_build/html"
    results = json.loads((site / "results.json").read_text())
    assert len(results["analyses"]) == 27
    assert {a["section"] for a in results["analyses"].values()} == {"comparison_1", "harms"}
    assert_book_about(site, results["analyses"])
    assert "116 of 116 match" in " ".join(site_text(site)["sections/reproduction.html"].split())
    # the rows carry the review's DOI (Pairwise70's review_doi column): the landing page cites it
    landing = (site / "intro.html").read_text()
    assert 'href="https://doi.org/10.1002/14651858.CD001703.pub4"' in landing
    assert "The review: doi: 10.1002/14651858.CD001703.pub4" in " ".join(site_text(site)["intro.html"].split())
    # issue #21, item 5, on the built pages (the page-level checks of five more reviews are
    # tests/test_other_reviews.py's): no package or engine code on any page, and no
    # sensitivity or subgroup analysis among the key findings
    from test_other_reviews import INTERNAL, NAMED_SECONDARY

    texts = site_text(site)
    assert len(texts) >= 5 and not {p: INTERNAL.findall(t) for p, t in texts.items() if INTERNAL.search(t)}
    key = " ".join(texts["intro.html"].split())
    assert "Comparison" in key and not NAMED_SECONDARY.search(key.split("The main comparisons")[0])


def generated_package(tmp_path, study_name):
    """A small package the test writes itself, with markup in a study and an analysis name."""
    from reviewbook.package import datapackage as dp

    pkg = dp.read(FIX / "Fleiss1993.zip")
    rows = pkg.rows.copy()
    rows.loc[0, "Study"] = study_name
    analyses = pkg.analyses.copy()
    analyses.loc[1, "Analysis name"] = "Pain <i>intensity</i> `{glue}` $x$"
    new = dp.Package("GEN0001", analyses, rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                     pkg.references, {})
    return dp.write(new, tmp_path / "GEN0001")


@pytest.mark.slow(32)
def test_generated_package_and_markup_in_names_render_as_text(repo, tmp_path):
    evil = "<script>alert('x')</script><b>Bold</b> {ref}`x` [link](http://example.com)"
    pkg = generated_package(tmp_path, evil)
    res = run_book(repo, "--data", pkg)
    assert res.returncode == 0, res.stdout + res.stderr
    site = repo / "book/_build/html"
    page = (site / "sections/comparison_1.html").read_text()
    assert "<script>alert" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert" in page and "&lt;b&gt;Bold&lt;/b&gt;" in page
    assert "<i>intensity</i>" not in page and "&lt;i&gt;intensity&lt;/i&gt;" in page
    if CHROMIUM:
        problems = browse(["sections/comparison_1.html", "sections/study_flow.html", "intro.html"], site)
        assert not problems, problems
    # a rerun on the embedded data restores the default book
    assert run_book(repo).returncode == 0
