"""Books about other reviews speak their review's language (issue #21, item 5).

Five reviews of the training half of the Pairwise70 collection (../shared/datasets/
pairwise70/train, its README), each imported as ``import-rows`` imports it, and read at
the level of what a page shows (the Markdown of the key findings, the summary of findings
and each section's table of outcomes; the appraisal of every analysis), not through a
Sphinx build: the full build of another review's book is tests/test_site.py's.

Chosen for what they carry (read from their CSV files):

* CD014935.pub2: sensitivity analyses named in the analysis names (best-case and
  worst-case scenarios, a fixed-effect model: 1.2, 1.3, 1.5, 1.6, 1.7, 1.10), and
  Mantel-Haenszel random effects (the leptospirosis review of issue #21);
* CD003429.pub5: sensitivity analyses (1.3, 1.8) beside subgrouped analyses;
* CD007026.pub7: a comparison (2) made only of sensitivity analyses, and subgroups;
* CD015849.pub2: generic inverse-variance hazard ratios, named only in the analysis names
  ('All-cause death (Hazard ratio)');
* CD007859.pub5: a generic inverse-variance rate ratio ('alignment rate ratio', 3.4).

Each check is a function of one :class:`Book`; :data:`CHECKS` lists them and every check
runs on every review and on the default book, so more checks (e.g. no 'upper bound', verbs that match ratings,
absolute effects whose CI points the way of the relative effect's) are added by appending
to :data:`CHECKS`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from test_phrases import broken

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared/datasets/pairwise70/train"
REVIEWS = ("CD015849_pub2", "CD014935_pub2", "CD003429_pub5", "CD007026_pub7", "CD007859_pub5")
#: The default book (data/CD015373 with book/review.yml) runs the same checks.
DEFAULT = "CD015373"

#: Codes of the package and the engine that a reader must never see (RevMan's words or
#: the measure's name stand for them).
INTERNAL = re.compile(r"\b(?:GENR?|GIV|MH-DL|PETO|RaR|ROM|SUBGROUP_AND_OVERALL)\b")
#: An analysis named as a sensitivity or subgroup analysis (an independent reading of the
#: names, for the check; the book's own rule is reviewbook.appraisal.roles).
NAMED_SECONDARY = re.compile(r"(?<![a-z-])sensitivity\b|\bsubgroups?\b|\b(?:best|worst)[- ]case\b", re.I)


@dataclass
class Book:
    """What a book about one review shows, read without building it."""

    review: str
    pkg: object
    judged: dict
    mains: list
    secondary: dict
    pages: dict  # page -> Markdown a page shows (key findings, summary of findings, sections)
    results: dict  # the results JSON a build of the book writes (runner.collect_results)

    def text(self) -> str:
        """The pages' text, Markdown escapes removed."""
        return re.sub(r"\\(.)", r"\1", "\n".join(self.pages.values()))


def _book(review: str, tmp: Path) -> Book:
    from reviewbook.appraisal.roles import secondary_analyses
    from reviewbook.book import review as rv
    from reviewbook.book.evidence import judged_all
    from reviewbook.book.sections import Section, review_for
    from reviewbook.book.synthesis import key_findings, main_comparisons, settings_table, summary_of_findings
    from reviewbook.package import datapackage as dp
    from reviewbook.package.importer import main as import_rows

    if review == DEFAULT:
        pkg = dp.read(ROOT / "data/CD015373")
        r = rv.load(ROOT / "book/review.yml")
    else:
        out = tmp / review
        assert import_rows(str(TRAIN / f"{review}_data.csv"), str(out)) == 0
        pkg = dp.read(out)
        r = review_for(pkg, "auto")
    judged = judged_all(pkg, r, {})
    pages = {"key findings": key_findings(pkg, review=r)._repr_markdown_(),
             "summary of findings": summary_of_findings(pkg, review=r)._repr_markdown_(),
             "settings (reproduction)": settings_table(pkg)._repr_markdown_()}
    for key in dict.fromkeys(rv.claim(pkg, r).values()):
        pages[f"section {key}"] = Section(pkg, key, review=r).main_outcomes()._repr_markdown_()
    from reviewbook.book.runner import collect_results

    return Book(review, pkg, judged, main_comparisons(pkg, r, judged), secondary_analyses(pkg), pages,
                collect_results(pkg, r))


