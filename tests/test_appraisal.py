"""The appraisal layer's rules, each checked against the source it follows: direction of
benefit, MID, GRADE domain by domain, narrative statements, absolute effects and counting.

Sources (short forms; full references in reviewbook.appraisal.sources):
GRADE 5-8 (Guyatt et al. 2011, J Clin Epidemiol 64), GRADE 26 (Santesso et al. 2020,
J Clin Epidemiol 119:126), GRADE 34 (Zeng et al. 2022, J Clin Epidemiol 150:216), RoB 2
(Sterne et al. 2019), Cochrane Handbook 5.1 Table 12.2.d and 12.5.4, Cochrane Handbook ch.
10.11 and 14, Norman et al. 2003 (half an SD), Sterne et al. 2011 (10 studies for tests of
funnel asymmetry), Röver et al. 2015 (HKSJ with few studies)."""
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from reviewbook.appraisal import absolute as ab
from reviewbook.appraisal import config as ac
from reviewbook.appraisal import grade as gr
from reviewbook.appraisal.counting import count, subgroup_parents
from reviewbook.appraisal.direction import resolve
from reviewbook.appraisal.mid import Mid, mid_for
from reviewbook.appraisal.statements import statement
from reviewbook.book import review as rv
from reviewbook.book.evidence import judged_all
from reviewbook.engine import effects, pooling
from reviewbook.engine.report import fmt_p
from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.package.outcomes import OutcomeRule

ROOT = Path(__file__).resolve().parents[1]
PKG = dp.read(ROOT / "data/CD015373")
REVIEW = rv.load(ROOT / "book/review.yml")
FLEISS = dp.read(ROOT / "tests/fixtures/Fleiss1993.zip")


def judged():
    return judged_all(PKG, REVIEW, {})


# ------------------------------------------------------------------ direction of benefit

def test_package_graph_labels_are_shown_verbatim():
    """Rule step 1 (issue #15 §1): RevMan's own labels win and are shown as written."""
    s = replace(FLEISS.analysis("1.1"), label_left="Favours aspirin", label_right="Favours placebo",
                experimental_label="Aspirin", control_label="Placebo")
    d = resolve(s)
    assert (d.left, d.right, d.basis, d.better) == ("Favours aspirin", "Favours placebo", "package labels", "lower")


def test_revman_default_labels_establish_no_direction():
    """RevMan writes 'Favours [experimental]' whatever the outcome: verbatim, but not assessed."""
    s = replace(FLEISS.analysis("1.1"), label_left="Favours [experimental]", label_right="Favours [control]")
    d = resolve(s)
    assert d.left == "Favours [experimental]" and d.better is None


def test_without_labels_or_rules_the_labels_claim_nothing():
    """Rule step 4: 'Lower with <experimental>' / 'Higher with <experimental>', not assessed."""
    d = resolve(FLEISS.analysis("1.1"))
    assert (d.left, d.right, d.better, d.basis) == ("Lower with experimental", "Higher with experimental", None,
                                                     "not assessed")


def test_review_file_rule_gives_direction_with_its_source():
    """Rule step 3: an instrument rule (here: a higher-is-better scale) puts 'Favours
    <experimental>' on the right, with the source that establishes the scale."""
    rule = OutcomeRule(instrument="X scale", better="higher", direction_source="the X manual", outcome=".")
    s = replace(FLEISS.analysis("1.1"), experimental_label="Drug", control_label="Placebo")
    d = resolve(s, (rule,))
    assert (d.left, d.right, d.better, d.source) == ("Favours Placebo", "Favours Drug", "higher", "the X manual")


