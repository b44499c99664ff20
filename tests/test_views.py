"""Views: forest plot content, tables and escaping (figures are checked as the
text matplotlib draws, since nbval never compares images)."""
import matplotlib

matplotlib.use("Agg")

from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.views.forest import forest_plot
from reviewbook.views.tables import Table, escape
from reviewbook.views.style import plain



def texts(fig):
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_forest_plot_axis_and_columns():
    """Sigtermans 2009 MD -27.70 [-41.43, -13.97] (test_data.py derives the arms):
    ticks at multiples of 20 around 0, labels shown in full (no stripped zeros)."""
    pkg = dp.read(__import__("pathlib").Path(__file__).resolve().parents[1] / "data/CD015373")
    fig = forest_plot(an.run(pkg, "1.1"), title="t")
    tx = texts(fig)
    for label in ("-40", "-20", "0", "20", "40"):
        assert label in tx
    assert "-27.70 [-41.43, -13.97]" in tx and "100.0%" in tx
    assert "Favours IV ketamine" in tx and "Favours control" in tx
    assert "Test for overall effect: Z = 3.96 (P < 0.0001)" in tx


def test_forest_plot_ratio_scale_and_heterogeneity():
    """Fleiss1993 analysis 1.1, RevMan stored OR 0.896866 [0.840514, 0.956995], I² 39.67%."""
    pkg = dp.read(__import__("pathlib").Path(__file__).parent / "fixtures/Fleiss1993.zip")
    tx = texts(forest_plot(an.run(pkg, "1.1")))
    assert "0.90 [0.84, 0.96]" in tx
    assert "Heterogeneity: Chi² = 9.95, df = 6 (P = 0.1269); I² = 40%" in tx
    assert {"0.5", "1", "2"} <= set(tx)


def test_text_from_a_package_is_never_markup():
    assert escape("<b>x</b> {ref}`y` $z$ | *w*") == r"\<b\>x\<\/b\> \{ref\}\`y\` \$z\$ \| \*w\*"
    assert plain("$x$") == r"\$x\$"
    assert plain("a" * 40, 10) == "a" * 9 + "…"
    t = Table(["Study"], [["<script>alert(1)</script>"]], caption="c", label="tbl-x")
    assert "<script>" not in t._repr_markdown_() and "&lt;script&gt;" in t.to_html()


def test_section_windows_parameter_selects_pain_windows():
    """The notebooks' `windows` parameter: an analysis named after a window that is
    not listed is left out; analyses without a window (harms) are always kept."""
    from reviewbook import book

    pkg = dp.read(__import__("pathlib").Path(__file__).resolve().parents[1] / "data/CD015373")
    assert [i.aid for i in book.Section(pkg, "ketamine_iv").items] == ["1.1"]  # immediate term
    assert book.Section(pkg, "ketamine_iv", windows=["short"]).items == []
    assert [i.aid for i in book.Section(pkg, "harms", windows=["short"]).items] == ["1.5"]