@pytest.fixture(scope="module")
def books(tmp_path_factory):
    if not TRAIN.is_dir():
        pytest.skip("../shared/datasets/pairwise70/train is absent (a clone without ../shared)")
    tmp = tmp_path_factory.mktemp("reviews")
    return {name: _book(name, tmp) for name in REVIEWS + (DEFAULT,)}


# ------------------------------------------------------------------ the checks

def no_internal_code(b: Book):
    """No package or engine code on a page (issue #21: 'GENR 1.07 (0.91 to 1.25)',
    'MID (GENR 0.75 or 1.25 ...)'); the review's own analysis names are its words and
    are left out of the check."""
    text = b.text()
    for aid in b.pkg.analysis_ids():
        text = text.replace(b.pkg.analysis(aid).name, "")
    found = sorted(set(INTERNAL.findall(text)))
    assert not found, f"{b.review}: {found}"


def no_secondary_analysis_as_main_outcome(b: Book):
    """Key findings and summary-of-findings outcomes are never sensitivity or subgroup
    analyses (issue #21: 'sensitivity analysis: laboratory-confirmed leptospirosis
    (best-case scenario)' was a key finding)."""
    checked = 0
    for m in b.mains:
        for aid in set(m.outcomes) | set(m.key):
            checked += 1
            name = b.pkg.analysis(aid).name
            assert aid not in b.secondary, (b.review, aid, name)
            assert not NAMED_SECONDARY.search(name), (b.review, aid, name)
            it = b.judged[aid]
            assert it.appraisal is None or not it.appraisal.parent, (b.review, aid, "subgroup view")
    # every comparison with an analysis that is neither kind has at least one outcome
    assert checked >= len(b.mains) >= 1


def phrases_read_as_english(b: Book):
    """Every statement's outcome phrase reads as English (tests/test_phrases.py's patterns)."""
    said = [(aid, it.appraisal.statement) for aid, it in b.judged.items()
            if it.appraisal is not None and it.appraisal.statement]
    bad = [x for x in said if broken(x[1])]
    assert not bad, (b.review, bad[:5])
    # a statement for every analysis with a pooled result
    assert len(said) == sum(1 for it in b.judged.values() if it.pooled is not None) >= 1


#: Generic ratio analyses whose names name a hazard or rate ratio, per review: counted in the
#: CSV files (CD015849.pub2: 29 of its 144 analysis names say 'Hazard ratio', all of them
#: generic inverse-variance data on the log scale; CD007859.pub5: 3.4, 'alignment rate ratio').
NAMED_RATIOS = {"CD015849_pub2": 29, "CD007859_pub5": 1}


def measures_named_in_words(b: Book):
    """A generic inverse-variance ratio is named from the package or its analysis name
    ('HR', 'Rate ratio'), never 'Ratio' where a name was there to read."""
    from reviewbook.package.analysis import measure_name

    named_ratios = 0
    for aid, it in b.judged.items():
        r = it.pooled
        if r is None or r.measure != "GENR":
            continue
        named = measure_name(it.settings, "GENR")
        if re.search(r"hazard ratio|rate ratio", it.settings.name, re.I):
            assert named in ("HR", "Rate ratio"), (b.review, aid, it.settings.name)
            assert r.label == named
            named_ratios += 1
    assert named_ratios == NAMED_RATIOS.get(b.review, 0), (b.review, named_ratios)