@pytest.mark.parametrize("aid,better", [
    ("7.22", "higher"),  # EQ-5D VAS: 100 = best imaginable health (EuroQol user guide)
    ("11.2", "higher"),  # SF-12 PCS: higher = better (Ware et al. 1996)
    ("8.3", "higher"),  # SF-36 general health: higher = better (Ware & Sherbourne 1992)
    ("1.3", "higher"), ("1.7", "higher"), ("5.3", "higher"), ("7.6", "higher"), ("7.9", "higher"),  # responders
    ("1.21", "lower"), ("1.22", "lower"),  # FIQ: higher = more impact (Burckhardt et al. 1991)
    ("1.1", "lower"), ("7.2", "lower"),  # pain 0-100: 0 = no pain (Farrar et al. 2001)
    ("1.9", "lower"),  # adverse events: unwanted outcomes (Cochrane Handbook ch. 19)
    ("1.20", None),  # Radboud Skills Questionnaire: no source found, not assessed
])
def test_directions_of_the_review(aid, better):
    """The package carries the review file's directions (build-review writes them)."""
    a = judged()[aid].appraisal
    assert a.direction.better == better
    assert a.direction.basis == ("package labels" if better else "not assessed")
    if better:
        assert a.direction.source


def test_no_favours_label_against_the_direction():
    """Editor's check: wherever a direction is set, 'Favours <experimental>' is on the side
    where benefit lies (left when lower is better, right when higher is better)."""
    for aid, it in judged().items():
        d = it.appraisal.direction if it.appraisal else None
        if d is None or d.better is None:
            continue
        exp = it.settings.experimental_label
        fav = d.left if d.better == "lower" else d.right
        assert exp in fav, (aid, d)


def test_eq5d_improvement_is_favoured_to_memantine():
    """Analysis 7.22: MD 16.73 [9.21, 24.25] on the EQ VAS favours memantine (higher is better)."""
    it = judged()["7.22"]
    r = it.pooled
    assert round(r.estimate, 2) == 16.73
    assert it.appraisal.direction.favoured(r.estimate, 0.0) == "experimental"


# ------------------------------------------------------------------ MID

def test_mid_from_the_review_file_and_defaults():
    """Review file: pain 10 points (Busse et al. 2015); defaults: SMD 0.5 (Norman et al. 2003),
    MD 0.5 x pooled SD, ratios RR 0.75/1.25 (GRADE 6)."""
    j = judged()
    assert (j["1.1"].appraisal.mid.low, j["1.1"].appraisal.mid.high, j["1.1"].appraisal.mid.basis) == (
        -10.0, 10.0, "review file")
    assert (j["7.19"].appraisal.mid.size, j["7.19"].appraisal.mid.basis) == (0.5, "default")
    assert (j["1.9"].appraisal.mid.low, j["1.9"].appraisal.mid.high) == (0.75, 1.25)
    ar = j["1.22"].result
    from reviewbook.appraisal.mid import pooled_sd_of

    assert j["1.22"].appraisal.mid.size == pytest.approx(0.5 * pooled_sd_of(ar))
    # HADS 1.5 (Puhan et al. 2008) and EQ VAS 7 (Pickard et al. 2007), from the review file
    assert j["7.20"].appraisal.mid.size == 1.5 and j["7.22"].appraisal.mid.size == 7.0


def test_mid_regions():
    """Three ranges (GRADE 34): important below, trivial, important above."""
    m = Mid(-10, 10, 10, "points", "review file", "s", "t")
    assert m.regions(-5, 5) == 1 and m.regions(-15, 5) == 2 and m.regions(-15, 15) == 3
    assert m.regions(-10, 10) == 1  # a limit on a threshold does not reach past it


# ------------------------------------------------------------------ GRADE domains

LOW, SOME, HIGH, NR = "Low risk", "Some concerns", "High risk", "Not reported"
D = ("Bias arising from the randomization process", "Bias due to deviations from intended interventions",
     "Bias due to missing outcome data", "Bias in measurement of the outcome",
     "Bias in selection of the reported result", "Overall bias")


def judgements(*values):
    return dict(zip(D, values))


