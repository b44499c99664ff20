"""The default book rebuilt: nothing changed, one value changed (the 'What changed'
page), and a forced rebuild that gives the same outputs.  Each works in its own copy of
the shared build (tests/conftest.py ``default_book``); split from tests/test_book.py."""
import json
import re

import pytest

from bookutil import copy_built, run_book
from test_book import SECTIONS, text_of


def test_rebuild_with_nothing_changed_is_up_to_date(built, tmp_path):
    """In a copy of the built repository (a rebuild takes the build's lock and may write
    its state: the shared build is only read)."""
    repo = copy_built(built[0], tmp_path / "repo")
    res = run_book(repo)
    assert res.returncode == 0
    assert "up to date" in res.stdout


@pytest.mark.slow(29)
def test_changed_value_reexecutes_only_the_notebooks_that_read_it(built, tmp_path):
    """Maier 2003 in analysis 7.2 (memantine, pain short term): experimental mean 32 -> 30,
    in a copy of the built repository (its site and cache included), so that the shared
    build stays as built for the tests after this one."""
    import csv
    import io

    repo = copy_built(built[0], tmp_path / "repo")
    path = repo / "data/CD015373/CD015373-analysis-data/CD015373-data-rows.csv"
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    h = table[0]
    hit = [r for r in table[1:] if r[h.index("Study")] == "Maier 2003" and r[h.index("Analysis group")] == "7"
           and r[h.index("Analysis number")] == "2"]
    assert len(hit) == 1 and float(hit[0][h.index("Experimental mean")]) == 32
    hit[0][h.index("Experimental mean")] = "30.0"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    res = run_book(repo)
    assert res.returncode == 0, res.stderr
    assert re.search(r"memantine\s+executed", res.stdout)
    for name in ("ketamine_iv", "harms", "other_nmda", "study_flow"):
        assert re.search(rf"{name}\s+cached", res.stdout), name
    changed = text_of(repo, "what_changed.html")
    assert "Estimates that moved" in changed and "7.2" in changed and "memantine" in changed


@pytest.mark.slow(19)
def test_two_builds_from_the_same_inputs_are_identical(built, tmp_path):
    """The shared build (a first build of a clean copy) and a forced rebuild of a copy of
    it, in another folder: the same results, notebook outputs and figures."""
    first_site = built[0] / "book/_build/html"
    first = (first_site / "results.json").read_text()
    nb_first = {p.name: _outputs(p) for p in (first_site / "downloads").glob("*.ipynb")}
    svg_first = {p.name: p.read_bytes() for p in (first_site / "_images").glob("*.svg")}
    # a notebook per section page and the landing page's; every analysis's figures (as test_pdf_appendix)
    assert len(nb_first) == len(SECTIONS) + 1 and len(svg_first) > 100
    repo = copy_built(built[0], tmp_path / "repo")
    site = repo / "book/_build/html"
    res = run_book(repo, "--force")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not re.search(r"\scached\b", res.stdout)  # forced: every notebook ran again
    assert (site / "results.json").read_text() == first
    assert {p.name: _outputs(p) for p in (site / "downloads").glob("*.ipynb")} == nb_first
    assert {p.name: p.read_bytes() for p in (site / "_images").glob("*.svg")} == svg_first


def _outputs(path):
    nb = json.loads(path.read_text())
    return [(c.get("source"), c.get("outputs")) for c in nb["cells"]]