def verbs_match_ratings(b: Book):
    """Every narrative statement's verb matches its certainty (GRADE 26; tests/grade_checks.py)."""
    from grade_checks import statement_verbs

    checked, problems = statement_verbs(b.results)
    assert not problems, (b.review, problems[:5])
    # every analysis the results carry with a certainty and a statement was read
    rated = sum(1 for a in b.results["analyses"].values() if a.get("certainty") and a.get("statement"))
    assert checked == rated >= 1, (b.review, checked, rated)


def absolute_effects_point_with_ratios(b: Book):
    """No absolute effect whose estimate or CI points against the relative effect's
    (Cochrane Handbook 5.1, 12.5.4; tests/grade_checks.py)."""
    from grade_checks import absolute_directions

    checked, problems = absolute_directions(b.results)
    assert not problems, (b.review, problems[:5])
    ratios = sum(1 for a in b.results["analyses"].values() if (a.get("absolute") or {}).get("kind") == "ratio")
    assert checked <= ratios and (checked >= 1 or ratios == 0), (b.review, checked, ratios)


def no_upper_bound(b: Book):
    """A rating is a rating (issue #21): no 'upper bound' in the results or on a page."""
    from grade_checks import UPPER, no_upper_bound_in_results

    checked, problems = no_upper_bound_in_results(b.results)
    assert not problems and checked == len(b.results["analyses"]) >= 1, (b.review, problems[:5])
    assert not UPPER.search(b.text()), b.review


CHECKS = [no_internal_code, no_secondary_analysis_as_main_outcome, phrases_read_as_english,
          measures_named_in_words, verbs_match_ratings, absolute_effects_point_with_ratios, no_upper_bound]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("review", REVIEWS + (DEFAULT,))
def test_other_review(books, review, check):
    check(books[review])


def test_the_reviews_carry_what_they_were_chosen_for(books):
    """The checks bite: the sensitivity analyses named in CD014935.pub2 (1.2, 1.3, 1.5, 1.6,
    1.7, 1.10: their names in the CSV) and CD003429.pub5 (1.3, 1.8) are found, CD007026.pub7's
    comparison 2 (all four analyses sensitivity analyses) has no main outcome, and
    CD015849.pub2 and CD007859.pub5 show 'HR' and 'Rate ratio' on their pages, and the
    settings that import-rows inferred for generic data (code GENR in settings-inferred.csv)
    are shown in words."""
    assert set(books["CD014935_pub2"].secondary) == {"1.2", "1.3", "1.5", "1.6", "1.7", "1.10"}
    assert {"1.3", "1.8"} <= set(books["CD003429_pub5"].secondary)
    assert 2 not in {m.group for m in books["CD007026_pub7"].mains}
    assert re.search(r"\bHR \d\.\d\d \(", books["CD015849_pub2"].text())  # e.g. 1.2, all-cause death
    assert re.search(r"\bRate ratio \d", books["CD007859_pub5"].text())  # 3.4
    assert "Generic (ratio, log scale)" in books["CD015849_pub2"].text()
    assert len(books) == 6  # five reviews and the default book


def test_the_mantel_haenszel_dl_is_named_apart(books):
    """RevMan's 'M-H, Random' (DL tau² about the M-H estimate) is named as such in a
    sensitivity table, apart from the Bayesian table's inverse-variance DL (issue #21,
    item 4: RR 0.56 against 0.57 on one page)."""
    from reviewbook.book import review as rv
    from reviewbook.book.sections import DL_LABELS, Section, review_for

    b = books["CD014935_pub2"]
    r = review_for(b.pkg, "auto")
    key = rv.claim(b.pkg, r)["1.1"]
    sec = Section(b.pkg, key, review=r)
    it = next(x for x in sec.items if x.aid == "1.1")
    assert it.result.engine_method == "MH-DL"
    labels = [row[0] for row in sec._sensitivity_parts(it)[0].rows]
    bayes = [row[0] for row in sec._bayes_parts(it)[0].rows]
    assert DL_LABELS["MH-DL"] in labels and DL_LABELS["DL"] not in labels
    assert bayes[0].startswith(DL_LABELS["DL"])