def test_unreported_rob2_domains_make_a_result_at_unclear_risk():
    """Cochrane Handbook 5.1, 8.5.3 and Table 12.2.d: insufficient information is 'unclear
    risk'; RoB 2 (Sterne et al. 2019): the overall judgement needs every domain.  Results
    judged on the randomisation domain only are at unclear risk, and with all the weight
    unclear the evidence is rated down once (Table 12.2.d: unclear risk, one level)."""
    rows = [(60, judgements(LOW, NR, NR, NR, NR, NR)), (40, judgements(LOW, NR, NR, NR, NR, NR))]
    d = gr.risk_of_bias(rows)
    assert (d.levels, d.verdict) == (1, "serious")
    assert d.reason.startswith("No result has a full risk-of-bias judgement")
    assert not re.search(r"(?<!\d)0%", d.reason) and "at least" not in d.reason  # never "0% ... at least 0%"


def test_rob_weighs_the_results_without_a_cliff_at_half():
    """Cochrane Handbook 5.1 Table 12.2.d: not rated down only when most information is from
    results at low risk; each result's own rating-down (0 low, 1 unclear or some concerns,
    2 high) is weighed, so high risk counts twice and 49% with concerns plus 20% at high risk
    is rated down, where a rule on one share at 50% would not."""
    full_low, full_some, full_high = judgements(*[LOW] * 6), judgements(*[SOME] * 5, SOME), judgements(*[HIGH] * 6)
    assert gr.risk_of_bias([(60, full_low), (40, full_some)]).levels == 0  # most weight at low risk (Table 12.2.d row 1)
    assert gr.risk_of_bias([(50, full_low), (50, full_some)]).levels == 1  # half is not "most"
    assert gr.risk_of_bias([(69, full_low), (11, full_some), (20, full_high)]).levels == 1  # 0.11 + 0.40 = 0.51
    assert gr.risk_of_bias([(25, full_some), (75, full_high)]).levels == 2  # 0.25 + 1.5: very serious
    d = gr.risk_of_bias([(70, full_low), (30, judgements(LOW, NR, NR, NR, NR, NR))])
    assert d.levels == 0 and "70% of the weight, have a full" in d.reason


def test_the_1_9_case_of_issue_21_is_rated_down():
    """Issue 21: 1.9 (46% 'some concerns' on one domain, the rest unjudged) was not rated down;
    no result has an overall judgement, so all of it is at unclear risk: -1 (Table 12.2.d)."""
    d = judged()["1.9"].appraisal.grade.domain("risk of bias")
    assert d.levels == 1 and d.reason.startswith("No result has a full risk-of-bias judgement")


def test_a_domain_at_high_risk_makes_the_result_high_risk():
    """RoB 2: the overall judgement is the least favourable domain."""
    assert gr.row_judgement(judgements(LOW, NR, HIGH, NR, NR, NR)) == HIGH
    # Table 12.2.d: a share at high risk that affects the interpretation is one level, a crucial one two:
    d = gr.risk_of_bias([(70, judgements(LOW, NR, HIGH, NR, NR, NR)), (30, judgements(*[LOW] * 6))])
    assert d.levels == 1  # weighed rating-down 0.7 x 2 = 1.4
    d = gr.risk_of_bias([(80, judgements(LOW, NR, HIGH, NR, NR, NR)), (20, judgements(*[LOW] * 6))])
    assert (d.levels, d.verdict) == (2, "very serious")  # 1.6
def _result(yi, vi, method="DL"):
    return pooling.meta(effects.generic(np.array(yi, float), np.array(vi, float)), method)


def test_inconsistency_rules():
    """GRADE 7: not applicable with one study; rated down when I² > 50%, P(Q) < 0.10 and the
    estimates point to different conclusions; heterogeneity in size only (all estimates on
    one side) is not rated down."""
    mid = Mid(-10, 10, 10, "points", "review file", "s", "t")
    one = _result([5.0], [4.0])
    assert gr.inconsistency(one, mid, 1).verdict == "not applicable"
    split = _result([-30.0, 25.0, -20.0], [9.0, 9.0, 9.0])
    d = gr.inconsistency(split, mid, 3)
    assert split.i2 > 75 and d.levels == 2
    same_side = _result([-15.0, -60.0, -30.0], [9.0, 9.0, 9.0])
    assert same_side.i2 > 75 and gr.inconsistency(same_side, mid, 3).levels == 0


