"""RevMan's rules, read off its stored per-study results in real reviews' rows, and
what ``import-rows`` and ``audit`` make of the rows RevMan could not compute.

Each test takes the rows of one or two analyses of a review of the Pairwise70
collection (``../shared/datasets/pairwise70/train``, read in place; the rows are
written to a temporary file with the file's own header, never into the project) and
checks the import and the audit against RevMan's stored values in those rows (the
``Mean``, ``CI.start``, ``CI.end`` and ``Weight`` columns: the expected numbers are
RevMan's).  Constructed rows say how their stored values were computed."""
import csv
import io
import json
import math
from pathlib import Path
from statistics import NormalDist

import pytest

from reviewbook.engine import effects
from reviewbook.errors import InputError
from reviewbook.package import audit as au
from reviewbook.package import datapackage as dp
from reviewbook.package import importer

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "datasets" / "pairwise70" / "train"
needs_train = pytest.mark.needs("shared")
Z = NormalDist().inv_cdf(0.975)


from conftest import cli  # noqa: E402


def extract(review, analyses, out: Path, edit=None) -> Path:
    """The rows of ``analyses`` (e.g. ``["1.10"]``) of a training review, with the
    file's own header, written to ``out``; ``edit(row)`` may change a row."""
    with open(TRAIN / f"{review}_data.csv", newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames
        keep = [r for r in reader if f"{r['Analysis.group']}.{r['Analysis.number']}" in analyses]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in keep:
        w.writerow(edit(r) if edit else r)
    out.write_text(buf.getvalue(), encoding="utf-8")
    return out


def stored_rows(path) -> int:
    """Rows of a rows file for which RevMan stored a result (a non-zero Mean, CI limit or Weight)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        return sum(any(r[c] not in ("", "0") and float(r[c]) != 0 for c in ("Mean", "CI.start", "CI.end", "Weight"))
                   for r in csv.DictReader(f))


def read_csv(path, encoding="utf-8"):
    with open(path, newline="", encoding=encoding) as f:
        return list(csv.DictReader(f))


def import_and_audit(path, tmp_path):
    out = tmp_path / "pkg"
    res = cli("import-rows", path, out)
    assert res.returncode == 0, res.stderr
    a = cli("audit", out, "--json")
    assert a.returncode in (0, 1), a.stderr
    return out, {r["id"]: r for r in json.loads(a.stdout)["analyses"]}


# ------------------------------------------------------------------ which studies RevMan leaves without a result

@needs_train
def test_sd_0_in_either_arm_is_not_estimable(tmp_path):
    """CD004953.pub5 1.10: Mercadante 2016 has control SD 0 (experimental SD 2.8) and
    RevMan stored no result for it; the six other studies' stored weights (La Verde 2019
    70.319558, ...) are reproduced only when it is left out (with it they were 39.99)."""
    path = extract("CD004953_pub5", ["1.10"], tmp_path / "r.csv")
    _, a = import_and_audit(path, tmp_path)
    s = a["1.10"]
    assert (s["studies"]["checked"], s["studies"]["matched"]) == (6, 6)
    assert s["not_estimable"] == [{"study": "Mercadante 2016", "reason": "not estimable: SD is 0 in an arm"}]


@needs_train
def test_sd_0_where_revman_stored_a_result_is_reported_not_refused(tmp_path):
    """CD004953.pub5 1.10 with La Verde 2019's experimental SD set to 0 here (RevMan
    stored MD 0.5 [-0.090951, 1.090951] for it): the data no longer give a result, so the
    row is not estimable and the audit names the disagreement (exit 1); the review is not
    refused."""
    def edit(r):
        if r["Study"] == "La Verde 2019":
            r = dict(r, **{"Experimental.SD": "0"})
        return r
    path = extract("CD004953_pub5", ["1.10"], tmp_path / "r.csv", edit)
    _, a = import_and_audit(path, tmp_path)
    reasons = {m["study"]: m["reason"] for m in a["1.10"]["studies"]["mismatches"]}
    assert reasons["La Verde 2019"].startswith("not-estimable-here: ")
    assert reasons["La Verde 2019"].endswith("(SD is 0 in an arm)")


@needs_train
def test_events_above_n_in_a_row_revman_did_not_compute(tmp_path):
    """CD001920.pub4 2.5, ReTrain 2018: 84 adverse events in 21 participants (events,
    not participants, were counted), and RevMan stored no result: imported, the row not
    estimable with the reason; before, the whole review was refused."""
    path = extract("CD001920_pub4", ["2.4", "2.5"], tmp_path / "r.csv")
    _, a = import_and_audit(path, tmp_path)
    assert a["2.5"]["status"] == "not estimable"
    assert a["2.5"]["not_estimable"] == [
        {"study": "ReTrain 2018", "reason": "not estimable: more events than participants in an arm"}]
    assert a["2.4"]["studies"]["checked"] == a["2.4"]["studies"]["matched"] == stored_rows(path)


@needs_train
def test_events_above_n_in_a_row_revman_computed_is_refused(tmp_path):
    """The strict check stays where the data are invalid for their data type: in
    CD000028.pub4 1.1 (dichotomous; Carter 1970 7/22 vs 9/26, RR 0.919192 stored), 30
    events in 22 participants contradict RevMan's stored result: exit 2, with the line
    and the file's own column."""
    def edit(r):
        if r["Study"] == "Carter 1970":
            r = dict(r, **{"Experimental.cases": "30"})
        return r
    path = extract("CD000028_pub4", ["1.1"], tmp_path / "r.csv", edit)
    res = cli("import-rows", path, tmp_path / "pkg")
    assert res.returncode == 2
    assert ("r.csv, line 2, column 'Experimental.cases': found 30 events; expected at most Experimental N = 22"
            in res.stderr)
    assert not (tmp_path / "pkg").exists()


