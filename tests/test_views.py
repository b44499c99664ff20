"""Views: forest plot content, RoB and TSA figures, tables and escaping (figures are
checked as the text matplotlib draws, since nbval never compares images).  Expected
per-study numbers are RevMan's stored results in the review's data rows."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.views.forest import forest_plot
from reviewbook.views.style import plain
from reviewbook.views.tables import Table, escape, linked
from needs import require

ROOT = Path(__file__).resolve().parents[1]
PKG = dp.read(ROOT / "data/CD015373")


def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_forest_plot_axis_and_columns():
    """Analysis 1.1: Sigtermans 2009 MD -27.70 [-41.43, -13.97] (RevMan stored -27.7,
    -41.426746, -13.973254, weight 36.114934%); pooled -15.79 [-32.09, 0.51] (published)."""
    tx = texts(forest_plot(an.run(PKG, "1.1"), title="t"))
    for label in ("-40", "-20", "0", "20", "40"):
        assert label in tx
    assert "-27.70 [-41.43, -13.97]" in tx and "36.1%" in tx and "100.0%" in tx
    assert "-15.79 [-32.09, 0.51]" in tx
    assert "Favours Ketamine (IV)" in tx and "Favours Placebo" in tx
    assert "IV, Random, 95% CI" in tx


def test_forest_plot_ratio_scale_and_heterogeneity():
    """Fleiss1993 analysis 1.1, RevMan stored OR 0.896866 [0.840514, 0.956995], I² 39.67%."""
    pkg = dp.read(ROOT / "tests/fixtures/Fleiss1993.zip")
    tx = texts(forest_plot(an.run(pkg, "1.1")))
    assert "0.90 [0.84, 0.96]" in tx
    assert "Heterogeneity: Chi² = 9.95, df = 6 (P = 0.13); I² = 40%" in tx  # P as RevMan writes it
    assert {"0.5", "1", "2"} <= set(tx)


def test_forest_plot_subgroups_totals_and_test():
    """Analysis 1.10 (adverse events by condition): two subgroups with subtotals, the
    overall total, the test for subgroup differences; weights relative to the overall
    total as RevMan stored them (Schwartzman 2009 43.698082%)."""
    tx = texts(forest_plot(an.run(PKG, "1.10")))
    assert "Peripheral neuropathic pain" in tx and "Complex regional pain syndrome" in tx
    assert tx.count("Subtotal (95% CI)") == 2 and "Total (95% CI)" in tx
    assert "43.7%" in tx
    assert any(t.startswith("Test for subgroup differences: Chi² = ") for t in tx)


def test_forest_plot_not_estimable():
    """Analysis 1.19: Pickering 2020 0/8 vs 0/6, no events in either arm: 'Not estimable',
    as RevMan shows it (the stored row has no result)."""
    ar = an.run(PKG, "1.19")
    assert ar.result is None
    tx = texts(forest_plot(ar))
    assert tx.count("Not estimable") == 2 and "Pickering 2020" in tx
    assert "0" in tx and "8" in tx and "6" in tx  # the arm data are still shown


def test_forest_plot_subtotals_only(tmp_path):
    """A review with subtotals only (weights within subgroups, no overall total):
    CD001703.pub4 analysis 1.17, two subgroups of one study each (stored weights 100 and 100)."""

    rows = ROOT.parent / "shared/datasets/pairwise70/CD001703_pub4_data.csv"
    require("shared")
    from reviewbook.package import importer

    pkg = importer.build(rows).package
    ar = an.run(pkg, "1.17")
    assert not ar.totals and ar.weights() == {"Pirbudak 2003": 100.0, "Marks 2014": 100.0}
    tx = texts(forest_plot(ar))
    assert "Total (95% CI)" not in tx and tx.count("100.0%") >= 2
    assert any("Subtotals only" in t for t in tx)


def test_rob_traffic_light_shows_the_judgements():
    from reviewbook.book.pages import rob_table
    from reviewbook.views.rob import traffic_light

    domains, rows, empty = rob_table(PKG)
    assert len(domains) == 6 and empty == 0  # every row of this review judges at least domain 1
    dadabayev = [r for r in rows if r[0].startswith("Dadabayev 2020")]
    assert len(dadabayev) == 4  # two groups x analyses 2.1 and 2.2
    assert dadabayev[2][1]["Bias due to missing outcome data"] == "High risk"
    tx = texts(traffic_light(rows, list(domains)))
    assert "D1" in tx and "Overall" in tx and "×" in tx


def test_tsa_figure_and_sentence(tmp_path, monkeypatch):
    """Analysis 1.4 (pain, short term, 4 studies, 114 participants): in the details of the
    outcome, the sentence says how many more participants the D²-adjusted information size
    needs, says 'not conclusive' (no boundary is crossed) and that the boundaries are for
    monitoring (Cochrane Handbook ch. 22); one pair of error rates (alpha 0.05, power 0.80)
    serves the OIS and the TSA."""
    from reviewbook import book

    monkeypatch.chdir(tmp_path)  # the figures are written in the working folder; the review file is named
    sec = book.section(PKG, "ketamine_iv", review=ROOT / "book/review.yml")
    out = repr(sec.details())
    assert "Analysis 1.4: 114 participants have accrued" in out and "more participants" in out
    assert "not conclusive" in out and "power 0.8)" in out and "for monitoring" in out
    assert list((tmp_path / "figures").glob("ketamine_iv_1_4_tsa.svg"))
    assert not list((tmp_path / "figures").glob("ketamine_iv_1_8_tsa.svg"))  # one study: no TSA


def test_text_from_a_package_is_never_markup():
    assert escape("<b>x</b> {ref}`y` $z$ | *w*") == r"\<b\>x\<\/b\> \{ref\}\`y\` \$z\$ \| \*w\*"
    assert plain("$x$") == r"\$x\$"
    assert plain("a" * 40, 10) == "a" * 9 + "…"
    t = Table(["Study"], [["<script>alert(1)</script>"]], caption="c", label="tbl-x")
    assert "<script>" not in t._repr_markdown_() and "&lt;script&gt;" in t.to_html()


def test_web_addresses_in_cells_become_links_labelled_by_host():
    """The address is the link target (angle brackets: no Markdown inside it); trailing
    punctuation and an unopened ')' stay outside; a '|' ends it (it would split the row);
    everything around it is escaped; the text form keeps the full address."""
    assert linked("from: https://www.ncbi.nlm.nih.gov/pubmed/11004057 (abstract).") == (
        r"from\: [ncbi\.nlm\.nih\.gov](<https://www.ncbi.nlm.nih.gov/pubmed/11004057>) \(abstract\)\.")
    assert linked("(https://a.org/x_(y)); b") == r"\([a\.org](<https://a.org/x_(y)>)\)\; b"
    assert linked("https://a.org/p|q") == r"[a\.org](<https://a.org/p>)\|q"
    assert linked("javascript:alert(1) ftp://x") == r"javascript\:alert\(1\) ftp\:\/\/x"
    t = Table(["Source"], [["https://a.org/p"]], caption="c", label="tbl-y")
    assert "https://a.org/p" in repr(t) and "[a\\.org](<https://a.org/p>)" in t._repr_markdown_()


def test_sections_claim_the_right_analyses():
    """The review file's rules: IV ketamine = comparisons 1 and 2 (not harms), memantine = 7,
    other NMDA antagonists = 3-6 and 8-13, harms = adverse-event outcomes of every drug."""
    from reviewbook import book

    owners = book.claim(PKG)
    assert owners["1.1"] == owners["2.1"] == "ketamine_iv"
    assert owners["7.2"] == "memantine" and owners["3.1"] == owners["11.1"] == "other_nmda"
    for aid in ("1.9", "1.19", "2.2", "3.3", "7.10", "12.1", "13.1"):
        assert owners[aid] == "harms", aid
    assert "other_analyses" not in owners.values()


def test_findings_bold_labels_render_as_bold():
    """CommonMark (spec 0.31, 6.2, right-flanking delimiter runs): '**Setting: **' does not
    close, so the label's trailing space goes outside the markers and no asterisk shows."""
    from reviewbook.views.details import Findings

    md = Findings([("Drug compared with placebo", [[("Setting: ", True), ("clinics <b>", False)]], "")])._repr_markdown_()
    assert f"- **{escape('Setting:')}** {escape('clinics <b>')}" in md, md