def test_inconsistency_is_not_judged_from_a_prediction_interval():
    """Issue #15 §2: with I² = 0 the prediction interval of 3 studies (t with 1 df) can be
    very wide; it does not make a downgrade."""
    r = _result([-12.0, -8.0, -10.0], [30.0, 30.0, 30.0])
    assert r.i2 == 0
    assert gr.inconsistency(r, Mid(-10, 10, 10, "points", "r", "s", "t"), 3).levels == 0


def test_imprecision_by_ci_against_the_mid_and_the_ois():
    """GRADE 34 (Zeng et al. 2022): CI in one range: no downgrade by the CI; in two: -1; in
    three: -2.  GRADE 6: fewer participants than the OIS: at least -1; GRADE 34: far below
    the OIS (here under a quarter of it, the stated fraction) more than one level."""
    mid = Mid(-10, 10, 10, "points", "review file", "s", "t")
    r = _result([-20.0, -25.0], [4.0, 4.0])  # CI about -27 to -18: one range
    assert gr.imprecision(r, mid, 500, 200).levels == 0
    assert gr.imprecision(r, mid, 100, 200).levels == 1  # 50% of the OIS: below, not far below
    assert gr.imprecision(r, mid, 49, 200).levels == 2  # 24.5%: far below (GRADE 34)
    assert gr.imprecision(r, mid, 50, 200).levels == 1  # exactly a quarter is not under it
    wide = _result([-20.0, 15.0], [100.0, 100.0])
    assert gr.imprecision(wide, mid, 500, 200).levels == 2


def test_imprecision_minus_three_for_a_very_wide_interval():
    """GRADE 34 and 35: -3 is available when the CI is very wide; the stated rule: it reaches a
    large effect on both sides of no effect (RR below 0.5 and above 2, GRADE 9, Guyatt et al.
    2011; 0.8 SD for continuous outcomes, Cochrane Handbook 5.1, 12.6.2).  Issue 21: 1.3,
    RR 5.00 (0.27 to 94.34), and 4.2, RR 3.5 (0.16 to 78.19), are rated down three levels."""
    j = judged()
    for aid in ("1.3", "4.2"):
        d = j[aid].appraisal.grade.domain("imprecision")
        assert (d.levels, d.verdict) == (3, "extremely serious"), aid
        assert j[aid].appraisal.grade.certainty == "very low"
    ratio = Mid(0.75, 1.25, 0.25, "relative change", "default", "s", "t")
    rr = replace(_result([0.0], [1.0]), ci_low=0.6, ci_high=3.0, estimate=1.3, measure="RR")
    assert gr.imprecision(rr, ratio, 10_000, 100).levels == 2  # crosses both thresholds, 0.6 is not a large benefit
    md = _result([0.0], [200.0])  # CI about -27.7 to 27.7
    assert gr.imprecision(md, Mid(-10, 10, 10, "points", "r", "s", "t"), 10_000, 100, 2, sd=30.0).levels == 3
    assert gr.imprecision(md, Mid(-10, 10, 10, "points", "r", "s", "t"), 10_000, 100, 2, sd=40.0).levels == 2


def test_a_threshold_tie_is_not_an_important_effect():
    """Issue 21: 1.14, RR 0.75 (0.14 to 3.90), read 'may reduce sedation' because 0.75 was
    compared with <=; an effect is important only past the threshold (GRADE 34), so the
    point estimate on it is trivial."""
    ratio = Mid(0.75, 1.25, 0.25, "relative change", "default", "s", "t")
    assert ratio.region(0.75) == 0 and ratio.region(1.25) == 0 and ratio.region(0.7499) == -1
    from reviewbook.appraisal.statements import size_of

    assert size_of(0.75, ratio) == "trivial"
    a = judged()["1.14"].appraisal
    assert "may reduce" not in a.statement and a.grade.certainty == "very low"