@needs_train
def test_counts_beside_o_e_data_are_not_checked(tmp_path):
    """CD008469.pub3 1.6 is O-E and variance; Fisher 2009 also carries counts 55/9 in
    the control arm, a field its data type does not use: imported, and RevMan's stored
    HR 0.043742 [0.001169, 1.636693] and every other stored result reproduced."""
    path = extract("CD008469_pub3", ["1.6"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    s = a["1.6"]
    assert s["studies"]["checked"] == s["studies"]["matched"] == stored_rows(path) == 12
    settings = read_csv(out / "settings-inferred.csv")
    assert settings[0]["data_type"] == "O-E and variance"


@needs_train
def test_a_zero_se_is_not_estimable_and_audit_accepts_what_import_wrote(tmp_path):
    """CD011305.pub3 1.1: generic inverse variance rows with GIV SE 0 (and an analysis
    for which RevMan stored nothing).  Before, import-rows wrote the package and audit
    refused it (exit 2, 'GIV SE found 0'); now one validator serves both: the rows with
    SE 0 are not estimable with the reason."""
    path = extract("CD011305_pub3", ["1.1"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    dp.read(out)  # the package reader accepts it
    reasons = {x["study"]: x["reason"] for x in a["1.1"]["not_estimable"]}
    assert reasons["Byun 2023 (D)"] == "not estimable: no numbers in any data field"
    assert set(reasons) == {"Byun 2023 (D)", "Byun 2023 (S)", "Robitaille 2013"}


@needs_train
def test_an_analysis_without_numbers(tmp_path):
    """CD012891.pub2 4.3: every data field 0 (RevMan shows the analysis with no data):
    imported, not estimable, settings not identifiable; before, the review was refused."""
    path = extract("CD012891_pub2", ["4.2", "4.3"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    assert a["4.3"]["status"] == "not estimable"
    settings = {r["analysis"]: r for r in read_csv(out / "settings-inferred.csv")}
    assert settings["4.3"]["status"] == "not identifiable"


@needs_train
def test_not_applicable_is_a_rob2_judgement(tmp_path):
    """CD014722.pub2 3.13, Eloff 2014: overall RoB 2 judgement 'Not applicable' (a value
    RevMan writes); kept as such in risk-of-bias.csv; the stored SMDs are reproduced."""
    path = extract("CD014722_pub2", ["3.13"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    assert a["3.13"]["studies"]["matched"] == 8
    rob = read_csv(next(out.rglob("*-risk-of-bias.csv")), "utf-8-sig")
    eloff = [r for r in rob if r["Study"] == "Eloff 2014"][0]
    assert eloff["Domain (judgement): Overall bias"] == "Not applicable"
    assert eloff["Domain (judgement): Bias due to deviations from intended interventions"] == "Some concerns"


# ------------------------------------------------------------------ settings read off the stored values

@needs_train
def test_swap_event_and_non_event(tmp_path):
    """CD013232.pub2 7.2: Nikvarz 2017 2/15 vs 5/15 is stored as RR 1.3 [0.863432,
    1.957305], the risk ratio of the non-events (13/15)/(10/15) = 1.3: RevMan's 'Swap
    event and non-event' setting, inferred and written to the package."""
    path = extract("CD013232_pub2", ["7.2"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    assert a["7.2"]["studies"]["matched"] == 1
    pkg = dp.read(out)
    assert pkg.analysis("7.2").swap_events is True
    # the stored estimate is the risk ratio of the non-events, not of the events, computed
    # here from the package's own row
    rows = pkg.rows_of("7.2")
    assert len(rows) == 1
    r = rows.iloc[0]
    e1, n1, e2, n2 = (float(r[c]) for c in ("Experimental cases", "Experimental N",
                                             "Control cases", "Control N"))
    non_events = effects.dichotomous([n1 - e1], [n1], [n2 - e2], [n2], measure="RR")
    events = effects.dichotomous([e1], [n1], [e2], [n2], measure="RR")
    assert math.exp(non_events.yi[0]) == pytest.approx(float(r["Mean"]), rel=1e-6)
    assert math.exp(events.yi[0]) != pytest.approx(float(r["Mean"]), rel=1e-2)


@needs_train
def test_subgroups_that_share_a_name(tmp_path):
    """CD011381.pub3 3.11 (subtotals only): 'Laquinimod versus placebo/ no treatment'
    holds ALLEGRO, BRAVO and CONCERTO (stored weights 29.573424 + 25.351546 + 45.07503 =
    100) and, after other subgroups, ADVANCE 2014 alone (weight 100): two subgroups.
    CD004661.pub4 5.5: two contiguous subgroups both named 'As defined', weights
    89.56485 + 5.320357 + 5.114794 = 100 and 90.578348 + 9.421652 = 100."""
    path = extract("CD011381_pub3", ["3.11"], tmp_path / "a.csv")
    _, a = import_and_audit(path, tmp_path)
    assert a["3.11"]["studies"]["checked"] == a["3.11"]["studies"]["matched"] == 32
    res = importer.build(extract("CD004661_pub4", ["5.5"], tmp_path / "b.csv"))
    sub = res.package.rows_of("5.5")
    assert list(sub["Subgroup"]) == ["As defined"] * 3 + ["As defined (2)"] * 2
    assert "'As defined' (2 subgroups)" in res.evidence.iloc[0]["evidence"]
    out = tmp_path / "b"
    importer.write_import(res, out)
    rows = au.audit_package(dp.read(out))
    assert rows[0].studies["checked"] == rows[0].studies["matched"] == 5


def test_subgroup_labels_rules():
    """The rules on their own: RevMan's subgroup number decides where the file has it;
    without it, a name coming back after another subgroup is another subgroup, but only
    in rows that carry stored results (RevMan's export order); a run of one name whose
    stored weights add up to 200 is cut where they reach 100."""
    lab, note = importer.subgroup_labels(["A", "A", "B", "A"], None, [50, 50, 100, 100])
    assert lab == ["A", "A", "B", "A (2)"] and "'A' (2 subgroups)" in note
    lab, _ = importer.subgroup_labels(["A", "A", "B", "A"], None, [float("nan")] * 4)
    assert lab == ["A", "A", "B", "A"]  # no stored weights: nothing says the order is RevMan's
    lab, _ = importer.subgroup_labels(["A", "A", "A"], ["1", "2", "2"], [100, 60, 40])
    assert lab == ["A", "A (2)", "A (2)"]
    lab, _ = importer.subgroup_labels(["A", "A", "A", "A"], None, [70, 30, 20, 80])
    assert lab == ["A", "A", "A (2)", "A (2)"]
    lab, note = importer.subgroup_labels(["A", "A", "A"], None, [20, 30, 50])
    assert lab == ["A", "A", "A"] and note == ""


# ------------------------------------------------------------------ every mismatch has a reason

def _dich_rows(study, reading):
    """Three dichotomous studies with RevMan's RR and M-H weights stored (RR = (e1/n1)/(e2/n2),
    SE sqrt(1/e1 - 1/n1 + 1/e2 - 1/n2), weights c_i n1_i / N_i over their sum); ``study``'s
    stored result is instead that of ``reading``: 'swapped' (arms exchanged: 1/RR with the
    same SE) or 'OR' (the odds ratio, SE sqrt(1/a + 1/b + 1/c + 1/d))."""
    data = [("A 2001", 10, 50, 20, 50), ("B 2002", 5, 40, 9, 41), ("C 2003", 12, 60, 15, 58)]
    head = ["Analysis group", "Analysis number", "Analysis name", "Subgroup", "Study", "Experimental cases",
            "Experimental N", "Control cases", "Control N", "Weight", "Mean", "CI start", "CI end"]
    s = [e2 * n1 / (n1 + n2) for _, _, n1, e2, n2 in data]
    out = []
    for (name, e1, n1, e2, n2), si in zip(data, s):
        y, se = math.log((e1 / n1) / (e2 / n2)), math.sqrt(1 / e1 - 1 / n1 + 1 / e2 - 1 / n2)
        if name == study and reading == "swapped":
            y = -y
        elif name == study and reading == "OR":
            y = math.log((e1 * (n2 - e2)) / ((n1 - e1) * e2))
            se = math.sqrt(1 / e1 + 1 / (n1 - e1) + 1 / e2 + 1 / (n2 - e2))
        out.append([1, 1, "Outcome", "", name, e1, n1, e2, n2, round(100 * si / sum(s), 6)]
                   + [round(math.exp(y + k * Z * se), 6) for k in (0, -1, 1)])
    return head, out


def _write(path, head, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


@pytest.mark.parametrize("study,reading,category", [
    ("C 2003", "swapped", "swapped-arms"),  # (15/58)/(12/60) = 1.293103 stored for 12/60 vs 15/58
    ("B 2002", "OR", "other-measure"),  # (5 x 32)/(35 x 9) = 0.507937 stored where the RR is 0.569444
])
def test_mismatch_categories_of_one_row(tmp_path, study, reading, category):
    """One row whose stored result is its own under exchanged arms, or under another
    measure: the audit names the category (the other rows still match)."""
    head, rows = _dich_rows(study, reading)
    res = importer.build(_write(tmp_path / "r.csv", head, rows))
    out = tmp_path / "pkg"
    importer.write_import(res, out)
    row = au.audit_package(dp.read(out))[0]
    cats = {m["study"]: m["reason"].split(":")[0] for m in row.studies["mismatches"]}
    assert cats == {study: category}
    assert row.studies["matched"] == 2


@needs_train
def test_reml_weights_in_the_last_digit(tmp_path):
    """CD016211 1.17 (RR, IV random REML): the exact REML tau² (0.0151752757) gives
    Roca 2023 29.26122825 and Tita 2023 54.97945507 where RevMan stored 29.261229 and
    54.979454 (1e-6 off; the stored weights need tau² 0.01517528, 2.5e-7 relative
    away): category reml-iteration, with the size of the difference."""
    path = extract("CD016211", ["1.17"], tmp_path / "r.csv")
    _, a = import_and_audit(path, tmp_path)
    reasons = {m["study"]: m["reason"] for m in a["1.17"]["studies"]["mismatches"]}
    assert set(reasons) == {"Roca 2023", "Tita 2023"}
    assert all(r.startswith("reml-iteration: ") for r in reasons.values())


def test_every_category_is_described():
    """Every category the audit can give has its words (and the atlas counts them)."""
    assert set(au.REASONS) >= {"revman-not-estimable", "not-estimable-here", "swapped-arms", "other-measure",
                               "follows-other-row", "multi-arm-shared-control", "reml-iteration",
                               "weight-unexplained", "estimate-unexplained"}


# ------------------------------------------------------------------ one analysis, one name

def test_one_analysis_id_with_two_names_is_refused(tmp_path):
    """Rows of two analyses numbered alike: refused, with both names and their lines."""
    head = ["Analysis group", "Analysis number", "Analysis name", "Study", "Experimental cases", "Experimental N",
            "Control cases", "Control N"]
    path = _write(tmp_path / "r.csv", head, [[1, 1, "Pain", "A 2001", 1, 10, 2, 10],
                                             [1, 1, "Pain", "B 2002", 1, 10, 2, 10],
                                             [1, 1, "Nausea", "C 2003", 1, 10, 2, 10]])
    res = cli("import-rows", path, tmp_path / "out")
    assert res.returncode == 2
    assert ("r.csv, line 4, column 'Analysis name': found 'Nausea' as the name of analysis 1.1; "
            "expected one name per analysis: line 2 names it 'Pain'") in res.stderr
    with pytest.raises(InputError):
        importer.build(path)


@pytest.mark.parametrize("method", ["FE", "MH", "MH-DL", "PETO", "DL", "REML", "PM"])
def test_study_weights_are_those_of_meta(method):
    """pooling.study_weights (used by the settings inference) gives the weights of
    pooling.meta for every method, on tables with a zero cell and a double zero
    (RevMan's corrections apply alike); relative 1e-12."""
    import numpy as np

    from reviewbook.engine import effects, pooling

    es = effects.dichotomous([10, 5, 0, 12, 0], [50, 40, 30, 60, 20], [20, 9, 3, 15, 0], [50, 41, 28, 58, 22],
                             measure="OR")
    want = [s.weight for s in pooling.meta(es, method).studies]
    assert np.allclose(pooling.study_weights(es, method), want, rtol=1e-12, atol=0)


# ------------------------------------------------------------------ multi-arm studies with a shared arm

@needs_train
def test_multi_arm_rows_share_the_combined_rows_weight(tmp_path):
    """CD011535.pub7 (RevMan Web): a multi-arm study has a row per comparison in the
    subgroups and a row outside every subgroup that combines its arms.  In 1.4 CIMPACT
    2018 (certolizumab 108/332, etanercept 46/170, one placebo arm 0/57) has stored
    weights 0.406226 and 0.404306 in two subgroups and 0.828564 for the combined row
    154/502 vs 0/57; the column adds up to 100.828566.  In 5.7 (SMD, DL) Reich 2020's
    two rows share the ixekizumab arm: stored 15.647952 and 19.706445, combined
    19.780686.  In 2.8 (tau² = 0) Reich 2020: 3.683488, 2.432492, combined 6.115980.
    Before the rule, 414 of 969 stored results of the review were
    'multi-arm-shared-control'; with it every stored weight of these analyses is
    reproduced within its rounding (RevMan's values, the Weight column)."""
    path = extract("CD011535_pub7", ["1.4", "2.8", "5.7"], tmp_path / "r.csv")
    out, a = import_and_audit(path, tmp_path)
    # rows with a stored result: 1.4 all 35, 2.8 11 of 13 (two with no events), 5.7 all 7
    assert {k: (v["studies"]["checked"], v["studies"]["matched"]) for k, v in a.items()} == {
        "1.4": (35, 35), "2.8": (11, 11), "5.7": (7, 7)}
    from reviewbook.package import analysis as an
    from reviewbook.package.load import read_any
    pkg = read_any(out)
    expected = {"1.4": {"CIMPACT 2018 (1)": 0.406226, "CIMPACT 2018 (2)": 0.404306, "CIMPACT 2018 (3)": 0.828564,
                        "REVEAL 2008": 9.342176},
                "5.7": {"Reich 2020 (1)": 15.647952, "Reich 2020 (2)": 19.706445, "Reich 2020 (3)": 19.780686,
                        "CHAMPION 2008": 16.887842},
                "2.8": {"Reich 2020 (1)": 3.683488, "Reich 2020 (2)": 2.432492, "Reich 2020 (3)": 6.115980}}
    for aid, want in expected.items():
        w = an.run(pkg, aid).weights()
        for label, stored in want.items():
            assert abs(w[label] - stored) <= 5e-7 + 1e-12, (aid, label, w[label], stored)
    w14 = an.run(pkg, "1.4").weights()
    assert len(w14) == 35 and abs(sum(w14.values()) - 100.828566) < 35 * 5e-7


def test_shared_arm_weights_apply_only_to_their_layout():
    """The rule needs a row outside the subgroups that combines rows of one study in
    the subgroups; a row outside the subgroups naming a study found nowhere else, or
    no such row, is another layout (None: the weights of the pool of every row)."""
    import numpy as np
    from reviewbook.engine import effects, pooling

    es = effects.generic_se(np.array([0.1, 0.2, 0.3, 0.15]), np.array([0.2, 0.3, 0.25, 0.18]),
                            study=["a", "b", "c", "d"], measure="GEN")
    assert pooling.shared_arm_weights(es, ["g1", "g2", "g2", "g1"], ["a", "b", "c", "d"], "DL") is None
    assert pooling.shared_arm_weights(es, ["g1", "g2", "g2", ""], ["a", "b", "c", "d"], "DL") is None
    w = pooling.shared_arm_weights(es, ["g1", "g2", "g2", ""], ["a", "b", "a", "a"], "FE")
    # FE: the rows of 'a' (positions 0, 2) share 1/0.18^2 in proportion to 1/vi; 'b' keeps 1/0.3^2
    raw = np.array([1 / 0.18 ** 2 * (1 / 0.04) / (1 / 0.04 + 1 / 0.0625), 1 / 0.09,
                    1 / 0.18 ** 2 * (1 / 0.0625) / (1 / 0.04 + 1 / 0.0625)])
    assert np.allclose(w[[0, 1, 2]], 100 * raw / raw.sum())
    assert np.isclose(w[3], 100 * (1 / 0.18 ** 2) / (1 / 0.18 ** 2 + 1 / 0.09))