def test_a_single_small_trial_is_never_moderate():
    """KCE Process Book 5.5: a single study is rated down for imprecision unless it is a large
    multicentre trial; issue 21 lists 8.1 (n = 40), 1.21 and 4.1 (n = 24), 1.16 (n = 60), 7.20
    and 7.22 (n = 63), each moderate before."""
    j = judged()
    for aid in ("8.1", "1.21", "4.1", "1.16", "7.20", "7.22"):
        g = j[aid].appraisal.grade
        assert g.domain("imprecision").levels >= 1 and g.certainty in ("low", "very low"), aid
    mid = Mid(-10, 10, 10, "points", "review file", "s", "t")
    precise = _result([-20.0], [1.0])
    assert gr.imprecision(precise, mid, 5000, 200, k_studies=1).levels == 1
    assert gr.imprecision(precise, mid, 5000, 200, k_studies=2).levels == 0


def test_far_below_the_ois_costs_two_levels_in_the_review():
    """Issue 21: 1.9 (140 participants against an OIS in the thousands) and 1.12 were rated
    down only once; under a quarter of the OIS is rated down twice (GRADE 34)."""
    j = judged()
    for aid in ("1.9", "1.12"):
        a = j[aid].appraisal
        assert a.count.participants < gr.OIS_FAR * a.ois and a.grade.domain("imprecision").levels == 2, aid


def test_ois_for_a_ratio_outcome():
    """GRADE 6: the OIS for a 25% relative risk reduction at control risk 0.2, alpha 0.05,
    power 0.80 is about 1,800 participants (the GRADE 6 chart reads about 2,000; the formula
    4 (z_a + z_b)^2 pbar(1 - pbar)/(Pc - Pe)^2 gives 1,813)."""
    from reviewbook.engine import ris

    assert ris.information_size_binary(0.2, 0.25, 0.05, 0.20) == pytest.approx(1813.09, abs=0.01)


def test_indirectness_not_assessed_without_a_judgement():
    """GRADE 8; issue 21: where the review file says nothing: 'not assessed, not rated down',
    and no footnote repeats it (the methods page says it once)."""
    d = gr.indirectness({"A": 100.0}, {"A": "A"}, ac.Indirectness(), "outcome")
    assert (d.verdict, d.levels) == ("not assessed", 0) and "not rated down" in d.reason
    g = gr.rate([d])
    assert g.certainty == "high" and g.footnotes() == []
    flagged = ac.Indirectness(True, "basis", "src", (ac.StudyIndirectness("A", "population", "why", "src"),))
    assert gr.indirectness({"A": 60.0, "B": 40.0}, {"A": "A", "B": "B"}, flagged, "outcome").levels == 1
    assert gr.indirectness({"A": 40.0, "B": 60.0}, {"A": "A", "B": "B"}, flagged, "outcome").levels == 0


def test_publication_bias_rules():
    """Sterne et al. 2011: tests of funnel asymmetry only with at least 10 studies; GRADE 5,
    Cochrane Handbook ch. 13: missing evidence when as many studies lack data as have it."""
    assert gr.publication_bias(5, 0.01).levels == 0 and gr.publication_bias(5, 0.01).verdict == "undetected"
    assert gr.publication_bias(10, 0.05).levels == 1
    assert gr.publication_bias(12, 0.30).levels == 0
    assert gr.publication_bias(3, None, ac.MissingEvidence(3, "src")).levels == 1
    assert gr.publication_bias(3, None, ac.MissingEvidence(2, "src")).levels == 0


def test_no_single_small_study_is_rated_high():
    """Editor's check (issue #15): no single study under 200 participants rated high;
    1.20, 7.20 and 11.2 (one trial each) were rated high before."""
    for aid, it in judged().items():
        a = it.appraisal
        if a is None or a.grade is None:
            continue
        if a.count.k == 1 and a.count.participants < 200:
            assert a.grade.certainty != "high", aid
    for aid in ("1.20", "7.20", "11.2"):
        assert judged()[aid].appraisal.grade.certainty != "high"


# ------------------------------------------------------------------ statements (GRADE 26)

def test_statements_follow_the_rating_in_the_review():
    """GRADE 26 (Santesso et al. 2020): 'probably' only for moderate, 'may' only for low, 'the
    evidence is very uncertain' for very low, plain verbs for high; checked on every analysis."""
    from grade_checks import statement_verbs

    from reviewbook.book.runner import collect_results

    checked, problems = statement_verbs(collect_results(PKG, REVIEW))
    assert checked >= 85 and problems == []


def test_statement_without_an_mid_keeps_the_verb_form():
    """GRADE 26: 'X probably reduces Y' (moderate) even where the size cannot be judged."""
    s = replace(FLEISS.analysis("1.1"), name="Pain", experimental_label="Drug", control_label="Placebo")
    none = Mid(None, None, None, "", "not assessed", "", "t")
    # the outcome reads 'the measured pain' where the direction is not assessed (reviewbook.appraisal.phrases)
    assert statement(s, "moderate", -1.0, 0.0, none, False).startswith("Drug probably reduces the measured pain")
    assert statement(s, "low", 1.0, 0.0, none, False).startswith("Drug may increase the measured pain")
    assert statement(s, "high", 1.0, 0.0, none, False).startswith("Drug increases the measured pain")


@pytest.mark.parametrize("certainty,estimate,expected", [
    ("high", -15.0, "Drug reduces pain compared with placebo."),
    ("moderate", -15.0, "Drug probably reduces pain compared with placebo."),
    ("low", 15.0, "Drug may increase pain compared with placebo."),
    ("low", -5.0, "Drug may result in little to no difference in pain compared with placebo."),
    ("moderate", 5.0, "Drug probably results in little to no difference in pain compared with placebo."),
    ("very low", -15.0, "The evidence is very uncertain about the effect of drug on pain compared with placebo."),
])
def test_grade26_statements(certainty, estimate, expected):
    # lower pain is better (Farrar et al. 2001, as data/CD015373 states it): with a direction the
    # outcome phrase is the name ('the measured pain' where the direction is not assessed)
    s = replace(FLEISS.analysis("1.1"), name="Pain", experimental_label="Drug", control_label="Placebo",
                direction="lower")
    assert statement(s, certainty, estimate, 0.0, Mid(-10, 10, 10, "points", "r", "s", "t"), False) == expected


@pytest.mark.parametrize("name,expected", [
    # responder outcome names as CD015373's data rows write them (analysis 1.7; analysis 6.3, topical ketamine versus amitriptyline)
    ("Pain intensity (≥ 50% reduction), short-term follow-up",
     "Drug may increase the number of people with a reduction of at least 50% in pain intensity, "
     "short-term follow-up compared with placebo."),
    ("Drug versus placebo: pain intensity (≥30% response), short-term follow-up",
     "Drug may increase the number of people with a response of at least 30% in pain intensity, "
     "short-term follow-up compared with placebo."),
    ("Serious adverse events", "Drug may increase the number of people with serious adverse events compared with placebo."),
])
def test_dichotomous_statements_name_the_event(name, expected):
    """GRADE 26 (Santesso et al. 2020, Table 3): a dichotomous outcome is said as the
    people with the event; a responder threshold is said as the event it is."""
    s = replace(FLEISS.analysis("1.1"), name=name, experimental_label="Drug", control_label="Placebo")
    assert statement(s, "low", 1.5, 1.0, Mid(0.75, 1.25, 1.25, "ratio", "r", "s", "t"), True) == expected


# ------------------------------------------------------------------ absolute effects

def test_absolute_effects_handbook_examples():
    """Cochrane Handbook 5.1, 12.5.4.2: RR 0.92 at ACR 0.3 gives 24 fewer per 1,000;
    12.5.4.3: OR 0.73 at ACR 0.3 gives 62 fewer per 1,000."""
    assert 1000 * (0.3 - ab.corresponding_risk(0.3, "RR", 0.92)) == pytest.approx(24, abs=0.5)
    assert 1000 * (0.3 - ab.corresponding_risk(0.3, "OR", 0.73)) == pytest.approx(62, abs=0.5)


def test_assumed_risk_is_the_study_population_risk():
    """GRADEpro's 'study population' assumed risk: control-arm events over control-arm
    participants of the studies.  Issue 21: 1.12 (control arms 0/32, 0/10 and 5/30) had a
    median of 0 and a pooled risk difference beside RR 5.29; the study population's risk is
    5 in 72, and the absolute effect follows the ratio."""
    from reviewbook.appraisal.counting import study_population_risk

    j = judged()
    ar = j["1.12"].result
    risk, e, n = study_population_risk(ar)
    arms = [(int(a["Control cases"]), int(a["Control N"])) for a in (ar.row_arms or ar.arms)]
    assert (e, n) == (sum(x for x, _ in arms), sum(y for _, y in arms)) and risk == e / n > 0
    a = j["1.12"].appraisal.absolute
    assert a.kind == "ratio" and a.assumed_risk == risk and "GRADEpro" in a.footnotes[0]
    r = j["1.12"].pooled
    assert a.per_1000[0] == pytest.approx(1000 * risk * r.estimate)  # Handbook 5.1, 12.5.4.2: ACR x RR
    assert all(d > 0 for d in a.difference)  # RR 5.29 (2.43 to 11.52): more events at every limit


def test_zero_control_risk_shows_arms_and_no_absolute_effect():
    """Handbook 5.1, 12.5.4.2: the corresponding risk is ACR x RR, so at a control risk of 0 a
    relative effect gives no absolute effect; the events and participants per arm are shown
    (issue 21: no risk-difference fallback)."""
    ar = judged()["1.12"].result
    rows = ar.row_arms or ar.arms
    zero = replace(ar, arms=[dict(a, **{"Control cases": 0}) for a in ar.arms],
                   row_arms=[dict(a, **{"Control cases": 0}) for a in rows])
    a = ab.ratio_effect(zero)
    assert a.kind == "zero control risk" and a.difference is None and "per 1,000" not in a.intervention
    assert a.control.startswith("0/") and "cannot give an absolute one" in a.footnotes[0]
    assert all(f"{r['Study']}: " in a.footnotes[0] for r in rows)


def test_absolute_effect_never_points_against_the_relative_effect():
    """The guard fires on an absolute effect whose CI points the other way (issue 21: RR 5.29
    (2.43 to 11.52) beside '193 fewer to 720 more'); the review's analyses all pass."""
    with pytest.raises(ValueError):
        ab.check_direction((5.29, 2.43, 11.52), (264.0, -193.0, 720.0))
    ab.check_direction((0.75, 0.14, 3.90), (-83.0, -285.0, 667.0))
    from grade_checks import absolute_directions

    from reviewbook.book.runner import collect_results

    checked, problems = absolute_directions(collect_results(PKG, REVIEW))
    assert checked >= 40 and problems == []


def test_absolute_effects_of_the_review():
    """A bound above 1,000 is capped and says so (1.14: RR up to 3.90 at 2 in 6); a
    non-estimable analysis shows its real events (1.19: 0/6 and 0/8, the data rows)."""
    j = judged()
    for aid, it in j.items():
        a = it.appraisal
        if a is not None:
            assert "0 per 1,000 (0 to 0)" not in a.absolute.intervention, aid
    assert j["1.14"].appraisal.absolute.capped and "capped" in j["1.14"].appraisal.absolute.intervention
    assert (j["1.19"].appraisal.absolute.control, j["1.19"].appraisal.absolute.intervention) == ("0/6", "0/8")
    assert j["1.19"].appraisal.count.participants == 14


def test_continuous_control_values_say_what_they_are():
    """GRADE 13: the control mean beside the mean difference; the data rows do not say whether
    the means are final values or changes from baseline, so the book says 'not reported' and
    shows no range (a range of change scores is not the scale's)."""
    a = judged()["1.4"].appraisal.absolute
    assert "not reported" in a.control and "range" not in a.control
    ar = judged()["1.4"].result
    final = replace(ar, arms=[dict(x, **{"Mean type": "final value"}) for x in ar.arms],
                    row_arms=[dict(x, **{"Mean type": "final value"}) for x in (ar.row_arms or ar.arms)])
    f = ab.mean_effect(final)
    assert "(final values)" in f.control and "range" in f.control


# ------------------------------------------------------------------ counting and few studies

def test_studies_are_counted_not_rows():
    """Dadabayev 2020 fills two rows of 2.1 (two participant groups): one study."""
    c = count(judged()["2.1"].result)
    assert c.k == 1 and c.rows == 2 and c.repeated == (("Dadabayev 2020", 2),)
    assert c.text().endswith("(1 RCT)")


def test_leave_one_out_removes_a_study_with_all_its_rows():
    es = effects.generic(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 1.0]),
                         study=["A (1)", "A (2)", "B", "C"])
    out = pooling.leave_one_out(es, "FE", clusters=["A", "A", "B", "C"])
    assert [name for name, _ in out] == ["A", "B", "C"]
    assert out[0][1].k == 2 and out[1][1].k == 3


def test_hksj_is_always_shown_in_its_ad_hoc_form():
    """Knapp and Hartung 2003 (the ad hoc factor max(1, q)); Jackson et al. 2017 and Röver et
    al. 2015 (the plain form can be narrower than the Wald interval, with two studies most of
    all): every HKSJ result the book shows is ad hoc, with a note exactly where q < 1."""
    j = judged_all(PKG, REVIEW, {"ci_method": "HKSJ", "model": "random"})
    two = [it for it in j.values() if it.pooled is not None and it.appraisal.count.k == 2]
    many = [it for it in j.values() if it.pooled is not None and it.appraisal.count.k >= 3]
    assert two and many
    for it in two + many:
        assert it.result.hksj == "adhoc" and bool(it.notes) == (it.pooled.hksj_q < 1)


def test_subgroup_views_are_found_from_the_rows():
    """An analysis with subgroups whose rows all appear in an analysis of the same
    comparison without subgroups is a subgroup view of it (Cochrane Handbook 10.11)."""
    parents = subgroup_parents(PKG)
    for child, parent in parents.items():
        assert child.split(".")[0] == parent.split(".")[0]
        assert any(str(x).strip() for x in PKG.rows_of(child)["Subgroup"])
    assert parents.get("1.2") == "1.1" and parents.get("7.3") == "7.2" and "1.1" not in parents


def test_p_values_as_revman_writes_them():
    assert [fmt_p(p) for p in (0.1269, 0.0094, 0.0002, 0.000004)] == [
        "P = 0.13", "P = 0.009", "P = 0.0002", "P < 0.00001"]


def test_mid_for_without_any_basis_is_not_assessed():
    """A generic estimate of unknown units: no MID, and the statement says so."""
    ar = an.run(FLEISS, "1.1")
    m = mid_for(ar, ac.Config())
    assert m.assessed  # OR: the 25% default applies
    gen = replace(ar, settings=replace(ar.settings, measure_code="GEN"),
                  result=replace(ar.result, measure="GEN"))
    assert not mid_for(gen, ac.Config()).assessed
